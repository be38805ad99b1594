"""The compensation panel: values shown in ephys units, edits sent as SetAmplifier
changes in SI, bad values refused in place with the engine's message, Auto, lock,
Ideal and Comp off; and in the window, changes reach the engine."""

import math
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from rig import commands as c  # noqa: E402
from rig.cell import load_cell  # noqa: E402
from ui import theme  # noqa: E402
from ui.compensation_panel import CompensationPanel  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402

WAIT_MS = 15_000


@pytest.fixture
def panel(qtbot):
    cell = load_cell("model-cell")
    widget = CompensationPanel(cell.electrode(), cell.capacitance_pf * 1e-12)
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
    assert "seal resistance must be above 1 MOhm" in panel.error_label.text()
    assert panel.error_label.isVisible()
    assert panel.spins["seal_resistance"].text() == "∞ (perfect)"  # put back
    assert messages and "seal" in messages[0]
    panel.spins["series_resistance"].setValue(1500.0)
    assert "series resistance must be 0 to 1000 MOhm" in panel.error_label.text()
    assert panel.spins["series_resistance"].value() == pytest.approx(10.0)
    panel.spins["series_resistance"].setValue(20.0)  # a good value clears the message
    assert not panel.error_label.isVisible()


def test_prediction_and_correction_are_locked_together(panel):
    panel.spins["rs_correction"].setValue(80)
    assert dict(panel.sent[-1]) == {"rs_correction": pytest.approx(0.8),
                                    "rs_prediction": pytest.approx(0.8)}
    assert panel.spins["rs_prediction"].value() == 80
    panel.spins["rs_correction"].setValue(100)  # prediction stops at its 98 % limit
    assert dict(panel.sent[-1])["rs_prediction"] == pytest.approx(0.98)
    panel.lock_box.setChecked(False)
    count = len(panel.sent)
    panel.spins["rs_prediction"].setValue(100)
    assert len(panel.sent) == count
    assert "Rs prediction must be 0 to 98 %" in panel.error_label.text()
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
        qtbot.waitUntil(lambda: window.client.rig.amplifier.filter_hz == 2000.0, timeout=WAIT_MS)
        # Gain x500 with the digitiser: +/-40 pA range, and the cell holds -127 pA.
        panel.gain_combo.setCurrentIndex(panel.gain_combo.findData(500))
        panel.digitizer_box.setChecked(True)
        qtbot.waitUntil(lambda: window.panel.overload_lamp.on, timeout=WAIT_MS)
        panel.ideal_button.click()
        qtbot.waitUntil(lambda: not window.client.rig.amplifier.digitizer, timeout=WAIT_MS)
        panel.spins["pipette_capacitance"].setValue(250.0)  # refused: nothing sent
        assert "pipette capacitance" in window.last_error
        assert window.client.rig.amplifier.pipette_capacitance == pytest.approx(4e-12)
    finally:
        window.close()
    assert not window.client.runner._thread.is_alive()


def test_cell_capacitance_spin_requests_the_new_value(panel, qtbot):
    with qtbot.waitSignal(panel.capacitanceRequested) as blocker:
        panel.cm_spin.setValue(20.0)
    assert blocker.args[0] == pytest.approx(20e-12)


def test_a_cell_capacitance_outside_the_cells_range_is_refused_in_place(panel, qtbot):
    from rig.cell import load_cell

    panel.cell = load_cell("model-cell")  # 3300 um^2: 3.3 to 330 pF
    before = panel.cell_capacitance_f
    with qtbot.assertNotEmitted(panel.capacitanceRequested):
        panel.cm_spin.setValue(5000.0)
    assert "3.3 to 330 pF" in panel.error_label.text()
    assert panel.cm_spin.value() == pytest.approx(before * 1e12)
