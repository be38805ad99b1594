"""Qt tests run headless: the offscreen platform is chosen before any Qt import."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture
def shown_windows(qtbot, qapp):
    """A factory of main windows (settings: a QSettings; other keywords go to MainWindow)
    shown at 1280x800 in the dark theme; each is closed after the test, and its runner
    thread and any recording must have ended."""
    from ui.look import theme
    from ui.window.main_window import MainWindow

    theme.apply(qapp)
    windows = []

    def make(settings, **kwargs):
        window = MainWindow(settings=settings, **kwargs)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.confirm_close = False
        window.close()
        assert not window.client.runner._thread.is_alive()
        assert not window.recording.finishing
