"""The perfusion manifold: TTX from the panel stops a firing cell and washout brings
the spikes back (the issue's proof), and bad entries are refused in place while the
rig keeps running."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import itertools
import math

import pytest
from PySide6.QtCore import Qt

from rig.acquisition import commands as c
from ui.panels.perfusion_panel import PerfusionPanel, format_molar
from ui.panels.perfusion_timeline import TICK_GAP_PX, TimelineStrip

WAIT_MS = 20_000
FAST = 200.0  # simulated s per wall s asked of the runner (it gives what it can)


class Spikes:
    """(simulated end time s, peak Vm V) of every chunk the window receives."""

    def __init__(self, window):
        self.peaks = []
        window.client.chunks.connect(
            lambda chunks: self.peaks.extend((ch.time_s, float(ch.signals["Vm"].max()))
                                             for ch in chunks))

    def after(self, t0):
        return [(t, v) for t, v in self.peaks if t > t0]

    def fired_after(self, t0):
        return any(v > 0 for _t, v in self.after(t0))

    def silent_for(self, seconds):
        """True once the last `seconds` of simulated time had no overshoot."""
        if not self.peaks:
            return False
        end = self.peaks[-1][0]
        return (self.peaks[0][0] < end - seconds
                and all(v < 0 for _t, v in self.after(end - seconds)))


def test_ttx_from_the_panel_stops_spikes_and_washout_brings_them_back(window, qtbot):
    spikes = Spikes(window)
    manifold = window.bath.perfusion
    window.set_mode("CC")
    window.set_holding("CC", 120.0)  # pA: repetitive firing in hh-squid
    window.start()
    window.client.send(c.SetSpeed(FAST))
    qtbot.waitUntil(lambda: spikes.fired_after(0.5), timeout=WAIT_MS)

    line = manifold.lines["TTX"]
    line.entry.setText("300")
    line.unit.setCurrentText("nM")
    sent = []
    manifold.commandRequested.connect(sent.append)
    qtbot.mouseClick(line.open_button, Qt.LeftButton)
    assert sent == [c.ApplyDrug("TTX", pytest.approx(300e-9), "outside")]
    t_apply = spikes.peaks[-1][0]
    qtbot.waitUntil(lambda: line.valve.open, timeout=WAIT_MS)  # lit from Chunk.drugs
    qtbot.waitUntil(lambda: spikes.silent_for(2.0) and spikes.peaks[-1][0] > t_apply + 2,
                    timeout=WAIT_MS)
    assert "Na" in line.readout.text() and "blocked" in line.readout.text()
    assert spikes.fired_after(t_apply)  # it did not stop at once: TTX washes in (tau 5 s)

    qtbot.mouseClick(line.wash_button, Qt.LeftButton)
    assert sent[-1] == c.WashDrug("TTX")
    t_wash = spikes.peaks[-1][0]
    qtbot.waitUntil(lambda: not line.valve.open, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "washing" in line.readout.text(), timeout=WAIT_MS)
    # Washout (tau 30 s) needs the block below a few percent before the cell fires again.
    qtbot.waitUntil(lambda: spikes.fired_after(t_wash), timeout=3 * WAIT_MS)
    assert spikes.after(t_wash)[-1][0] > t_wash + 30  # tens of seconds, not at once
    assert [m[2] for m in manifold.timeline.marks] == ["300 nM", "wash"]
    assert window.session.running


BAD = [("-1", "nM", "not allowed"), ("10", "M", "not allowed"), ("abc", "nM", "number"),
       ("nan", "uM", "number"), ("1e999", "nM", "not allowed"), ("0", "mM", "above 0")]


def test_bad_concentrations_are_refused_in_place_and_the_rig_runs_on(window, qtbot):
    manifold = window.bath.perfusion
    window.start()
    qtbot.waitUntil(lambda: window.session.running, timeout=WAIT_MS)
    sent = []
    manifold.commandRequested.connect(sent.append)
    line = manifold.lines["TTX"]
    for value, unit, words in BAD:
        line.entry.setText(value)
        if unit in [line.unit.itemText(i) for i in range(line.unit.count())]:
            line.unit.setCurrentText(unit)
            assert manifold.apply("TTX") is None
        else:
            assert manifold.apply("TTX", value + unit) is None
        assert words in window.last_error, (value, window.last_error)
        assert line.entry.property("invalid") is True
        assert line.entry.toolTip() in window.last_error
    assert manifold.apply("strychnine", "1uM") is None
    assert "unknown drug 'strychnine'" in window.last_error and "TTX" in window.last_error
    assert manifold.wash("strychnine") is None
    # TTX from inside is shown greyed and refused with the reason.
    inside = line.side.findData("inside")
    assert not line.side.model().item(inside).isEnabled()
    assert manifold.apply("TTX", "300nM", "inside") is None
    assert "no effect from the inside" in window.last_error
    assert sent == []
    n = window.client.received_chunks
    qtbot.waitUntil(lambda: window.client.received_chunks > n + 20, timeout=WAIT_MS)
    assert window.session.running
    line.entry.setText("30")
    line.unit.setCurrentText("nM")
    assert manifold.apply("ttx") == c.ApplyDrug("TTX", pytest.approx(30e-9), "outside")
    assert line.entry.property("invalid") is False


def chunk_at(time_s, *drugs):
    return c.Chunk("continuous", 0, 0, 2e-5, "CC", {"Vm": [0.0]}, time_s=time_s, drugs=drugs)


def test_readout_shows_present_percent_and_effect(qtbot):
    panel = PerfusionPanel(["TTX", "TEA"], preparation="squid-giant-axon")
    qtbot.addWidget(panel)
    panel.apply("TTX", "300nM")
    panel.show_chunks([chunk_at(5.0, ("TTX", "outside", 150e-9, 300e-9))])
    text = panel.lines["TTX"].readout.text()
    blocked = 100 / (1 + 5.1e-9 / 150e-9)  # the squid axon's IC50
    assert text == f"150 nM 50%\nNa {blocked:.0f}% blocked"
    assert panel.lines["TTX"].valve.open and not panel.lines["TEA"].valve.open
    panel.show_chunks([chunk_at(9.0, ("TTX", "outside", 30e-9, 0.0))])
    assert panel.lines["TTX"].readout.text() == (
        f"30 nM washing\nNa {100 / (1 + 5.1e-9 / 30e-9):.0f}% blocked")
    assert not panel.lines["TTX"].valve.open
    assert format_molar(1.5e-3) == "1.5 mM" and format_molar(0) == "0"
    assert math.isclose(panel.timeline.now_s, 9.0)


def test_a_washed_out_drug_says_so_and_an_irreversible_effect_stays(qtbot):
    """Once the engine drops a drug (below 0.1 % of dose and effect) the line reads
    'washed out' -- not 'washing' for ever; pronase's cut channels stay cut."""
    panel = PerfusionPanel(["TTX", "pronase"], preparation="squid-giant-axon")
    qtbot.addWidget(panel)
    panel.apply("TTX", "1uM")
    panel.apply("pronase", "10mM", "inside")
    panel.show_chunks([chunk_at(60.0, ("TTX", "outside", 1e-6, 1e-6),
                                ("pronase", "inside", 10e-3, 10e-3))])
    assert panel.lines["pronase"].readout.text() == "10 mM 100%\nNa 95% no inact."
    panel.wash()
    panel.show_chunks([chunk_at(100.0, ("TTX", "outside", 5.2e-12, 0.0),
                                ("pronase", "inside", 1e-6, 0.0))])
    assert panel.lines["TTX"].readout.text() == "5.2 pM washing\nNa 0% blocked"
    assert panel.lines["pronase"].readout.text() == "1 uM washing\nNa 95% no inact."
    panel.show_chunks([chunk_at(400.0)])  # both dropped by the engine
    assert panel.lines["TTX"].readout.text() == "washed out"
    assert panel.lines["pronase"].readout.text() == "washed out\nNa 95% no inact."
    assert not panel.lines["TTX"].valve.open
    panel.apply("TTX", "10nM")  # a new dose starts afresh
    panel.show_chunks([chunk_at(401.0, ("TTX", "outside", 1e-9, 10e-9))])
    assert panel.lines["TTX"].readout.text().startswith("1 nM 10%\n")
    panel.reset()
    assert {line.readout.text() for line in panel.lines.values()} == {"closed"}


def test_the_sides_follow_the_cells_preparation(qtbot):
    """External TEA does nothing to the squid axon (Tasaki & Hagiwara 1957): its bath
    side is greyed there, with the reason and source; on the cortical neuron it acts."""
    panel = PerfusionPanel(["TEA", "TTX"], preparation="squid-giant-axon")
    qtbot.addWidget(panel)
    messages = []
    panel.message.connect(messages.append)
    line = panel.lines["TEA"]
    outside = line.side.findData("outside")
    assert not line.side.model().item(outside).isEnabled()
    assert "Tasaki & Hagiwara 1957" in line.side.model().item(outside).toolTip()
    assert line.side.currentData() == "inside"
    assert "IC50 400 uM" in line.side.toolTip() and "Armstrong 1966" in line.side.toolTip()
    assert panel.apply("TEA", "10mM", "outside") is None
    assert "no effect from the outside (the bath) on the squid-giant-axon" in messages[-1]
    panel.set_preparation("mammalian-cortical-neuron")
    assert line.side.model().item(outside).isEnabled()
    assert "IC50 5 mM" in line.side.toolTip() and "Ikeda & Korn 1995" in line.side.toolTip()
    assert panel.apply("TEA", "10mM", "outside") == c.ApplyDrug("TEA", pytest.approx(10e-3),
                                                                "outside")
    ttx_inside = panel.lines["TTX"].side.findData("inside")
    assert not panel.lines["TTX"].side.model().item(ttx_inside).isEnabled()


def test_the_readouts_fit_at_1280_by_800(window, qtbot):
    manifold = window.bath.perfusion
    window.bath.show()
    qtbot.waitUntil(lambda: manifold.isVisible(), timeout=WAIT_MS)
    longest = "41.2 nM washing\nNa 100% no inact."
    for line in manifold.lines.values():
        line.readout.setText(longest)
    qtbot.waitUntil(lambda: all(line.readout.width() >= line.readout.sizeHint().width()
                                for line in manifold.lines.values()), timeout=WAIT_MS)
    assert window.width() <= 1280


@pytest.mark.parametrize("span_s", [30.0, 75.0, 400.0, 1800.0])
@pytest.mark.parametrize("plot_px", [60, 120, 250, 600])
def test_timeline_axis_labels_never_overlap(qtbot, span_s, plot_px):
    strip = TimelineStrip(["TTX"], ["#ff6b6b"])
    qtbot.addWidget(strip)
    strip.resize(plot_px + 100, 120)
    metrics = strip.fontMetrics()
    for now in (span_s, span_s + 7.3, 3 * span_s + 0.1):
        labels = strip.axis_labels(metrics, 90.0, float(plot_px), now - span_s, now)
        print(span_s, plot_px, now, [text for *_, text in labels])
        assert labels  # at least one tick
        for (_, left, width, text), (_, nxt, _, _) in itertools.pairwise(labels):
            assert left + width + TICK_GAP_PX / 2 <= nxt, (text, labels)
        assert all("0000" not in text for *_, text in labels)  # round labels
