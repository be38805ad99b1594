"""Qt tests run headless: the offscreen platform is chosen before any Qt import.

The shared window fixtures: ``settings`` (a temporary INI file, never the user's),
``make_window`` (opens rig windows at 1280x800 in the dark look and closes them after
the test, checking that each engine thread stopped and each recording finished) and
``window`` (one such window). A test file that needs a variant overrides them."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QSettings

from ui.look import theme
from ui.window.main_window import MainWindow


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "vrig.ini"), QSettings.IniFormat)


@pytest.fixture
def make_window(qtbot, qapp, settings):
    """make(**kwargs) -> a shown MainWindow(**kwargs); settings defaults to the
    fixture's, so windows made in one test share their settings file."""
    theme.apply(qapp)
    windows = []

    def make(**kwargs):
        kwargs.setdefault("settings", settings)
        window = MainWindow(**kwargs)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.confirm_close = False  # a question about an open recording would hang
        window.close()
        assert not window.client.runner._thread.is_alive()
        assert not window.recording.finishing  # closing finished the recording's files


@pytest.fixture
def window(make_window):
    return make_window()
