"""`vrig` without a usable display says why instead of letting Qt abort the process."""

import pytest

from rig.errors import VrigError
from ui.cli import check_display


def found(name):
    return f"lib{name}.so.0"


def test_no_display_is_explained():
    with pytest.raises(VrigError, match="DISPLAY is not set"):
        check_display({}, "linux", found)


def test_unreachable_x_display_is_explained():
    with pytest.raises(VrigError, match="cannot reach the X display :4711"):
        check_display({"DISPLAY": ":4711"}, "linux", found)


def test_missing_xcb_libraries_name_the_packages(monkeypatch):
    monkeypatch.setattr("os.path.exists", lambda path: True)
    with pytest.raises(VrigError, match="apt-get install .*libxcb-cursor0"):
        check_display({"DISPLAY": ":0"}, "linux", lambda name: None)


def test_explicit_platform_or_other_systems_are_left_to_qt():
    check_display({"QT_QPA_PLATFORM": "offscreen"}, "linux", lambda name: None)
    check_display({}, "darwin", lambda name: None)
    check_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux", lambda name: None)
