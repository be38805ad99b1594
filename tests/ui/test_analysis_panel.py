"""The Analysis tab: sweeps measured as they arrive (I-V with reversal, G-V and
h-infinity Boltzmann fits, an exponential fit), cursor windows, Copy, and P/N."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from rig import commands as c  # noqa: E402
from rig.engine import Rig  # noqa: E402
from rig.episodes import protocol_pieces  # noqa: E402
from rig.protocol import LeakSubtraction, load_protocol  # noqa: E402
from ui import theme  # noqa: E402
from ui.analysis_panel import AnalysisPanel  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402

WAIT_MS = 30_000


@pytest.fixture
def panel(qtbot):
    widget = AnalysisPanel()
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    widget.set_signals(Rig.from_presets("hh-squid").signal_names())
    return widget


def feed(panel, protocol, leak=None, cell="hh-squid"):
    """Run a protocol on an engine (no thread) and give the panel its chunks and events
    as the window would; returns the protocol run."""
    protocol = panel.prepare(protocol)
    rig = Rig.from_presets(cell)
    for piece in protocol_pieces(rig, protocol, leak, 500):
        if piece.kind == "sweep":
            panel.add_chunks([c.Chunk("sweep", piece.sweep, piece.first_sample,
                                      protocol.sample_interval_s, "VC", piece.signals)])
        elif piece.kind == "sweep_done":
            panel.on_event(c.Event("sweep_done", protocol.name, piece.sweep, protocol.sweeps))
    return protocol


def test_iv_family_reversal_and_activation(panel):
    protocol = feed(panel, load_protocol("vc-iv-family"))
    assert len(panel.rows) == protocol.sweeps
    s = panel.summary
    # The peak inward (Na) current reverses near E_Na (+50 mV in the squid solutions).
    assert 0.035 < s.reversal < 0.060
    assert s.activation is not None and -0.04 < s.activation.v_half < 0.0
    assert s.activation.slope > 0
    assert np.isfinite(s.tau) and 1e-4 < s.tau < 5e-3
    # every depolarised sweep has its own time constant in the table
    taus = [r.get("tau_ms") for r in panel.rows]
    assert sum(t is not None and np.isfinite(t) for t in taus) >= protocol.sweeps - 6
    assert panel.rows[-1]["tau_ms"] == pytest.approx(s.tau * 1e3)
    assert panel.table.rowCount() == protocol.sweeps
    assert "E_rev" in panel.summary_label.text() and "G-V" in panel.summary_label.text()
    x, y = panel.iv_peak.getData()
    assert x.size == protocol.sweeps and np.all(np.diff(x) > 0)
    assert panel.reversal_line.isVisible()
    assert panel.curves[0].getData()[0].size > 0  # the overlay is drawn


def test_sweeps_update_as_they_arrive(panel):
    protocol = panel.prepare(load_protocol("vc-iv-family"))
    rig = Rig.from_presets("hh-squid")
    counts = []
    for piece in protocol_pieces(rig, protocol, None, 500):
        if piece.kind == "sweep":
            panel.add_chunks([c.Chunk("sweep", piece.sweep, piece.first_sample,
                                      protocol.sample_interval_s, "VC", piece.signals)])
        elif piece.kind == "sweep_done":
            panel.on_event(c.Event("sweep_done", "", piece.sweep, protocol.sweeps))
            counts.append(panel.table.rowCount())
    assert counts == list(range(1, protocol.sweeps + 1))


def test_moving_a_cursor_window_remeasures(panel):
    feed(panel, load_protocol("vc-iv-family"))
    before = [r["steady_pA"] for r in panel.rows]
    w2 = panel.regions["w2"]
    w2.setRegion((0.011, 0.013))  # early in the step instead of its end
    w2.sigRegionChangeFinished.emit(w2)
    after = [r["steady_pA"] for r in panel.rows]
    assert after != before


def test_inactivation_protocol_gives_h_infinity(panel):
    panel.signal_combo.setCurrentText("INa")  # the sodium current alone
    feed(panel, load_protocol("vc-inactivation"))
    fit = panel.summary.inactivation
    assert fit is not None
    assert -0.075 < fit.v_half < -0.055 and fit.slope < 0
    assert "h-inf" in panel.fit_plot.titleLabel.text
    h = [r["h"] for r in panel.rows]
    assert h[0] == pytest.approx(1.0, abs=0.02) and h[-1] < 0.05


def test_copy_puts_the_results_table_on_the_clipboard(panel):
    feed(panel, load_protocol("vc-iv-family"))
    text = panel.copy()
    assert QApplication.clipboard().text() == text
    lines = text.splitlines()
    assert lines[0].split("\t")[:3] == ["sweep", "V_mV", "peak_pA"]
    assert lines[1].split("\t")[:2] == ["1", "-80"]
    assert any(line.startswith("E_rev\t") and line.endswith("\tmV") for line in lines)
    assert any(line.startswith("G-V V1/2\t") for line in lines)


def test_pn_choice_and_the_raw_trace(panel, qtbot):
    protocol = load_protocol("vc-iv-family")
    panel.pn_combo.setCurrentIndex(panel.pn_combo.findData(4))
    panel.pn_holding.setValue(-110.0)
    run = feed(panel, protocol)
    assert run.leak_subtraction == LeakSubtraction(4, -110.0, "opposite")
    raw_x, raw_y = panel.raw_curves[0].getData()
    sub_y = panel.curves[0].getData()[1]
    assert raw_x.size and np.nanmax(np.abs(raw_y - sub_y)) > 1e-13
    panel.pn_combo.setCurrentIndex(panel.pn_combo.findData(0))
    assert panel.prepare(run).leak_subtraction is None
    messages = []
    panel.message.connect(messages.append)
    panel.pn_combo.setCurrentIndex(panel.pn_combo.findData(2))
    cc = load_protocol("cc-step-family")
    assert panel.prepare(cc).leak_subtraction is None
    assert "VC" in messages[0]
    assert panel.prepare(None) is None


def test_in_the_window_a_pn_run_fills_the_tab(qtbot, qapp, tmp_path):
    theme.apply(qapp)
    window = MainWindow(settings=QSettings(str(tmp_path / "v.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.show()
    try:
        sent = []
        send = window.client.send
        window.client.send = lambda command: (sent.append(command), send(command))
        window.panel.set_speed(None)
        analysis = window.analysis
        analysis.pn_combo.setCurrentIndex(analysis.pn_combo.findData(2))
        protocol = load_protocol("vc-iv-family")
        window.run_protocol(protocol)
        run = next(s for s in sent if isinstance(s, c.RunProtocol))
        assert run.protocol.leak_subtraction.subsweeps == 2
        qtbot.waitUntil(lambda: len(analysis.rows) == protocol.sweeps, timeout=WAIT_MS)
        assert np.isfinite(analysis.summary.reversal)
        assert analysis.raw_curves[0].getData()[0].size > 0
    finally:
        window.close()
    assert not window.client.runner._thread.is_alive()
