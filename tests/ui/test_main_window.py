"""The rig window driven as a student would: modes, the knob, protocols, keyboard, bad
input, settings, closing (recording: tests/ui/test_recording_controls.py)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt

from rig.acquisition import commands as c

WAIT_MS = 15_000


class Collector:
    """Keeps every chunk and event the window receives."""

    def __init__(self, window):
        self.chunks = []
        self.events = []
        window.client.chunks.connect(self.chunks.extend)
        window.client.event.connect(self.events.append)

    def kinds(self):
        return [e.kind for e in self.events]


def test_switching_mode_while_running_keeps_the_cell(window, qtbot):
    got = Collector(window)
    window.start()
    qtbot.waitUntil(lambda: len(got.chunks) > 5, timeout=WAIT_MS)
    qtbot.mouseClick(window.panel.mode_buttons["VC"], Qt.LeftButton)
    qtbot.waitUntil(lambda: any(ch.mode == "VC" for ch in got.chunks), timeout=WAIT_MS)
    i = next(k for k, ch in enumerate(got.chunks) if ch.mode == "VC")
    before, after = got.chunks[i - 1].signals["Vm"][-1], got.chunks[i].signals["Vm"][0]
    assert abs(after - before) < 1e-3  # at -65 mV in CC and held at -65 mV: no jump
    assert window.panel.knob.unit == "mV" and window.panel.knob.value() == -65.0
    window.panel.knob.dial.setFocus()
    qtbot.keyClick(window.panel.knob.dial, Qt.Key_Down)
    qtbot.mouseClick(window.panel.mode_buttons["CC"], Qt.LeftButton)
    assert window.panel.knob.value() == 0.0
    qtbot.mouseClick(window.panel.mode_buttons["VC"], Qt.LeftButton)
    assert window.panel.knob.value() == -66.0  # each mode remembers its holding
    assert window.scopes.scope.plots["command"].getAxis("left").labelUnits == "V"


def test_turning_the_knob_until_the_cell_fires(window, qtbot):
    got = Collector(window)
    qtbot.keyClick(window, Qt.Key_Space)  # space starts
    qtbot.waitUntil(lambda: window.session.running, timeout=WAIT_MS)
    assert window.panel.run_lamp.on
    dial = window.panel.knob.dial
    dial.setFocus()
    for _ in range(24):  # 5 pA per step, to 120 pA: above the HH rheobase
        qtbot.keyClick(dial, Qt.Key_Up)
    assert window.session.holding("CC") == 120.0
    qtbot.waitUntil(lambda: any(ch.signals["Vm"].max() > 0 for ch in got.chunks[-200:]),
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "-" in window.panel.vm_readout.text()
                    or "mV" in window.panel.vm_readout.text(), timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key_Space)  # and stops
    qtbot.waitUntil(lambda: not window.session.running, timeout=WAIT_MS)
    assert not window.panel.run_lamp.on


def test_shipped_protocol_runs_episodically(window, qtbot):
    got = Collector(window)
    window.session.speed = None  # as fast as possible for the family
    protocol = window.protocols.load_shipped("vc-iv-family")
    assert protocol is not None and protocol.mode == "VC"
    with qtbot.waitSignal(window.protocols.runRequested):
        window.protocols.run_current()
    qtbot.waitUntil(lambda: "protocol_done" in got.kinds(), timeout=WAIT_MS)
    assert window.session.mode == "VC"
    assert window.scopes.scope.style == "episodic"
    sweeps = {ch.sweep for ch in got.chunks if ch.kind == "sweep"}
    assert sweeps == set(range(protocol.sweeps))
    qtbot.waitUntil(
        lambda: sum(cv.isVisible() for cv in window.scopes.scope.sweep_curves["Im"]) >= 8,
        timeout=WAIT_MS)
    inward = min(ch.signals["Im"].min() for ch in got.chunks if ch.kind == "sweep")
    assert inward < -1e-9  # the sodium current of the family, in nA
    qtbot.mouseClick(window.scopes.clear_button, Qt.LeftButton)
    assert not any(cv.isVisible() for cv in window.scopes.scope.sweep_curves["Im"])


def test_bad_values_are_reported_and_the_rig_keeps_running(window, qtbot, tmp_path):
    got = Collector(window)
    window.start()
    qtbot.waitUntil(lambda: window.session.running, timeout=WAIT_MS)
    window.panel.knob.entry.setText("lots")
    window.panel.knob.entry.editingFinished.emit()
    assert "not a number" in window.last_error
    window.client.send(c.SetHolding("CC", 1.0))  # 1 A: the engine refuses it
    qtbot.waitUntil(lambda: "error" in got.kinds(), timeout=WAIT_MS)
    assert "holding" in window.last_error
    designer = window.protocols.designer
    if designer is not None:
        window.protocols.load_shipped("cc-threshold")
        designer.holding_edit.selectAll()
        qtbot.keyClicks(designer.holding_edit, "-6x5")
        assert designer.protocol() is None
        window.protocols.run_current()
        assert "protocol" in window.last_error
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "vrig-protocol", "version": 1, "mode": "XX", "epochs": []}')
    if designer is None:
        assert window.protocols.load_file(bad) is None and "mode" in window.last_error
    n = len(got.chunks)
    qtbot.waitUntil(lambda: len(got.chunks) > n + 5, timeout=WAIT_MS)
    assert window.session.running


def test_settings_survive_a_restart(make_window, qtbot):
    first = make_window()
    first.set_mode("VC")
    first.set_holding("VC", -80.0)
    first.set_holding("CC", 35.0)
    first.scopes.set_visible_traces(["INa", "n"])
    first.panel.speed_combo.setCurrentIndex(first.panel.speed_combo.findData(0.1))
    first.close()
    second = make_window()
    assert second.session.mode == "VC"
    assert second.session.holdings == {"VC": -80.0, "CC": 35.0}
    assert second.session.speed == 0.1
    assert second.scopes.visible_traces() == ["INa", "n"]
    assert "currents" in second.scopes.scope._visible_panels()


def test_solutions_and_temperature_survive_a_restart(make_window, qtbot, settings):
    first = make_window()
    assert first.bath.solutions.set_ion("bath", "Na", 44.0)
    assert first.bath.solutions.set_temperature(10.0)
    first.close()
    second = make_window()
    shown = second.bath.solutions
    assert shown.solutions["bath"].mm("Na") == 44.0 and shown.temperature_c == 10.0
    # the engine got them too: once its worker has applied the commands
    second.start()
    qtbot.waitUntil(lambda: second.session.running, timeout=WAIT_MS)
    assert second.session.engine.bath.mm("Na") == 44.0
    assert second.session.engine.temperature_c == 10.0
    second.close()
    settings.setValue("bath_settings", "{not json")  # a damaged file is ignored
    third = make_window()
    assert third.bath.solutions.solutions["bath"].mm("Na") == 440.0


def test_changing_cell_rebuilds_the_engine(window, qtbot):
    got = Collector(window)
    window.start()
    qtbot.waitUntil(lambda: window.session.running, timeout=WAIT_MS)
    old = window.client.runner
    window.set_cell("cortical-neuron")
    assert not old._thread.is_alive()
    qtbot.waitUntil(lambda: window.session.running, timeout=WAIT_MS)
    assert window.session.engine.cell.name == "cortical-neuron"
    n = len(got.chunks)
    qtbot.waitUntil(lambda: len(got.chunks) > n + 5, timeout=WAIT_MS)
    assert abs(got.chunks[-1].signals["Vm"][-1] + 0.070) < 0.005  # rests near -70 mV
