"""The front panel and its knob, driven as a user would (wheel, keys, typing)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from rig.acquisition.commands import Chunk, Event
from rig.acquisition.snapshot import RigState
from rig.session.session import Session
from rig.simulation.engine import Rig
from ui.panels.amplifier_panel import AmplifierPanel, format_current
from ui.widgets.knob import Knob


def wheel(widget, notches, modifiers=Qt.NoModifier):
    """Send a mouse-wheel turn of some notches to a widget."""
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(centre, widget.mapToGlobal(centre), QPoint(0, 0),
                        QPoint(0, int(120 * notches)), Qt.NoButton, modifiers,
                        Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


@pytest.fixture(scope="module")
def squid_state():
    return RigState.of(Rig.from_presets("hh-squid"))


@pytest.fixture
def panel(qtbot, squid_state):
    """A front panel on a session of its own (no engine behind it)."""
    widget = AmplifierPanel(Session(squid_state), ["hh-squid"])
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def knob(qtbot):
    widget = Knob("mV", -100, 100, 1.0)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_wheel_keys_and_drag(knob, qtbot):
    with qtbot.waitSignal(knob.valueChanged) as blocker:
        wheel(knob.dial, 3)
    assert blocker.args == [3.0]
    wheel(knob.dial, -1, Qt.ShiftModifier)
    assert knob.value() == pytest.approx(2.9)
    knob.dial.setFocus()
    qtbot.keyClick(knob.dial, Qt.Key_Up)
    qtbot.keyClick(knob.dial, Qt.Key_PageDown)
    assert knob.value() == pytest.approx(-6.1)
    qtbot.mousePress(knob.dial, Qt.LeftButton, pos=QPoint(40, 60))
    qtbot.mouseMove(knob.dial, QPoint(40, 20))
    qtbot.mouseRelease(knob.dial, Qt.LeftButton, pos=QPoint(40, 20))
    assert knob.value() == pytest.approx(3.9)  # 40 px up = 10 steps


def test_typed_values_and_limits(knob, qtbot):
    qtbot.keyClicks(knob.entry, "\b" * 20)
    knob.entry.setText("-70 mV")
    with qtbot.waitSignal(knob.valueChanged):
        knob.entry.editingFinished.emit()
    assert knob.value() == -70.0
    for bad in ("abc", "nan", "inf", "1e9", ""):
        knob.entry.setText(bad)
        with qtbot.waitSignal(knob.invalidInput) as blocker:
            knob.entry.editingFinished.emit()
        assert knob.value() == -70.0, bad
        assert knob.entry.property("invalid") is True
        assert blocker.args[0]
    wheel(knob.dial, 500)
    assert knob.value() == 100.0  # clamped to the maximum
    assert knob.entry.property("invalid") is False


def test_panel_writes_the_session_and_remembers_holding_per_mode(panel, qtbot):
    session = panel.session
    holdings, modes = [], []
    session.events.holding.connect(lambda change: holdings.append((change.mode, change.level)))
    session.events.mode.connect(modes.append)
    qtbot.mouseClick(panel.mode_buttons["VC"], Qt.LeftButton)
    assert modes == ["VC"] and panel.knob.unit == "mV"
    wheel(panel.knob.dial, 5)
    assert holdings[-1] == ("VC", -60.0) and session.holding_si("VC") == pytest.approx(-0.060)
    qtbot.mouseClick(panel.mode_buttons["CC"], Qt.LeftButton)
    assert panel.knob.unit == "pA" and panel.knob.value() == 0.0
    wheel(panel.knob.dial, 2)
    assert holdings[-1] == ("CC", 10.0) and session.holding_si("CC") == pytest.approx(10e-12)
    qtbot.mouseClick(panel.mode_buttons["I0"], Qt.LeftButton)
    assert not panel.knob.isEnabled()
    qtbot.mouseClick(panel.mode_buttons["VC"], Qt.LeftButton)
    assert panel.knob.value() == -60.0
    assert modes == ["VC", "CC", "I0", "VC"]


def test_panel_shows_what_the_session_says_whoever_changed_it(panel):
    """A lesson or a script drives the session; the panel follows without a click."""
    session = panel.session
    session.mode = "VC"
    session.set_holding("VC", -90.0)
    assert panel.mode_buttons["VC"].isChecked() and panel.knob.value() == -90.0
    session.set_holding("CC", 250.0)  # another mode's holding: the knob stays
    assert panel.knob.value() == -90.0
    session.speed = 10.0
    assert panel.speed_combo.currentData() == 10.0
    session.speed = None
    assert panel.speed_combo.currentData() is None
    session.take(Event("started"))
    assert panel.run_lamp.on and panel.run_button.text().strip().startswith("Stop")
    session.recording = True
    assert panel.record_lamp.on and panel.record_button.isChecked()
    session.take(Event("stopped"))
    assert not panel.run_lamp.on


def _chunk(mode, vm, im, overload=False):
    n = 10
    return Chunk("continuous", 0, 0, 2e-5, mode,
                 {"Vm": np.full(n, vm), "Im": np.full(n, im), "command": np.zeros(n)},
                 overload=overload)


def test_meters_and_overload_lamp(panel):
    panel.show_chunks([_chunk("VC", -0.065, 5e-9)], now=100.0)
    assert "-65.0 mV" in panel.vm_readout.text()
    assert "5.000 nA" in panel.im_readout.text()
    assert not panel.overload_lamp.on
    panel.show_chunks([_chunk("VC", -0.065, 25e-9, overload=True)], now=101.0)
    assert panel.overload_lamp.on
    panel.show_chunks([_chunk("VC", -0.065, 1e-9)], now=101.2)
    assert panel.overload_lamp.on  # held so the eye catches it
    panel.show_chunks([_chunk("VC", -0.065, 1e-9)], now=102.0)
    assert not panel.overload_lamp.on
    assert "1.000 nA" in panel.im_readout.text()
    panel.show_chunks([_chunk("CC", 1.5, 0.0, overload=True)], now=103.0)
    assert panel.overload_lamp.on
    assert format_current(12.34e-12).strip() == "12.3 pA"
    assert "---" in format_current(float("nan"))


def test_a_running_protocol_locks_mode_and_holding(panel):
    panel.session.mode = "VC"
    panel.session.take(Event("protocol_started"))
    assert not any(b.isEnabled() for b in panel.mode_buttons.values())
    assert not panel.knob.isEnabled()
    assert "fixed while a protocol runs" in panel.mode_buttons["CC"].toolTip()
    panel.session.take(Event("protocol_done"))
    assert all(b.isEnabled() for b in panel.mode_buttons.values()) and panel.knob.isEnabled()


def test_a_giant_axon_s_currents_are_shown_in_ua(qtbot):
    from ui.panels.amplifier_panel import format_current
    from ui.panels.quick_stimulus import QuickStimulus, display_unit

    assert display_unit("CC", 5000.0)[:2] == ("pA", 1.0)
    assert display_unit("CC", 2e5)[:2] == ("nA", 1e3)
    assert display_unit("CC", 1e9)[:2] == ("uA", 1e6)
    assert display_unit("VC", 200.0)[:2] == ("mV", 1.0)
    assert format_current(16.5e-6).strip() == "16.500 uA"
    stimulus = QuickStimulus()
    qtbot.addWidget(stimulus)
    stimulus.set_limit("CC", 1e9)  # +/-1 mA in pA
    stimulus.set_default("CC", 16.5e6, 0.1)
    assert stimulus.level.suffix() == " uA" and stimulus.level.value() == 16.5
    stimulus.level.setValue(20.0)  # the student types 20 uA
    pulse = stimulus.fire()
    assert pulse.level == pytest.approx(20e-6)  # A
