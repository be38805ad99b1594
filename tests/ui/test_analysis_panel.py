"""The Analysis tab: the analysis chosen by the clamp mode, sweeps measured as they
arrive, cursor windows, axis quantities and units, plain notes instead of fits of
noise, Copy, Export CSV (the text `vrig analyze` prints), a loaded recording, P/N, and a
window that stays 1280 px wide."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QFileDialog

from rig.acquisition import commands as c
from rig.analysis.report import analysis_csv, analyze
from rig.analysis.result import result_tsv
from rig.analysis.sweep_family import SweepFamily
from rig.files.recording import load_recording
from rig.protocols.protocol import LeakSubtraction, load_protocol
from rig.simulation.engine import Rig
from rig.simulation.episodes import protocol_pieces
from ui import cli
from ui.look import theme
from ui.panels.analysis_panel import AnalysisPanel
from ui.window.main_window import MainWindow

WAIT_MS = 30_000


@pytest.fixture
def panel(qtbot):
    widget = AnalysisPanel()
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    widget.set_signals(Rig.from_presets("hh-squid").signal_names())
    return widget


def feed(panel, protocol, rig=None, leak=None):
    """Run a protocol on an engine (no thread) and give the panel its chunks and events
    as the window would; returns the protocol run."""
    protocol = panel.prepare(protocol)
    rig = rig or Rig.from_presets("hh-squid")
    for piece in protocol_pieces(rig, protocol, leak, 500):
        if piece.kind == "sweep":
            panel.add_chunks([c.Chunk("sweep", piece.sweep, piece.first_sample,
                                      protocol.sample_interval_s, protocol.mode, piece.signals)])
        elif piece.kind == "sweep_done":
            panel.on_event(c.Event("sweep_done", protocol.name, piece.sweep, protocol.sweeps))
    return protocol


def axis_text(plot, side):
    """What an axis label shows, e.g. 'command (pA)', once the view has ranged."""
    QApplication.processEvents()
    plot.getViewBox().updateAutoRange()
    return plot.getAxis(side).labelString()


def test_iv_family_online_gives_what_the_recording_gives(panel):
    protocol = feed(panel, load_protocol("vc-iv-family"))
    result = panel.result
    assert result.kind == "I-V" and len(result.rows) == protocol.sweeps
    recorded = analyze(SweepFamily.from_recording(Rig.from_presets("hh-squid").run(protocol)),
                       panel.settings())
    assert result.fact("E_rev") == pytest.approx(recorded.fact("E_rev"), abs=1e-9)
    assert result.fact("GV_V_half") == pytest.approx(recorded.fact("GV_V_half"), abs=1e-9)
    assert result.fact("E_rev") == pytest.approx(43.5551, abs=0.002)  # test_vc_analysis
    assert panel.table.rowCount() == protocol.sweeps
    headers = [panel.table.horizontalHeaderItem(j).text() for j in range(panel.table.columnCount())]
    assert headers == list(result.columns)
    assert "E_rev = 43.56 mV" in panel.summary_label.text()
    iv, gv = panel.spec_plots
    assert "current (nA)" in axis_text(iv.plot, "left")
    assert "command V (mV)" in axis_text(iv.plot, "bottom")
    assert "conductance (nS)" in axis_text(gv.plot, "left")
    assert panel.curves[0].getData()[0].size > 0
    assert "command (mV)" in axis_text(panel.command_plot, "left")


def test_current_clamp_threshold_family(panel):
    feed(panel, load_protocol("cc-threshold"))
    result = panel.result
    assert result.kind == "threshold"
    assert result.fact("first_firing_sweep") == 6 and result.fact("rheobase") == 70.0
    # the command of a CC protocol is a current: pA, never 'V (pV)'
    assert "command (pA)" in axis_text(panel.command_plot, "left")
    assert "Vm (mV)" in axis_text(panel.overlay, "left")
    first, second = panel.spec_plots
    assert "stimulus (pA)" in axis_text(first.plot, "bottom")
    assert "largest Vm (mV)" in axis_text(first.plot, "left")
    assert "latency (ms)" in axis_text(second.plot, "left")
    assert not panel.polarity_combo.isVisibleTo(panel) and panel.dvdt_spin.isVisibleTo(panel)
    # P/N leak subtraction is a VC matter: no control that does nothing in CC
    assert not panel.pn_combo.isVisibleTo(panel) and not panel.pn_holding.isVisibleTo(panel)
    assert [w.region.isVisible() for w in panel.windows_items] == [True, True, False]
    assert panel.signal_combo.currentText() == "Vm"
    assert [panel.signal_combo.itemText(i) for i in range(panel.signal_combo.count())] == \
        ["Vm", "Vmem"]
    t, v = panel.threshold_marks.getData()
    assert t.size == 7  # one threshold marked per firing sweep
    np.testing.assert_allclose(v[0] * 1e3, result.rows[5]["threshold_mV"], atol=1e-9)
    assert "Rheobase = 70 pA" in panel.summary_label.text()


def test_ratio_axes_are_not_rescaled_after_a_conductance_plot(panel):
    feed(panel, load_protocol("vc-iv-family"))
    feed(panel, load_protocol("cc-paired-pulse"))
    recovery = panel.spec_plots[0].plot
    assert "amplitude ratio" in axis_text(recovery, "left")
    assert recovery.getAxis("left").autoSIPrefixScale == 1.0  # not the nS scale of before
    assert panel.result.fact("absolute_refractory") == 6.0


def test_sweeps_update_as_they_arrive(panel):
    protocol = panel.prepare(load_protocol("vc-iv-family"))
    counts = []
    for piece in protocol_pieces(Rig.from_presets("hh-squid"), protocol, None, 500):
        if piece.kind == "sweep":
            panel.add_chunks([c.Chunk("sweep", piece.sweep, piece.first_sample,
                                      protocol.sample_interval_s, "VC", piece.signals)])
        elif piece.kind == "sweep_done":
            panel.on_event(c.Event("sweep_done", "", piece.sweep, protocol.sweeps))
            counts.append(panel.table.rowCount())
    assert counts == list(range(1, protocol.sweeps + 1))


def test_moving_a_cursor_window_remeasures(panel):
    feed(panel, load_protocol("cc-threshold"))
    spikes = panel.windows_items[0].region
    spikes.setRegion((0.005, 0.009))  # ends before the 70 pA spike starts at 9.5 ms
    spikes.sigRegionChangeFinished.emit(spikes)
    assert panel.result.rows[5]["spikes"] == 0
    assert panel.result.fact("first_firing_sweep") == 7


def test_threshold_criterion_box_remeasures(panel):
    feed(panel, load_protocol("cc-threshold"))
    before = panel.result.rows[8]["threshold_mV"]
    panel.dvdt_spin.setValue(50.0)
    panel.dvdt_spin.editingFinished.emit()
    assert panel.result.rows[8]["threshold_mV"] > before


def test_inactivation_protocol_gives_h_infinity(panel):
    panel.signal_combo.setCurrentText("INa")  # the sodium current alone
    feed(panel, load_protocol("vc-inactivation"))
    assert panel.result.kind == "h-inf"
    assert panel.result.fact("hinf_V_half") == pytest.approx(-61.78, abs=0.05)
    assert panel.spec_plots[0].spec.title.startswith("h-infinity")
    h = [r["h"] for r in panel.result.rows]
    assert h[0] == pytest.approx(1.0, abs=0.02) and h[-1] < 0.05


def test_after_ttx_the_tab_says_there_is_nothing_to_fit(panel):
    setup = Rig.from_presets("hh-squid")
    setup.apply_drug("TTX", 300e-9, steady_state=True)
    feed(panel, load_protocol("vc-iv-family"), setup)
    assert "no inward current to fit" in panel.summary_label.text()
    gv = panel.spec_plots[1]
    assert gv.empty.toPlainText().startswith("no inward current to fit")
    drawn = [curve.getData()[0] for curve in gv.curves]
    assert all(x is None or len(x) == 0 for x in drawn)  # no points, no fitted line


def test_copy_puts_the_table_on_the_clipboard(panel):
    feed(panel, load_protocol("vc-iv-family"))
    text = panel.copy()
    assert QApplication.clipboard().text() == text == result_tsv(panel.result)
    lines = text.splitlines()
    assert lines[0].split("\t")[:3] == ["sweep", "V_mV", "peak_pA"]
    assert lines[1].split("\t")[:2] == ["1", "-80"]
    assert any(line.startswith("E_rev\t") and line.endswith("\tmV") for line in lines)


def test_export_csv_writes_what_vrig_analyze_prints(panel, tmp_path, capsys, monkeypatch):
    source = tmp_path / "pairs.csv"
    assert cli.main(["run", "cc-paired-pulse", "-o", str(source)]) == 0
    assert panel.show_recording(load_recording(source), source.name)
    assert panel.result.kind == "paired" and panel.table.rowCount() == 10
    assert "pairs.csv" in panel.summary_label.text()
    capsys.readouterr()
    assert cli.main(["analyze", str(source)]) == 0
    printed = capsys.readouterr().out
    chosen = tmp_path / "table.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(chosen), ""))
    assert panel.export_csv() == str(chosen)
    assert chosen.read_text() == printed
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    assert panel.export_csv() is None  # cancelled
    messages = []
    panel.message.connect(messages.append)
    assert panel.export_csv(str(tmp_path / "table.txt")) is None
    assert ".csv file" in messages[-1]


def test_a_recording_without_its_protocol_or_command(panel, tmp_path):
    setup = Rig.from_presets("hh-squid")
    recording = setup.run(load_protocol("cc-step-family"))
    recording.metadata.pop("protocol_json")
    assert panel.show_recording(recording, "steps.npz")
    assert panel.result.kind == "f-I" and panel.result.fact("rheobase") == 30.0
    assert panel.export_csv(str(tmp_path / "t.csv"))
    assert (tmp_path / "t.csv").read_text() == analysis_csv(
        SweepFamily.from_recording(recording), panel.settings(), "steps.npz")
    del recording.signals["command"]
    messages = []
    panel.message.connect(messages.append)
    assert not panel.show_recording(recording)
    assert "no command channel" in messages[0]
    assert panel.result.kind == "f-I"  # what was shown stays


def test_selecting_rows_highlights_their_sweeps(panel):
    feed(panel, load_protocol("cc-step-family"))
    panel.table.selectRow(9)
    assert panel.curves[9].opts["pen"].width() == 3
    assert panel.curves[3].opts["pen"].width() == 1
    t, _ = panel.threshold_marks.getData()
    assert t.size == 14  # the selected sweep's spikes only (the family has over 100)


def test_pn_choice_and_the_raw_trace(panel):
    protocol = load_protocol("vc-iv-family")
    panel.pn_combo.setCurrentIndex(panel.pn_combo.findData(4))
    panel.pn_holding.setValue(-110.0)
    run = feed(panel, protocol)
    assert run.leak_subtraction == LeakSubtraction(4, -110.0, "opposite")
    assert panel.pn_combo.isVisibleTo(panel) and panel.pn_holding.isVisibleTo(panel)
    raw_x, raw_y = panel.raw_curves[0].getData()
    sub_y = panel.curves[0].getData()[1]
    assert raw_x.size and np.nanmax(np.abs(raw_y - sub_y)) > 1e-13
    panel.pn_combo.setCurrentIndex(panel.pn_combo.findData(0))
    assert panel.prepare(run).leak_subtraction is None
    messages = []
    panel.message.connect(messages.append)
    panel.pn_combo.setCurrentIndex(panel.pn_combo.findData(2))
    assert panel.prepare(load_protocol("cc-step-family")).leak_subtraction is None
    assert "VC" in messages[0]
    assert panel.prepare(None) is None


def test_the_tab_fits_a_1280_px_window(panel):
    for name in ("cc-threshold", "vc-iv-family", "cc-step-family"):
        panel.begin(load_protocol(name))
        assert panel.minimumSizeHint().width() < 880  # the Protocol tab needs 917


def test_in_the_window_a_pn_run_fills_the_tab(qtbot, qapp, tmp_path):
    theme.apply(qapp)
    window = MainWindow(settings=QSettings(str(tmp_path / "v.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    try:
        sent = []
        send = window.client.send
        window.client.send = lambda command: (sent.append(command), send(command))
        window.session.speed = None
        analysis = window.analysis
        window.tabs.setCurrentWidget(analysis)
        cc = load_protocol("cc-threshold")
        window.run_protocol(cc)
        qtbot.waitUntil(lambda: analysis.result is not None
                        and len(analysis.result.rows) == cc.sweeps, timeout=WAIT_MS)
        assert analysis.result.fact("rheobase") == 70.0
        analysis.pn_combo.setCurrentIndex(analysis.pn_combo.findData(2))
        protocol = load_protocol("vc-iv-family")
        window.run_protocol(protocol)
        run = next(s for s in sent if isinstance(s, c.RunProtocol) and s.protocol.mode == "VC")
        assert run.protocol.leak_subtraction.subsweeps == 2
        qtbot.waitUntil(lambda: analysis.result.mode == "VC"
                        and len(analysis.result.rows) == protocol.sweeps, timeout=WAIT_MS)
        assert np.isfinite(analysis.result.fact("E_rev"))
        assert analysis.raw_curves[0].getData()[0].size > 0
        window.tabs.setCurrentWidget(analysis)
        qapp.processEvents()
        assert window.width() == 1280  # switching CC -> VC did not widen the window
    finally:
        window.close()
    assert not window.client.runner._thread.is_alive()
