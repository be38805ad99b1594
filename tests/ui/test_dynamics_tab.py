"""The Dynamics tab driven through its widgets: the bifurcation diagram computed off
the GUI thread (Hopf points and the fold of cycles where `vrig bifurcation` puts them:
9.78087, 154.804 and 6.25919 uA/cm2, i.e. x 10 pA on hh-squid's 1000 um2), the present
current following the holding live, the phase plane's trajectory and nullclines, the
f-I curve's bistable band, and the sweep view's curve and heat map."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from rig.dynamics.sweep_point import run_task
from ui.look import theme
from ui.window.main_window import MainWindow
from ui.window.window_options import WindowOptions

WAIT_MS = 60_000
DIAGRAM_WAIT_MS = 240_000  # the full diagram: about 30 s on a quiet machine
HOPF_LOWER_PA = 97.8087  # 9.78087 uA/cm2 on 1000 um2 (vrig bifurcation --cell hh-squid)
HOPF_UPPER_PA = 1548.04
FOLD_PA = 62.5919


@pytest.fixture
def window(qtbot, qapp, tmp_path):
    theme.apply(qapp)
    settings = QSettings(str(tmp_path / "vrig.ini"), QSettings.IniFormat)
    win = MainWindow(settings=settings, options=WindowOptions(cell="hh-squid"))
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    yield win
    win.close()
    for job in (win.dynamics.diagram_job, win.dynamics.fi_job, win.dynamics.sweep.job):
        assert job is None or not job.running()


def _hopf_x(tab):
    x, _ = tab.plot.hopf_marks.getData()
    return [] if x is None else list(x)


def test_the_diagram_marks_the_hopf_points_at_once_and_cancel_stops_it(window, qtbot):
    tab = window.dynamics
    window.tabs.setCurrentWidget(tab)  # shown: the computation starts by itself
    qtbot.waitUntil(lambda: len(_hopf_x(tab)) == 2, timeout=WAIT_MS)
    lower, upper = _hopf_x(tab)
    assert lower == pytest.approx(HOPF_LOWER_PA, abs=1e-3)
    assert upper == pytest.approx(HOPF_UPPER_PA, abs=0.01)
    assert tab.diagram.density(lower) == pytest.approx(9.78087, abs=1e-5)
    # the unstable stretch of equilibria runs between the two Hopf points
    d = tab.diagram
    inside = (d.eq_current_pa > lower + 1) & (d.eq_current_pa < upper - 1)
    assert not d.eq_stable[inside].any() and d.eq_stable[d.eq_current_pa < lower - 1].all()
    assert tab.diagram_row.cancel_button.isEnabled()
    qtbot.mouseClick(tab.diagram_row.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.diagram_row.status.text() == "cancelled", timeout=WAIT_MS)
    assert not tab.diagram_job.running()
    assert tab.diagram_row.start_button.isEnabled()
    assert not tab.cache  # an unfinished diagram is not kept


def test_the_full_diagram_has_the_fold_and_is_cached_per_cell(window, qtbot):
    tab = window.dynamics
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.diagram is not None and tab.diagram.cycles_done,
                    timeout=DIAGRAM_WAIT_MS)
    fold_x, fold_y = tab.plot.fold_marks.getData()
    assert fold_x[0] == pytest.approx(FOLD_PA, abs=1e-3)
    assert tab.diagram.density(fold_x[0]) == pytest.approx(6.25919, abs=1e-4)
    assert fold_y[0] > 0 > fold_y[1]  # the spike's peak and trough at the fold
    assert "fold of cycles 62.59 pA (6.259 uA/cm2)" in tab.diagram_row.status.text()
    d = tab.diagram
    # cycles between the fold and the lower Hopf come in pairs: the large stable one
    # (repetitive firing) and the small unstable one around the stable rest
    band = (d.cycle_current_pa > 70) & (d.cycle_current_pa < 90) & (d.cycle_family == 0)
    assert d.cycle_stable[band].any() and not d.cycle_stable[band].all()
    stable_peaks = d.cycle_v_max_mv[band & d.cycle_stable]
    unstable_peaks = d.cycle_v_max_mv[band & ~d.cycle_stable]
    assert stable_peaks.min() > unstable_peaks.max()
    # the plot opens on the onset of firing; 'Every landmark' reaches the upper Hopf
    low, high = tab.plot.viewRange()[0]
    assert low <= 0 < FOLD_PA < HOPF_LOWER_PA < high < HOPF_UPPER_PA
    tab.view_choice.setCurrentIndex(tab.view_choice.findData("all"))
    assert tab.plot.viewRange()[0][1] > HOPF_UPPER_PA
    # the f-I page takes its range around the fold and the Hopf point
    assert tab.fi_from.value() < FOLD_PA < HOPF_LOWER_PA < tab.fi_to.value()
    window.set_cell("hh-small")
    assert tab.diagram is None or tab.diagram.cell == "hh-small"
    window.set_cell("hh-squid")
    assert tab.diagram is d and tab.diagram_row.status.text() == "cached"
    x, _ = tab.plot.fold_marks.getData()
    assert x[0] == pytest.approx(FOLD_PA, abs=1e-3)


def test_the_present_current_follows_the_holding_live(window, qtbot):
    tab = window.dynamics
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: len(_hopf_x(tab)) == 2, timeout=WAIT_MS)
    tab.cancel_diagram()
    window.set_holding("CC", 120.0)
    window.start()
    qtbot.waitUntil(lambda: tab.plot.present.isVisible()
                    and tab.plot.present.value() == pytest.approx(120.0), timeout=WAIT_MS)
    assert "12 uA/cm2" in tab.present_label.text()
    assert "rest is unstable" in tab.present_label.text()  # above the lower Hopf
    window.set_holding("CC", 50.0)
    qtbot.waitUntil(lambda: tab.plot.present.value() == pytest.approx(50.0), timeout=WAIT_MS)
    assert "rest is stable" in tab.present_label.text()
    # the phase plane's nullclines are those of the present current
    assert tab.phase.current_pa == pytest.approx(50.0)
    window.session.mode = "VC"
    qtbot.waitUntil(lambda: not tab.plot.present.isVisible(), timeout=WAIT_MS)
    assert "voltage clamp" in tab.present_label.text()


def test_the_phase_plane_draws_the_cells_own_state_and_the_nullclines_cross_at_rest(
        window, qtbot):
    tab = window.dynamics
    got = []
    window.client.chunks.connect(got.extend)
    window.tabs.setCurrentWidget(tab)
    tab.cancel_diagram()
    window.set_holding("CC", 0.0)
    window.start()
    qtbot.waitUntil(lambda: tab.phase.current_pa == 0.0 and len(tab.phase.trail[0]) > 100,
                    timeout=WAIT_MS)
    cc = [ch for ch in got if ch.mode.name == "CC"]
    v_mv, n = tab.phase.trail
    # at rest with no current: the full model's own V and n (-65 mV, n_inf = 0.3177)
    assert v_mv[-1] == pytest.approx(cc[-1].signals["Vmem"][-1] * 1e3, abs=1e-6)
    assert n[-1] == pytest.approx(cc[-1].signals["n"][-1], abs=1e-9)
    assert v_mv[-1] == pytest.approx(-65.0, abs=0.5) and n[-1] == pytest.approx(0.3177, abs=0.005)
    # the reduced nullclines cross near the full model's rest
    v_null, n_null = tab.phase.v_null.getData()
    n_inf = np.interp(v_null, tab.phase.plane.v_mv, tab.phase.plane.n_inf)
    k = np.argmin(np.abs(n_null - n_inf) + 10.0 * (v_null > -55))
    assert v_null[k] == pytest.approx(-65.0, abs=1.0)
    assert "h = 0.89 - 1.1 n" in tab.reduction_label.text()


def test_a_cell_without_the_reduction_gets_no_nullclines(window, qtbot):
    window.set_cell("cortical-neuron")
    tab = window.dynamics
    assert tab.phase.system is None
    assert "no 2-D reduction" in tab.reduction_label.text()
    window.set_cell("squid-axon")  # a fibre: no point-cell diagram
    assert tab.system is None and "point cell" in tab.diagram_row.status.text()
    assert not tab.diagram_row.start_button.isEnabled()


def test_the_fi_curve_up_and_down_shows_the_bistable_band(window, qtbot):
    tab = window.dynamics
    tab.fi_from.setValue(50.0)
    tab.fi_to.setValue(120.0)
    tab.fi_step.setValue(5.0)
    qtbot.mouseClick(tab.fi_row.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.fi_plot.curve is not None, timeout=WAIT_MS)
    curve = tab.fi_plot.curve
    assert list(curve.currents_pa) == list(np.arange(50.0, 121.0, 5.0))
    # silent going up below the lower Hopf (97.81 pA), firing coming down above the
    # fold of cycles (62.59 pA): the band between them, to the 5 pA of the levels
    band = curve.bistable()
    assert band.min() - 5 < FOLD_PA < band.min() and band.max() < HOPF_LOWER_PA < band.max() + 5
    low, high = tab.fi_plot.band.getRegion()
    assert (low, high) == (band.min(), band.max())
    assert f"from {band.min():.4g} to {band.max():.4g} pA" in tab.fi_summary.text()
    tab.fi_step.setValue(0.0)
    qtbot.mouseClick(tab.fi_row.start_button, Qt.LeftButton)
    assert "step above 0" in tab.fi_row.status.text()


def test_the_sweep_view_draws_a_curve_and_a_heat_map(window, qtbot):
    view = window.dynamics.sweep
    view.workers.setValue(1)
    view.first.name.setCurrentText("protocol.epoch2.level")
    view.first.low.setValue(0.0)
    view.first.high.setValue(120.0)
    view.first.count.setValue(3)
    view.measure.setCurrentText("spike_count")
    qtbot.mouseClick(view.row.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: view.values is not None, timeout=WAIT_MS)
    x, y = view.curve.getData()
    assert list(x) == [0.0, 60.0, 120.0]
    # each point as `vrig sweep` runs it, in this process
    task = {"protocol": view_protocol(), "cell": "hh-squid", "bath": "squid-seawater",
            "pipette": "squid-axoplasm", "temperature": 6.3, "dt_us": 10.0, "seed": 0,
            "noise": False, "measures": ["spike_count"],
            "params": {"protocol.epoch2.level": 120.0}}
    assert y[2] == run_task(task)[0]["spike_count"]
    assert y[0] == 0 and y[2] >= 10  # 200 ms at 120 pA: ~75 Hz
    view.use_second.setChecked(True)
    view.second.name.setCurrentText("temperature")
    view.second.low.setValue(6.3)
    view.second.high.setValue(16.3)
    view.second.count.setValue(2)
    view.first.count.setValue(2)
    view.first.low.setValue(60.0)
    view.values = None
    qtbot.mouseClick(view.row.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: view.values is not None, timeout=WAIT_MS)
    assert view.values.shape == (2, 2)
    assert view.image.image.shape == (2, 2) and view.image.isVisible()
    assert view.values[1, 0] == y[2]  # 120 pA at 6.3 degC: the same point as above


def view_protocol():
    from rig.protocols.protocol import load_protocol

    data = load_protocol("cc-step-family").to_dict()
    data["sweeps"] = 1
    return data


def test_the_sweep_view_cancels_and_reports_bad_names(window, qtbot):
    view = window.dynamics
    sweep = view.sweep
    sweep.workers.setValue(1)
    sweep.first.name.setCurrentText("gNa")
    qtbot.mouseClick(sweep.row.start_button, Qt.LeftButton)
    assert "unknown parameter 'gNa'" in sweep.row.status.text()
    assert sweep.job is None
    sweep.first.name.setCurrentText("protocol.epoch2.level")
    sweep.first.count.setValue(40)
    qtbot.mouseClick(sweep.row.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: sweep.row.bar.value() > 0, timeout=WAIT_MS)
    qtbot.mouseClick(sweep.row.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: sweep.row.status.text() == "cancelled", timeout=WAIT_MS)
    assert sweep.values is None
