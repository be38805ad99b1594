"""The compensation panel: values shown in ephys units, edits sent as SetAmplifier
changes in SI, every box limited to the range the Amplifier validates with (one table,
rig.amplifier.circuit.RANGES), what is left to refuse refused in place with the engine's
message, Auto, lock, Ideal, Comp off and the headstage range; and in the window,
changes reach the engine."""

import math
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QSettings

from rig.acquisition import commands as c
from rig.amplifier.circuit import RANGES, Amplifier
from rig.model.cell import load_cell
from ui.look import theme
from ui.panels.compensation_panel import CompensationPanel
from ui.window.main_window import MainWindow

WAIT_MS = 15_000


@pytest.fixture
def panel(qtbot):
    cell = load_cell("model-cell")
    widget = CompensationPanel(Amplifier.for_cell(cell), cell.capacitance_pf * 1e-12)
    qtbot.addWidget(widget)
    widget.show()
    sent = []
    widget.changesRequested.connect(sent.append)
    widget.sent = sent
    return widget


def test_shows_the_electrode_in_ephys_units(panel):
    assert panel.spins["series_resistance"].value() == pytest.approx(10.0)
    assert panel.spins["pipette_capacitance"].value() == pytest.approx(4.0)
    assert panel.spins["seal_resistance"].text() == "∞ (perfect)"
    assert panel.filter_combo.currentText() == "Bypass"


def test_an_edit_is_sent_in_si(panel):
    panel.spins["series_resistance"].setValue(12.5)
    assert panel.sent == [(("series_resistance", pytest.approx(12.5e6)),)]
    assert panel.amplifier.series_resistance == pytest.approx(12.5e6)
    panel.spins["seal_resistance"].setValue(2.0)
    assert panel.sent[-1] == (("seal_resistance", pytest.approx(2e9)),)
    panel.spins["seal_resistance"].setValue(0.0)
    assert math.isinf(panel.sent[-1][0][1])


def test_bad_values_are_refused_in_place(panel, qtbot):
    messages = []
    panel.message.connect(messages.append)
    panel.spins["seal_resistance"].setValue(0.001)  # 1 MOhm: not a seal
    assert panel.sent == []
    assert "seal resistance must be 0.01 to inf GOhm, got 0.001 GOhm" in panel.error_label.text()
    assert panel.error_label.isVisible()
    assert panel.spins["seal_resistance"].text() == "∞ (perfect)"  # put back
    assert messages and "seal" in messages[0]
    panel.spins["series_resistance"].setValue(20.0)  # a good value clears the message
    assert not panel.error_label.isVisible()


@pytest.mark.parametrize("field", sorted(set(RANGES) - {"seal_resistance", "filter_hz"}))
def test_every_box_spans_exactly_the_amplifiers_range(panel, field):
    """One range per quantity: the box stops where the Amplifier does, and its top is
    accepted as typed (the issue: 1000 pF was refused, and the box went to 5000 pF)."""
    spin = panel.spins[field]
    assert (spin.minimum(), spin.maximum()) == (RANGES[field].low, RANGES[field].high)
    spin.setValue(spin.maximum() * 10)  # clamped by the box, then accepted
    assert dict(panel.sent[-1])[field] == pytest.approx(RANGES[field].high
                                                         * RANGES[field].si_per_unit)
    assert not panel.error_label.isVisible()


def test_the_range_combo_sets_the_feedback_resistor(panel):
    panel.range_combo.setCurrentIndex(panel.range_combo.findData(500e6))
    assert panel.sent[-1] == (("feedback_resistance", 500e6),)
    assert panel.range_combo.currentText() == "500 MΩ  ±20 nA"
    assert [panel.range_combo.itemText(i).split("±")[1] for i in range(4)] == [
        "200 nA", "20 nA", "2 nA", "200 pA"]


def test_prediction_and_correction_are_locked_together(panel):
    panel.spins["rs_correction"].setValue(80)
    assert dict(panel.sent[-1]) == {"rs_correction": pytest.approx(0.8),
                                    "rs_prediction": pytest.approx(0.8)}
    assert panel.spins["rs_prediction"].value() == 80
    panel.spins["rs_correction"].setValue(100)  # prediction stops at its 98 % limit
    assert dict(panel.sent[-1])["rs_prediction"] == pytest.approx(0.98)
    panel.lock_box.setChecked(False)
    assert panel.spins["rs_prediction"].maximum() == 98  # its box stops there too
    panel.spins["rs_prediction"].setValue(50)
    assert panel.sent[-1] == (("rs_prediction", pytest.approx(0.5)),)
    assert panel.amplifier.rs_correction == pytest.approx(1.0)


def test_auto_buttons_set_the_true_values(panel):
    panel.whole_cell_auto.click()
    assert dict(panel.sent[-1]) == {"whole_cell_capacitance": pytest.approx(33e-12),
                                    "whole_cell_resistance": pytest.approx(10e6)}
    assert panel.spins["whole_cell_capacitance"].value() == pytest.approx(33.0)
    panel.fast_auto.click()
    assert panel.sent[-1] == (("fast_compensation", pytest.approx(4e-12)),)
    panel.bridge_auto.click()
    assert panel.sent[-1] == (("bridge", pytest.approx(10e6)),)


def test_ideal_switches_every_artefact_off_and_comp_off_zeroes(panel, qtbot):
    panel.filter_combo.setCurrentIndex(panel.filter_combo.findData(2000.0))
    panel.noise_box.setChecked(True)
    panel.hum_combo.setCurrentIndex(panel.hum_combo.findData(50.0))
    panel.digitizer_box.setChecked(True)
    a = panel.amplifier
    assert (a.filter_hz, a.noise, a.hum_hz, a.digitizer) == (2000.0, True, 50.0, True)
    panel.ideal_button.click()
    assert dict(panel.sent[-1]) == {"filter_hz": None, "noise": False, "hum_hz": 0.0,
                                    "digitizer": False}
    assert (panel.filter_combo.currentText(), panel.noise_box.isChecked(),
            panel.hum_combo.currentText(), panel.digitizer_box.isChecked()) == \
        ("Bypass", False, "Hum off", False)
    panel.whole_cell_auto.click()
    panel.set_rs_compensation(0.9)
    with qtbot.waitSignal(panel.settleRequested):
        panel.comp_off_button.click()
    a = panel.amplifier
    assert (a.whole_cell_capacitance, a.rs_correction, a.rs_prediction) == (0, 0, 0)


def test_oscillation_lamp_follows_the_chunks(panel):
    chunk = c.Chunk("continuous", 0, 0, 2e-5, "VC", {"Vm": [0.0], "Im": [0.0]},
                    overload=True, saturated=True)
    panel.show_chunks([chunk])
    assert panel.osc_lamp.on
    quiet = c.Chunk("continuous", 0, 0, 2e-5, "VC", {"Vm": [0.0], "Im": [0.0]})
    panel.show_chunks([quiet])
    assert not panel.osc_lamp.on


def test_in_the_window_changes_reach_the_engine(qtbot, qapp, tmp_path):
    theme.apply(qapp)
    window = MainWindow(settings=QSettings(str(tmp_path / "v.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.show()
    try:
        window.set_cell("model-cell")
        window.set_mode("VC")
        window.start()
        panel = window.compensation
        # The panel shows the new cell's electrode once its engine runs.
        qtbot.waitUntil(lambda: panel.amplifier.series_resistance == 10e6, timeout=WAIT_MS)
        panel.filter_combo.setCurrentIndex(panel.filter_combo.findData(2000.0))
        qtbot.waitUntil(lambda: window.session.engine.amplifier.filter_hz == 2000.0,
                        timeout=WAIT_MS)
        # 500 MOhm at gain x500 with the digitiser: +/-40 pA, and the cell holds -127 pA.
        panel.range_combo.setCurrentIndex(panel.range_combo.findData(500e6))
        panel.gain_combo.setCurrentIndex(panel.gain_combo.findData(500))
        panel.digitizer_box.setChecked(True)
        qtbot.waitUntil(lambda: window.panel.overload_lamp.on, timeout=WAIT_MS)
        panel.ideal_button.click()
        qtbot.waitUntil(lambda: not window.session.engine.amplifier.digitizer, timeout=WAIT_MS)
        panel.spins["seal_resistance"].setValue(0.005)  # 5 MOhm: refused, nothing sent
        assert "seal resistance" in window.last_error
        assert math.isinf(window.session.engine.amplifier.seal_resistance)
    finally:
        window.close()
    assert not window.client.runner._thread.is_alive()


def test_cell_capacitance_spin_requests_the_new_value(panel, qtbot):
    with qtbot.waitSignal(panel.capacitanceRequested) as blocker:
        panel.cm_spin.setValue(20.0)
    assert blocker.args[0] == pytest.approx(20e-12)


def test_the_cell_capacitance_box_spans_the_cells_range(panel, qtbot):
    panel.set_cell(load_cell("model-cell"))  # 3300 um^2 at 0.1-10 uF/cm^2: 3.3 to 330 pF
    assert (panel.cm_spin.minimum(), panel.cm_spin.maximum()) == (3.3, 330.0)
    with qtbot.waitSignal(panel.capacitanceRequested) as blocker:
        panel.cm_spin.setValue(5000.0)  # the box stops at the top, which is accepted
    assert blocker.args[0] == pytest.approx(330e-12)
    assert not panel.error_label.isVisible()
    panel.set_cell(load_cell("hh-squid"))
    assert (panel.cm_spin.minimum(), panel.cm_spin.maximum()) == (1.0, 100.0)
    assert panel.cm_spin.value() == pytest.approx(10.0)
