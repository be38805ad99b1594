"""Starting the rig window: ``vrig`` with no subcommand calls :func:`main`."""

import signal
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from ui.look import theme

CLOSING_SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT")


def make_app(argv=None):
    """The QApplication (created once) with the instrument theme applied."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv or ["vrig"]))
        app.setApplicationName("vrig")
        app.setOrganizationName("vRig")
    theme.apply(app)
    return app


def close_on_signals(window):
    """SIGTERM, SIGHUP and Ctrl-C close the window the way its close button does
    (settings saved, any recording finished), without asking. Python runs the handler
    at the window's next timer tick (a few ms later)."""
    def handler(_signum, _frame):
        window.confirm_close = False
        QTimer.singleShot(0, window.close)

    for name in CLOSING_SIGNALS:
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), handler)


def main(options=None):
    """Open the rig window, running, and return the exit status when it closes.
    options: a :class:`ui.window.window_options.WindowOptions` from the command line."""
    from ui.window.main_window import MainWindow

    app = make_app(["vrig"])
    window = MainWindow(autostart=True, options=options)
    window.report_problems(theme.problems(app) + window.startup_problems)
    window.show()
    window.teaching.at_first_start(cell_chosen=options is not None and options.cell is not None)
    if (window.settings.value("welcome_at_start") != "false"
            and window.teaching.wants_welcome()):
        window.help.show_welcome()
    close_on_signals(window)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
