"""Starting the rig window: ``vrig`` with no subcommand calls :func:`main`."""

import sys

from PySide6.QtWidgets import QApplication

from ui import theme


def make_app(argv=None):
    """The QApplication (created once) with the instrument theme applied."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv or ["vrig"]))
        app.setApplicationName("vrig")
        app.setOrganizationName("vRig")
    theme.apply(app)
    return app


def main(argv=None):
    """Open the rig window, running, and return the exit status when it closes."""
    from ui.main_window import MainWindow

    app = make_app(["vrig", *(argv or [])])
    window = MainWindow(autostart=True)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
