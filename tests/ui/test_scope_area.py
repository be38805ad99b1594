"""The scopes as a class uses them: a recording's sweeps in the legend with their
stimulus, highlight by a click on the legend or on a trace, colours that stay visible
on black and on white, the cursors' readout, and the continuous-only controls."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QPointF, Qt

from rig.acquisition.commands import Chunk
from rig.errors import VrigError
from rig.files.recording import Recording
from rig.protocols.protocol import load_protocol, render_sweep
from ui.look import theme
from ui.scopes.scope_area import ScopeArea

NAMES = [("Vm", "V"), ("Im", "A"), ("command", "A"), ("INa", "A"), ("IK", "A"), ("m", "")]
SLOPE_V_PER_S = 0.1  # the synthetic Vm ramps 0.1 mV per ms within each sweep


def synthetic_recording(name="cc-threshold"):
    """A recording of a protocol whose numbers are known exactly: in sweep k,
    Vm = -65 mV + k mV + 0.1 mV/ms * t; Im = the command; NaN padded to the longest."""
    protocol = load_protocol(name)
    lengths = np.array([protocol.sweep_samples(k) for k in range(protocol.sweeps)])
    dt = protocol.sample_interval_s
    t = np.arange(lengths.max()) * dt
    vm = np.full((protocol.sweeps, lengths.max()), np.nan)
    command = np.full_like(vm, np.nan)
    for k, n in enumerate(lengths):
        vm[k, :n] = -0.065 + 1e-3 * k + SLOPE_V_PER_S * t[:n]
        command[k, :n] = render_sweep(protocol, k).command
    metadata = {"protocol": protocol.name, "mode": protocol.mode,
                "protocol_json": protocol.to_json()}
    return Recording({"Vm": vm, "Im": command.copy(), "command": command},
                     {"Vm": "V", "Im": "A", "command": "A"}, lengths, dt, metadata)


def expected_vm(sweep, t):
    return -0.065 + 1e-3 * sweep + SLOPE_V_PER_S * t


@pytest.fixture
def area(qtbot, qapp):
    theme.apply(qapp)
    widget = ScopeArea(NAMES, "CC")
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_a_recording_is_listed_with_each_sweeps_stimulus(area):
    area.show_recording(synthetic_recording("cc-threshold"))
    legend = area.side.legend
    assert legend.labels() == ["All sweeps"] + [f"{k + 1:>2}  +{20 + 10 * k} pA"
                                                for k in range(12)]
    assert area.scope.style == "episodic" and area.style_buttons["episodic"].isChecked()
    assert area.side.isVisible() and legend.isVisible()
    assert sum(c.isVisible() for c in area.scope.sweep_curves["Vm"]) == 12


@pytest.mark.parametrize("name, third", [("vc-iv-family", " 3  -60 mV"),
                                         ("cc-paired-pulse", " 3  interval 8 ms")])
def test_legends_of_other_families(area, name, third):
    protocol = load_protocol(name)
    area.scope.begin_protocol(protocol)
    for sweep in range(4):
        n = protocol.sweep_samples(sweep)
        signals = {s: np.zeros(n) for s, _ in NAMES}
        area.scope.add_chunks([Chunk("sweep", sweep, 0, protocol.sample_interval_s,
                                     protocol.mode, signals)])
    area.scope.refresh()
    labels = area.side.legend.labels()
    assert labels[3] == third and len(labels) == 5


def test_a_running_protocol_marks_its_newest_sweep(area):
    protocol = load_protocol("cc-threshold")
    area.scope.begin_protocol(protocol)
    for sweep in range(2):
        signals = {s: np.zeros(100) for s, _ in NAMES}
        area.scope.add_chunks([Chunk("sweep", sweep, 0, protocol.sample_interval_s,
                                     "CC", signals)])
    labels = area.side.legend.labels()
    assert labels[2] == " 2  +30 pA  (newest)" and "newest" not in labels[1]
    assert area.side.legend.item(2).font().bold()


def _click_legend(qtbot, legend, row):
    rect = legend.visualItemRect(legend.item(row))
    qtbot.mouseClick(legend.viewport(), Qt.LeftButton, pos=rect.center())


def test_click_on_the_legend_highlights_a_sweep_and_all_clears_it(area, qtbot):
    area.show_recording(synthetic_recording())
    scope = area.scope
    _click_legend(qtbot, area.side.legend, 5)  # sweep 4 (row 0 is "All sweeps")
    assert scope.overlay.highlight == 4
    curves = scope.sweep_curves["Vm"]
    chosen = curves[scope.overlay._slot[4]]
    other = curves[scope.overlay._slot[0]]
    assert chosen.opts["pen"].widthF() == 3 and other.opts["pen"].widthF() == 1
    assert chosen.zValue() > max(c.zValue() for c in curves if c is not chosen)
    assert other.opts["pen"].color().alpha() == theme.DIMMED_ALPHA > 0  # still visible
    assert chosen.opts["pen"].color().alpha() == 255
    _click_legend(qtbot, area.side.legend, 0)
    assert scope.overlay.highlight is None
    assert all(c.opts["pen"].color().alpha() == 255 for c in curves if c.isVisible())


def test_click_on_a_trace_highlights_its_sweep(area, qtbot):
    area.show_recording(synthetic_recording())
    scope = area.scope
    box = scope.plots["Vm"].getViewBox()
    t = 0.020
    scene = box.mapViewToScene(QPointF(t, expected_vm(7, t)))
    pos = scope.mapFromScene(scene)
    qtbot.mouseClick(scope.viewport(), Qt.LeftButton, pos=pos)
    assert scope.overlay.highlight == 7
    assert area.side.legend.currentRow() == 8  # the legend follows
    qtbot.mouseClick(scope.viewport(), Qt.LeftButton, pos=pos)  # again: all alike
    assert scope.overlay.highlight is None
    empty = scope.mapFromScene(box.mapViewToScene(QPointF(t, 0.05)))
    qtbot.mouseClick(scope.viewport(), Qt.LeftButton, pos=empty)  # far from any trace
    assert scope.overlay.highlight is None


def _wcag_luminance(color):
    """Independent WCAG 2.x relative luminance of a '#rrggbb' colour."""
    channels = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a, b):
    high, low = sorted((_wcag_luminance(a), _wcag_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_ratio_matches_the_wcag_examples():
    assert theme.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert theme.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("count", [1, 2, 12, 15, 64])
def test_sweep_colours_stay_visible_on_the_scope_and_on_paper(count):
    colors = [c.name() for c in theme.sweep_colors(count)]
    for color in colors:
        assert _contrast(color, theme.BACKGROUND) >= 4.5  # WCAG AA for text, on black
        assert _contrast(color, theme.PRINT_BACKGROUND) >= 3.0  # graphics, on white
    assert len(set(colors)) == count  # no two sweeps alike


def test_print_colours_of_the_fixed_traces_are_readable_on_white():
    for name in ("Vm", "Im", "command", "INa", "IK", "m", "h"):
        color = theme.readable_on(theme.trace_color(name), theme.PRINT_BACKGROUND, 3.0)
        assert _contrast(color.name(), theme.PRINT_BACKGROUND) >= 3.0


def test_cursor_readout_gives_known_values(area):
    area.show_recording(synthetic_recording())
    area.cursors_button.click()
    assert area.side.readout.isVisible()
    scope = area.scope
    t1, t2 = 0.005, 0.020  # on sample boundaries (20 us)
    scope.cursors.set_positions(t1, t2)
    readout = scope.cursors.readout()
    assert readout.dt == pytest.approx(0.015)
    rows = {name: (unit, v1, v2) for name, unit, v1, v2 in readout.rows}
    assert set(rows) == {"Vm", "Im", "command"}
    unit, v1, v2 = rows["Vm"]  # the newest sweep, 11, without a highlight
    assert unit == "mV"
    assert v1 == pytest.approx(expected_vm(11, t1) * 1e3, rel=1e-6)
    assert v2 - v1 == pytest.approx(SLOPE_V_PER_S * (t2 - t1) * 1e3, rel=1e-4)
    assert rows["command"][:2] == ("pA", pytest.approx(130.0))  # the 1 ms pulse at 5 ms
    text = area.side.readout.text()
    assert "15.000 ms" in text and "66.67 Hz" in text and "-53.50" in text
    scope.set_highlight(4)  # the cursors read the highlighted sweep
    rows = {name: (v1, v2) for name, _, v1, v2 in scope.cursors.readout().rows}
    assert rows["Vm"][0] == pytest.approx(expected_vm(4, t1) * 1e3, rel=1e-6)
    assert "-60.50" in area.side.readout.text()


def test_dragging_a_cursor_in_one_plot_moves_it_in_all(area):
    area.show_recording(synthetic_recording())
    area.cursors_button.click()
    scope = area.scope
    line = scope.cursors.lines("command")[1]
    line.setValue(0.025)
    assert [scope.cursors.lines(p)[1].value() for p in ("Vm", "Im")] == [0.025, 0.025]
    assert scope.cursors.positions[1] == 0.025
    assert "25.000 ms" in area.side.readout.text()
    area.cursors_button.click()
    assert not scope.cursors.lines("Vm")[0].isVisible() and not area.side.readout.isVisible()


def test_cursors_read_the_continuous_display(area):
    scope = area.scope
    dt = 20e-6
    ramp = -0.07 + 0.05 * np.arange(10_000) * dt  # 50 mV/s over 0.2 s
    for first in range(0, 10_000, 500):
        signals = {s: np.zeros(500) for s, _ in NAMES}
        signals["Vm"] = ramp[first:first + 500]
        scope.add_chunks([Chunk("continuous", 0, first, dt, "CC", signals)])
    scope.refresh()
    area.cursors_button.click()
    scope.cursors.set_positions(0.05, 0.15)
    rows = {name: (v1, v2) for name, _, v1, v2 in scope.cursors.readout().rows}
    # the peak display keeps one min-max pair per bin of ring.factor samples
    tolerance = scope._rings["Vm"].factor * dt * 0.05 * 1e3
    assert rows["Vm"][0] == pytest.approx(-70 + 50 * 0.05, abs=tolerance)
    assert rows["Vm"][1] - rows["Vm"][0] == pytest.approx(5.0, abs=2 * tolerance)


def test_display_controls_are_off_in_episodic_display(area, qtbot):
    assert area.display_combo.isEnabled() and area.window_combo.isEnabled()
    area.scope.begin_protocol(load_protocol("vc-iv-family"))  # as the window does
    for combo in (area.display_combo, area.window_combo):
        assert not combo.isEnabled()
        assert "continuous display" in combo.toolTip()
    assert area.style_buttons["episodic"].isChecked()
    qtbot.mouseClick(area.style_buttons["continuous"], Qt.LeftButton)
    assert area.display_combo.isEnabled() and area.window_combo.isEnabled()
    assert not area.side.isVisible()  # no legend to show in continuous display
    assert area.display_combo.toolTip().startswith("Continuous display: sweep")


def test_mouse_readout_cannot_widen_the_area(area):
    width = area.width()
    area.cursor_label.setText("t = 12.345 ms   " + "Im = -123.4 nA " * 30)
    area.layout().activate()
    assert area.minimumSizeHint().width() < width
    assert area.width() == width and area.cursor_label.width() < width


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sweeps=st.integers(0, 5), samples=st.integers(0, 300),
       fill=st.sampled_from([0.0, np.nan, np.inf, -np.inf, 1e30]),
       interval=st.sampled_from([20e-6, 1e-3, 0.0, -1e-3, np.nan]))
def test_odd_recordings_are_shown_or_refused_plainly(area, sweeps, samples, fill, interval):
    lengths = np.full(sweeps, samples)
    data = np.full((sweeps, samples), fill)
    recording = Recording({"Vm": data, "Im": data.copy(), "command": data.copy()},
                          {"Vm": "V", "Im": "A", "command": "A"}, lengths, interval, {})
    if not interval > 0:
        with pytest.raises(VrigError, match="sample interval"):
            area.show_recording(recording)
        return
    area.show_recording(recording)
    assert len(area.side.legend.labels()) == 1 + sweeps
    area.scope.cursors.set_positions(0.0, 2 * interval)
    rows = area.scope.cursors.readout().rows
    assert [name for name, *_ in rows] == ["Vm", "Im", "command"]
    area.scope.autoscale()
    low, high = area.scope.plots["Vm"].getViewBox().viewRange()[1]
    assert np.isfinite(low) and np.isfinite(high) and high > low


def test_controls_wrap_onto_a_second_line_instead_of_scrolling_when_narrow(qtbot):
    area = ScopeArea([("Vm", "V"), ("Im", "A"), ("command", "A")], "CC")
    qtbot.addWidget(area)
    buttons = [*area.style_buttons.values(), area.autoscale_button, area.clear_button,
               area.cursors_button, area.export_button]

    def lines():  # items on a line are centred on it; lines are a button's height apart
        return len({b.geometry().center().y() // b.height() for b in buttons})

    area.resize(1200, 600)
    area.show()
    qtbot.waitUntil(lambda: area.export_button.isVisible())
    assert lines() == 1  # wide: one line
    area.resize(520, 600)
    qtbot.waitUntil(lambda: lines() > 1)
    bar = area.autoscale_button.parentWidget()
    for button in buttons:  # every control in view, none cut off at the right
        assert button.geometry().right() <= bar.width()
        assert not button.visibleRegion().isEmpty()


def test_replaced_scopes_are_freed(qtbot):
    import gc
    import weakref

    area = ScopeArea([("Vm", "V"), ("Im", "A"), ("command", "A")], "CC")
    qtbot.addWidget(area)
    area.show()
    replaced = []
    for _ in range(5):  # a cell change each time
        replaced.append(weakref.ref(area.scope))
        area.set_signals([("Vm", "V"), ("Im", "A"), ("command", "A"), ("INa", "A")], "CC")
        qtbot.wait(1)  # let deleteLater run
    gc.collect()
    assert [ref() for ref in replaced] == [None] * 5


def test_a_replaced_stack_waiting_for_deletion_ignores_a_theme_switch(qtbot, qapp):
    from ui.look.theme_palettes import DARK, LIGHT

    area = ScopeArea([("Vm", "V"), ("Im", "A"), ("command", "A")], "CC")
    qtbot.addWidget(area)
    old = area.scope
    area.set_signals([("Vm", "V"), ("Im", "A"), ("command", "A"), ("INa", "A")], "CC")
    try:
        old.apply_theme(LIGHT)  # as theme.restyle does for every widget still alive
        theme.switch(LIGHT, qapp)
    finally:
        theme.switch(DARK, qapp)
