"""The Gradients tab: live concentrations, pump current and rate, and the energy of a
pump cycle, from the runner's chunks; switching the pump on gives a new engine with
it; fast-forward runs the cell down under ouabain."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from rig.acquisition import commands as c
from rig.acquisition.snapshot import RigState
from rig.clamp import Mode
from rig.frozen import FrozenMap
from rig.model import gradients
from rig.simulation.engine import Rig
from ui.panels.gradients_panel import GradientsPanel
from ui.window.main_window import MainWindow

WAIT_MS = 15_000


def value(panel, name):
    return float(panel.values[name].text())


def test_readouts_follow_the_chunks(qtbot):
    rig = Rig.from_presets("hh-squid", accumulation=True, pump=True)
    rig.set_mode("I0")
    panel = GradientsPanel(RigState.of(rig))
    qtbot.addWidget(panel)
    assert panel.accumulation.isChecked() and panel.pump.isChecked()
    signals = rig.advance(np.zeros(2000), 1e-5)
    panel.show_chunks([c.Chunk("continuous", 0, 0, 1e-5, Mode.I0, FrozenMap(signals))])
    inside = rig.ions.inside_mm()
    assert value(panel, "Na_in") == pytest.approx(inside["Na"], rel=1e-3)
    assert value(panel, "K_out") == pytest.approx(rig.ions.k_out_mm(), rel=1e-3)
    i_pump = signals["Ipump"][-1]
    assert value(panel, "Ipump") == pytest.approx(i_pump * 1e12, rel=1e-3)
    # pA / F over 1000 um^2 = 1e-5 cm^2, in pmol/cm^2/s
    assert value(panel, "rate") == pytest.approx(i_pump / 96485.33212 / 1e-5 * 1e12, rel=1e-3)
    work = gradients.cycle_work_kj_per_mol(inside, rig.ions.outside_mm(),
                                           signals["Vmem"][-1] * 1e3, rig.temperature_c)
    assert value(panel, "work") == pytest.approx(work, rel=1e-3)
    assert 30 < value(panel, "work") < value(panel, "atp") < 60


def test_window_switches_the_pump_on_and_fast_forwards(qtbot, qapp, tmp_path):
    window = MainWindow(settings=QSettings(str(tmp_path / "v.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    try:
        panel = window.bath.gradients
        assert not panel.pump.isChecked() and not panel.fast_forward.isEnabled()
        window.set_mode("I0")
        window.set_gradients(True, True)
        qtbot.waitUntil(lambda: window.session.engine.metadata.get("pump") == "on",
                        timeout=WAIT_MS)
        assert panel.pump.isChecked() and panel.fast_forward.isEnabled()
        window.start()
        qtbot.waitUntil(lambda: value(panel, "Ipump") > 10, timeout=WAIT_MS)  # ~17 pA
        window.client.send(c.ApplyDrug("ouabain", 1e-3, "outside"))
        panel.minutes.setValue(60.0)
        panel.fast_forward.click()
        # an hour without the pump: Na inside rises from 55 mM by about 17 mM
        qtbot.waitUntil(lambda: value(panel, "Na_in") > 65, timeout=WAIT_MS)
        assert window.session.running
        # the speed readout restarts its clock after the jump of an hour (it showed
        # "1111x real time" when it measured across the jump)
        qtbot.waitUntil(lambda: window._clock is not None and window._clock[1] > 3000,
                        timeout=WAIT_MS)
    finally:
        window.close()
    assert not window.client.runner._thread.is_alive()
