"""The Axon tab driven as a student would: a fibre from the command line, an electrode
dragged (the engine records from its new place), the conduction velocity read between
two electrodes against the engine's own, and cells switched at any time."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtWidgets import QGraphicsItem

from rig.acquisition import commands as c
from rig.clamp import Mode
from rig.simulation.fibre import squid_axon_velocity
from ui.window.window_options import WindowOptions

WAIT_MS = 30_000


@pytest.fixture
def make_window(make_window):
    """make(cell) -> a window opened on that cell preset."""
    return lambda cell: make_window(options=WindowOptions(cell=cell))


def test_a_fibre_opens_on_the_axon_tab_and_a_patch_has_none(make_window, qtbot):
    window = make_window("myelinated-axon")
    assert window.tabs.currentWidget() is window.axon
    assert len(window.axon.strip.lines) == 4  # Stim and three recording electrodes
    geometry = window.session.engine.cell.geometry
    assert len(window.axon.strip._drawn) >= 1 + geometry.n_internodes  # fibre, sheaths
    window.start()
    qtbot.waitUntil(lambda: window.axon.history is not None, timeout=WAIT_MS)
    window.set_cell("hh-squid")
    assert window.tabs.indexOf(window.axon) == -1
    assert window.session.electrodes is None


def test_dragging_an_electrode_moves_the_site_in_the_engine(make_window, qtbot):
    window = make_window("thin-fibre")
    got = []
    window.client.chunks.connect(got.extend)
    window.start()
    line = window.axon.strip.lines[2]  # E2
    line.setValue(3.3333)  # mm, as a drag leaves it
    line.sigPositionChangeFinished.emit(line)
    geometry = window.session.engine.cell.geometry
    wanted = geometry.compartment_at(3333.3)
    centre_m = geometry.centres_um()[wanted] * 1e-6
    assert window.session.electrodes.sites_m[1] == pytest.approx(centre_m)
    assert line.value() == pytest.approx(centre_m * 1e3)  # snapped on the strip too
    qtbot.waitUntil(lambda: window.session.engine.fibre.sites_m[1] == pytest.approx(centre_m),
                    timeout=WAIT_MS)
    name = window.session.engine.fibre.names[1]
    assert window.client.runner.rig.placement.sites[1] == wanted
    assert name in dict(window.client.names_units)  # the scopes know the new signal
    qtbot.waitUntil(lambda: bool(got) and name in got[-1].signals, timeout=WAIT_MS)
    line.setValue(99.0)  # beyond the 5 mm fibre: the line cannot leave it
    assert line.value() <= 5.0


def test_the_velocity_readout_matches_the_engines_conduction_velocity(make_window, qtbot):
    """squid-axon stimulated from its first end (a short VC step on the first compartment,
    no axial wire: the headstage's CC range cannot fire a 476 um axon), electrodes at 10
    and 20 mm: the readout within 3 % of rig.simulation.fibre's velocity there."""
    expected, _ = squid_axon_velocity()
    window = make_window("squid-axon")
    view = window.axon
    assert view.velocity_text == "—" and "no action potential" in view.cv_why.text()
    window.set_mode("VC")
    window.session.set_electrodes(sites_m=(0.010, 0.020, 0.025), axial_wire=False)
    qtbot.waitUntil(lambda: not window.session.engine.fibre.axial_wire, timeout=WAIT_MS)
    window.start()
    qtbot.waitUntil(lambda: view.history is not None, timeout=WAIT_MS)
    window.client.send(c.Pulse(Mode.VC, 0.020, 0.0002))
    qtbot.waitUntil(lambda: all(view.arrivals.times[k] for k in (1, 2)), timeout=WAIT_MS)
    view._show_velocity(force=True)
    assert view.velocity == pytest.approx(expected, rel=0.03)
    assert view.cv_label.text() == f"{view.velocity:.3g} m/s" and view.why_no_velocity == ""
    assert "mm over the delay" in view.cv_why.text()
    qtbot.waitUntil(lambda: view.history.captures >= 1, timeout=WAIT_MS)
    view.refresh()
    image = view.image.image
    assert image.shape[1] == len(window.session.engine.fibre.profile_m)
    assert np.nanmax(image) > 0.0  # mV: the action potential is on the map


def test_switching_cells_mid_protocol_and_back_never_fails(make_window, qtbot):
    window = make_window("thin-fibre")
    window.start()
    qtbot.waitUntil(lambda: window.session.running, timeout=WAIT_MS)
    errors = []
    window.client.event.connect(lambda e: errors.append(e.text) if e.kind == "error" else None)
    window.protocols.load_shipped("cc-step-family")
    window.run_protocol(window.protocols.protocol())
    qtbot.waitUntil(lambda: window.session.protocol_running, timeout=WAIT_MS)
    for cell in ("hh-squid", "squid-axon", "myelinated-axon", "cortical-neuron", "thin-fibre"):
        window.set_cell(cell)
        assert window.session.engine.cell.name == cell
        assert (window.tabs.indexOf(window.axon) >= 0) == (cell != "hh-squid"
                                                           and cell != "cortical-neuron")
        qtbot.waitUntil(lambda: window.session.running, timeout=WAIT_MS)
        if cell == "squid-axon":
            window.run_protocol(window.protocols.protocol())
    window.set_mode("VC")  # the scopes were replaced with each cell: the new ones follow
    window.set_mode("CC")
    assert window.scopes.scope.mode == "CC"
    got = []
    window.client.chunks.connect(got.extend)
    qtbot.waitUntil(lambda: len(got) > 5, timeout=WAIT_MS)
    assert not errors and window.last_error == ""
    assert got[-1].profile is not None


def test_a_fibres_recording_sites_are_recorded_and_stay_put_while_recording(
        make_window, qtbot, tmp_path):
    """Rec on a fibre writes each recording site's signal (the fibre rests near -65 mV
    at each); a recording electrode dragged meanwhile goes back, with the reason."""
    from rig.files.recording import load_recording
    from ui.panels.recording_settings import RecordingSettings

    window = make_window("thin-fibre")
    window.recording.apply_settings(RecordingSettings(tmp_path, "fibre", ".npz"))
    window.start()
    qtbot.waitUntil(lambda: window.session.running, timeout=WAIT_MS)
    names = window.session.engine.fibre.names
    assert window.recording.start() == tmp_path
    qtbot.waitUntil(lambda: window.recording.recorder.status().simulated_s > 0.1,
                    timeout=WAIT_MS)
    line = window.axon.strip.lines[1]
    line.setValue(0.5)  # mm: a recording electrode cannot move while recording
    line.sigPositionChangeFinished.emit(line)
    assert line.value() == pytest.approx(window.session.electrodes.sites_m[0] * 1e3)
    assert "cannot move while recording" in window.last_error
    assert window.session.engine.fibre.names == names
    window.stop()
    qtbot.waitUntil(lambda: not window.recording.is_recording, timeout=WAIT_MS)
    window.recording.finish(60.0)
    back = load_recording(tmp_path / "fibre.npz")
    assert set(names) <= set(back.signals)
    for name in names:
        assert np.all(np.abs(back.sweep(name, 0) + 0.065) < 0.005)  # V, at rest


def test_ttx_on_a_stretch_is_shaded_and_stops_conduction_beyond_it(make_window, qtbot):
    import pyqtgraph as pg

    window = make_window("thin-fibre")
    view = window.axon
    window.set_mode("CC")
    window.start()
    qtbot.waitUntil(lambda: window.session.running, timeout=WAIT_MS)
    view.drug_button.click()
    dialog = view.drug_dialog
    assert dialog.drug.currentText() == "TTX"
    dialog.start.setValue(2.0)  # mm, between E1 (1.25) and E3 (3.75)
    dialog.end.setValue(2.3)
    dialog.accept()
    qtbot.waitUntil(lambda: bool(window.session.engine.fibre.local), timeout=WAIT_MS)
    (start_m, end_m, label), = window.session.engine.fibre.local
    assert (start_m, end_m) == pytest.approx((0.002, 0.0023)) and "TTX" in label
    assert any(isinstance(item, pg.LinearRegionItem) for item in view.strip._drawn)
    view.cv_from.setCurrentIndex(1)
    view.cv_to.setCurrentIndex(3)
    window.panel.stimulus.fire()  # the fibre's default pulse, at the first end
    qtbot.waitUntil(lambda: bool(view.arrivals.times[1]), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: view.history.captures >= 1, timeout=WAIT_MS)
    view._show_velocity(force=True)
    assert not view.arrivals.times[3]  # E3, beyond the block, saw no action potential
    assert view.cv_label.text() == "—" and "at E3 yet" in view.cv_why.text()
    window.client.send(c.WashLocalDrugs())
    qtbot.waitUntil(lambda: not window.session.engine.fibre.local, timeout=WAIT_MS)
    assert not any(isinstance(item, pg.LinearRegionItem) for item in view.strip._drawn)


def test_the_welcome_card_of_a_fibre_fires_it_and_measures_the_velocity(make_window, qtbot):
    window = make_window("thin-fibre")
    dialog = window.help.show_welcome()
    assert "Axon" in dialog.intro.text()
    dialog.try_buttons[1].click()  # Measure the velocity: E1, E2 at 1/3, 2/3; one stimulus
    view = window.axon
    sites = window.session.electrodes.sites_m
    assert sites[0] == pytest.approx(0.005 / 3, abs=1e-5)
    assert sites[1] == pytest.approx(0.010 / 3, abs=1e-5)
    qtbot.waitUntil(lambda: bool(view.arrivals.times[2]), timeout=WAIT_MS)
    view._show_velocity(force=True)
    assert view.velocity == pytest.approx(0.879, rel=0.05)  # m/s, as tests/rig/test_cable_rig


def test_the_map_shows_the_whole_fibre_and_window_and_new_frames_leave_the_axes_be(
        make_window, qtbot):
    """The map's ranges are the fibre (0 to 5 mm) by the window (10 ms, a tenth before the
    stimulus when triggered), set by the view, not by each new image: the axes keep
    their ranges and are cached pixmaps, so a frame repaints the map, not the labels."""
    window = make_window("thin-fibre")
    view = window.axon
    window.start()
    qtbot.waitUntil(lambda: view.frames >= 3, timeout=WAIT_MS)
    for plot in (view.map_plot.getPlotItem(), view.scope.getPlotItem()):
        assert plot.getViewBox().autoRangeEnabled() == [False, False]
        for name in ("left", "bottom"):
            assert (plot.getAxis(name).cacheMode()
                    == QGraphicsItem.CacheMode.DeviceCoordinateCache)
    start_ms = -1.0 if view.history.triggered else -10.0
    x_range, y_range = view.map_plot.getPlotItem().getViewBox().viewRange()
    assert x_range == pytest.approx([0.0, 5.0])
    assert y_range == pytest.approx([start_ms, start_ms + 10.0])
    frames = view.frames
    qtbot.waitUntil(lambda: view.frames >= frames + 3, timeout=WAIT_MS)
    assert view.map_plot.getPlotItem().getViewBox().viewRange() == [x_range, y_range]
