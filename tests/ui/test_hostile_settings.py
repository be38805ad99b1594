"""A damaged or hand-edited settings file never stops the window: every bad value is
dropped with a log line naming its key, the window starts with the default, and no
non-finite number reaches a widget (issue 9, items 1-3)."""

import logging
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from PySide6.QtCore import QSettings

from ui.look import theme
from ui.widgets.knob import Knob
from ui.window.main_window import MainWindow
from ui.window.settings_store import SavedSettings

BAD_FILES = {
    "non-finite holdings": "holding_VC_mV=nan\nholding_CC_pA=inf\n",
    "text geometry": "geometry=hello\nwindow_state=42\n",
    "deep bath settings": "bath_settings=" + "[" * 5000 + "]" * 5000 + "\n",
    "bath settings as a list": "bath_settings=a, b, c\n",
    "bad choices": "mode=XX\nspeed=abc\ndisplay=diagonal\nwindow_s=-3\ncell=no-such-cell\n",
    "huge numbers": "holding_VC_mV=1e308\nwindow_s=1e308\nspeed=1e308\n",
    "odd traces": "traces=@ByteArray(\\0\\x1)\n",
    "impossible bath": 'bath_settings="{\\"cell\\": \\"hh-squid\\", \\"temperature_C\\": 1e308, '
                       '\\"bath\\": {\\"name\\": \\"x\\", '
                       '\\"concentrations_mM\\": {\\"Na\\": -5}}, \\"pipette\\": 3}"\n',
    "bath without its solutions": 'bath_settings="{\\"cell\\": \\"hh-squid\\"}"\n',
}


def start_with(tmp_path, qtbot, text):
    path = tmp_path / "vrig.ini"
    path.write_text("[General]\n" + text, encoding="utf-8")
    window = MainWindow(settings=QSettings(str(path), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    return window


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_the_window_starts_with_defaults_and_says_what_it_dropped(tmp_path, qtbot, qapp,
                                                                 caplog, name):
    theme.apply(qapp)
    with caplog.at_level(logging.WARNING, logger="vrig.settings"):
        window = start_with(tmp_path, qtbot, BAD_FILES[name])
    try:
        for mode, default in (("VC", -65.0), ("CC", 0.0)):
            assert window.session.holding(mode) == default or abs(
                window.session.holding(mode)) <= 5000
        assert window.session.mode in ("VC", "CC", "I0")
        assert window.grab().width() == 1280  # painting works (a NaN knob used to raise)
        dropped = [r.getMessage() for r in caplog.records if r.name == "vrig.settings"]
        assert dropped, "a bad value must be reported in the log"
        assert all(msg.startswith("settings: ignoring ") for msg in dropped)
    finally:
        window.close()


def test_non_finite_holdings_are_dropped_and_the_defaults_kept(tmp_path, qtbot, qapp):
    theme.apply(qapp)
    window = start_with(tmp_path, qtbot, BAD_FILES["non-finite holdings"])
    try:
        assert window.session.holdings == {"VC": -65.0, "CC": 0.0}
        assert window.panel.knob.value() == 0.0  # CC is the default mode
    finally:
        window.close()


def test_a_nan_never_reaches_the_knob(qtbot):
    knob = Knob()
    qtbot.addWidget(knob)
    knob.set_value(12.0)
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError):
            knob.set_value(bad)
    assert knob.value() == 12.0
    assert 0.0 <= knob.fraction() <= 1.0
    assert not knob.grab().isNull()


@hsettings(max_examples=60, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.text(max_size=50), st.floats(allow_nan=True),
                       st.lists(st.text(max_size=5), max_size=4), st.none(),
                       st.integers(-2**63, 2**63 - 1), st.binary(max_size=20)))
def test_every_typed_reader_returns_its_type_or_the_default(tmp_path, value):
    qs = QSettings(str(tmp_path / "h.ini"), QSettings.IniFormat)
    qs.setValue("key", value)
    saved = SavedSettings(qs)
    number = saved.number("key", -10.0, 10.0, 1.5)
    assert number == 1.5 or -10.0 <= number <= 10.0
    assert saved.choice("key", ("a", "b"), "a") in ("a", "b")
    assert isinstance(saved.text("key", "d"), str)
    assert all(isinstance(n, str) for n in saved.names("key"))
    assert saved.blob("key") is None or saved.blob("key").size() <= 1_000_000
    parsed = saved.json_object("key")
    assert parsed is None or isinstance(parsed, dict)


def test_a_fresh_settings_file_starts_in_real_time(tmp_path, qtbot, qapp):
    theme.apply(qapp)
    window = start_with(tmp_path, qtbot, "")
    try:
        assert window.session.speed == 1.0
    finally:
        window.close()


@pytest.fixture
def broken_resources(tmp_path, monkeypatch):
    """A copy of the shipped resources in which tests may break files."""
    import shutil

    from rig import resources

    copy = tmp_path / "resources"
    shutil.copytree(resources.resources_dir(), copy)
    monkeypatch.setattr(resources, "resources_dir", lambda: copy)
    monkeypatch.setattr(theme, "resources_dir", lambda: copy)
    return copy


def test_a_broken_default_cell_and_stylesheet_do_not_stop_the_window(
        broken_resources, tmp_path, qtbot, qapp):
    (broken_resources / "cells" / "hh-squid.json").write_text("{ not json", encoding="utf-8")
    (broken_resources / "style" / "rig.qss").write_bytes(b"\xff\xfe\x00 binary")
    problems = theme.apply(qapp)
    assert len(problems) == 1 and "rig.qss" in problems[0] and "plain colours" in problems[0]
    window = start_with(tmp_path, qtbot, "")
    try:
        window.report_problems(theme.problems(qapp) + window.startup_problems)
        assert window.session.engine.cell.name != "hh-squid"  # the next cell that loads
        assert any("hh-squid" in p and "not valid JSON" in p for p in window.startup_problems)
        assert "rig.qss" in window.last_error and "Problems at start" in window.last_error
        assert window.help.problems_action.isVisible()
        window.start()
        qtbot.waitUntil(lambda: window.client.newest is not None, timeout=15_000)
    finally:
        window.close()
        (broken_resources / "style" / "rig.qss").unlink()
        qapp.setStyleSheet("")
