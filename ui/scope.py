"""The oscilloscopes: stacked pyqtgraph plots of Vm, Im, the command and optional traces.

Performance habits (pyqtgraph's scrollingPlots example and PlotDataItem notes):
curves are created once when the signal set is known; each display tick calls
``setData`` once per visible, changed curve with views of preallocated buffers
(:mod:`ui.scope_buffers`); clip-to-view and peak downsampling are set after the curve
is added to its plot; pens are 1 px wide and not antialiased.

Two acquisition styles:

* continuous: chunks of kind 'continuous' go into a :class:`PeakRing` per signal,
  shown sweeping (fixed time axis, a gap moving ahead of the newest sample) or
  scrolling (the time axis follows the newest sample);
* episodic: chunks of kind 'sweep' go into :class:`SweepSlots`; the newest sweep is
  drawn bright and the older ones fade. ``clear_sweeps`` empties the overlay.

Values are SI; the axes show mV, pA/nA, nS and ms/s through pyqtgraph's SI prefixes.
"""

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGraphicsItem

from rig.protocol import render
from ui import theme
from ui.scope_buffers import PeakRing, SweepSlots

OVERLAY_SLOTS = 8  # sweeps shown at once in episodic display
FADE = 0.6  # each older sweep keeps this fraction of the previous one's opacity
# (title, axis label) and default y range (SI) of each panel; command depends on mode.
PANELS = {
    "Vm": ("Membrane potential", "Vm", (-0.1, 0.06)),
    "Im": ("Membrane current", "Im", (-2e-9, 2e-9)),
    "command": ("Command", "Cmd", (-0.12, 0.06)),
    "currents": ("Channel currents", "I", (-10e-9, 10e-9)),
    "conductances": ("Conductances", "g", (0.0, 400e-9)),
    "gates": ("Gates", "gate", (0.0, 1.0)),
}
CC_RANGES = {"Im": (-250e-12, 250e-12), "command": (-250e-12, 250e-12)}
UNIT_PANEL = {"A": "currents", "S": "conductances", "": "gates"}
BASIC = ("Vm", "Im", "command")


def panel_of(name, unit):
    """Which panel a signal is drawn in."""
    return name if name in BASIC else UNIT_PANEL.get(unit, "gates")


class FrameView(pg.GraphicsLayoutWidget):
    """The plots' canvas; counts painted frames and calls ``frame_hook`` after each
    (used by the benchmark to measure frames per second and latency)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.frames = 0
        self.frame_hook = None

    def paintEvent(self, event):
        super().paintEvent(event)
        self.frames += 1
        if self.frame_hook is not None:
            self.frame_hook()


class ScopeStack(FrameView):
    """Stacked, x-linked plots. names_units: [(signal, SI unit)] from
    Rig.signal_names(); visible: names of the optional signals to show."""

    cursorMoved = Signal(str)

    def __init__(self, names_units, mode="CC", parent=None):
        super().__init__(parent)
        self.ci.setSpacing(2)
        self.mode = mode
        self.style = "continuous"
        self.display = "sweep"
        self.window_s = 1.0
        self.follow = True  # the x range follows the data until the user pans
        self._units = dict(names_units)
        self._rings = {}
        self._slots = {}
        self._dirty = set()
        self._episodic_span = (0.0, 0.1)
        self.visible = set(BASIC)
        self.plots = {}
        self.continuous_curves = {}
        self.sweep_curves = {}
        for index, (name, unit) in enumerate(names_units):
            self._add_signal(name, unit, index)
        self._relayout()
        self.set_mode(mode)
        self.scene().sigMouseMoved.connect(self._mouse_moved)

    # --- construction -----------------------------------------------------------------

    def _plot(self, panel):
        if panel not in self.plots:
            title, label, yrange = PANELS[panel]
            plot = pg.PlotItem()
            plot.setLabel("left", label, units=self._panel_unit(panel))
            plot.setLabel("bottom", "Time", units="s")
            plot.showGrid(x=True, y=True, alpha=theme.GRID_ALPHA)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.getAxis("left").setWidth(78)
            for side in ("left", "bottom"):
                # The grid belongs to the axes and spans the whole plot, so every
                # setData would repaint it (replaying thousands of QPicture ops).
                # Cached as a pixmap it is redrawn only when the axis range changes.
                plot.getAxis(side).setCacheMode(QGraphicsItem.DeviceCoordinateCache)
            plot.setYRange(*yrange, padding=0)
            plot.getViewBox().sigRangeChangedManually.connect(self._user_moved)
            if self.plots:
                plot.setXLink(next(iter(self.plots.values())))
            self.plots[panel] = plot
        return self.plots[panel]

    def _panel_unit(self, panel):
        if panel == "Vm":
            return "V"
        if panel == "command":
            return "V" if self.mode == "VC" else "A"
        return {"Im": "A", "currents": "A", "conductances": "S"}.get(panel, "")

    def _add_signal(self, name, unit, index):
        plot = self._plot(panel_of(name, unit))
        color = theme.trace_color(name, index)
        # No legend: the trace checkboxes above the scopes are coloured like the traces.
        curve = plot.plot(pen=pg.mkPen(color, width=1))
        # Set after the item is in its plot, as PlotDataItem's notes ask.
        curve.setClipToView(True)
        curve.setDownsampling(auto=True, method="peak")
        self.continuous_curves[name] = curve
        self.sweep_curves[name] = []
        for _ in range(OVERLAY_SLOTS):
            sweep_curve = plot.plot(pen=pg.mkPen(color, width=1))
            sweep_curve.setClipToView(True)
            sweep_curve.setDownsampling(auto=True, method="peak")
            sweep_curve.setVisible(False)
            self.sweep_curves[name].append(sweep_curve)

    def optional_signals(self):
        """Names of the signals the user may add (each channel's I and g, the gates)."""
        return [n for n in self._units if n not in BASIC]

    # --- what is shown ----------------------------------------------------------------

    def set_visible(self, name, visible):
        """Show or hide an optional trace; panels appear when they have a trace."""
        if name in BASIC or name not in self._units:
            return
        (self.visible.add if visible else self.visible.discard)(name)
        self._relayout()
        self._show_curves()

    def _visible_panels(self):
        panels = []
        for name in self._units:
            panel = panel_of(name, self._units[name])
            if name in self.visible and panel not in panels:
                panels.append(panel)
        return panels

    def _relayout(self):
        self.ci.clear()
        shown = self._visible_panels()
        for row, panel in enumerate(shown):
            plot = self.plots[panel]
            # Only the bottom plot labels the shared time axis; the rest save the room.
            plot.getAxis("bottom").setStyle(showValues=row == len(shown) - 1)
            plot.showAxis("bottom")
            plot.getAxis("bottom").showLabel(row == len(shown) - 1)
            self.ci.addItem(plot, row=row, col=0)
            # The three basic scopes get more height than the optional ones.
            self.ci.layout.setRowStretchFactor(row, 3 if panel in BASIC else 2)

    def _show_curves(self):
        for name, curve in self.continuous_curves.items():
            curve.setVisible(self.style == "continuous" and name in self.visible)
        for name, curves in self.sweep_curves.items():
            for slot, curve in enumerate(curves):
                has_data = name in self._slots and bool(self._slots[name].filled[slot] > 0)
                curve.setVisible(self.style == "episodic" and name in self.visible and has_data)

    def set_mode(self, mode):
        """Clamp mode changed: relabel the command axis and set fitting default ranges."""
        old = self.mode
        self.mode = mode
        plot = self.plots["command"]
        plot.setLabel("left", "Cmd", units=self._panel_unit("command"))
        for panel in ("Im", "command"):
            yrange = CC_RANGES[panel] if mode != "VC" else PANELS[panel][2]
            self.plots[panel].setYRange(*yrange, padding=0)
        if (old == "VC") != (mode == "VC") and "command" in self._rings:
            # V and A must not share one trace.
            del self._rings["command"]
            self.continuous_curves["command"].setData([], [])

    def set_style(self, style):
        """'continuous' or 'episodic' display."""
        self.style = style
        self.follow = True
        self._dirty.update(self.continuous_curves)
        self._show_curves()
        self._update_x_range()

    def set_display(self, display, window_s=None):
        """Continuous display: 'sweep' or 'scroll', and the time window in s."""
        self.display = display
        if window_s is not None:
            self.window_s = float(window_s)
        self._rings.clear()
        for curve in self.continuous_curves.values():
            curve.setData([], [])
        self.follow = True
        self._update_x_range()

    # --- data -------------------------------------------------------------------------

    def begin_protocol(self, protocol):
        """Prepare the sweep overlay for a protocol (its longest sweep and sample rate)."""
        longest = max(protocol.sweep_samples(k) for k in range(protocol.sweeps))
        interval = protocol.sample_interval_s
        self._slots = {name: SweepSlots(OVERLAY_SLOTS, longest, interval) for name in self._units}
        for curves in self.sweep_curves.values():
            for curve in curves:
                curve.setData([], [])
                curve.setVisible(False)
        self._episodic_span = (0.0, longest * interval)
        # The command of every sweep is known in advance: show its whole range (and in
        # VC the potential's, which follows it) before the first sweep arrives.
        commands = np.concatenate(render(protocol))
        low, high = float(commands.min()), float(commands.max())
        if high > low:
            self._set_y("command", low, high)
            if protocol.mode == "VC":
                self._set_y("Vm", low, high)
        self.set_style("episodic")

    def clear_sweeps(self):
        """Empty the episodic overlay."""
        for slots in self._slots.values():
            slots.clear()
        for curves in self.sweep_curves.values():
            for curve in curves:
                curve.setData([], [])
                curve.setVisible(False)

    def add_chunks(self, chunks):
        """Store chunks for the next refresh (no drawing here)."""
        for chunk in chunks:
            if chunk.kind == "continuous" and self.style == "continuous":
                self._add_continuous(chunk)
            elif chunk.kind == "sweep" and self._slots:
                self._add_sweep(chunk)

    def _add_continuous(self, chunk):
        for name in self.visible:
            ring = self._rings.get(name)
            if ring is None or ring.sample_interval_s != chunk.sample_interval_s:
                ring = PeakRing(self.window_s, chunk.sample_interval_s, self.display)
                self._rings[name] = ring
            ring.append(chunk.signals[name])
            self._dirty.add(name)

    def _add_sweep(self, chunk):
        for name in self.visible:
            slots = self._slots[name]
            slot, started = slots.write(chunk.sweep, chunk.first_sample, chunk.signals[name])
            if started:
                self._fade(name)
            self._dirty.add((name, slot))

    def _fade(self, name):
        color = theme.trace_color(name, list(self._units).index(name))
        for slot, age in self._slots[name].ages().items():
            faded = pg.mkColor(color)
            if age > 0:
                # Older sweeps: dimmer and greyer, so the newest stands out.
                faded = faded.darker(100 + 25 * age)
                faded.setAlpha(max(50, int(255 * FADE ** age)))
            self.sweep_curves[name][slot].setPen(pg.mkPen(faded, width=1))
            self.sweep_curves[name][slot].setZValue(-age)

    def refresh(self):
        """Draw what changed since the last refresh: one setData per changed curve."""
        for key in self._dirty:
            if isinstance(key, tuple):
                name, slot = key
                if self.style == "episodic" and name in self.visible:
                    curve = self.sweep_curves[name][slot]
                    curve.setData(*self._slots[name].data(slot))
                    curve.setVisible(True)
            elif self.style == "continuous" and key in self._rings and key in self.visible:
                x, y = self._rings[key].data()
                self.continuous_curves[key].setData(x, y, connect="finite")
        self._dirty.clear()
        if self.follow:
            self._update_x_range()

    def _update_x_range(self):
        if not self.follow:
            return
        if self.style == "episodic":
            span = self._episodic_span
        elif "Vm" in self._rings:
            span = self._rings["Vm"].time_span()
        else:
            span = (0.0, self.window_s)
        plot = self.plots["Vm"]
        if plot.getViewBox().viewRange()[0] != list(span):
            plot.setXRange(*span, padding=0)

    def _user_moved(self, *_):
        self.follow = False

    def autoscale(self, panels=None):
        """Fit visible panels' y ranges to their traces; the x range follows again.

        The range spans the 0.1th to 99.9th percentile of the samples, so the
        one-sample capacitive spikes of an ideal clamp do not flatten the ionic
        currents to a line (they still show, clipped at the edge).
        """
        for panel in self._visible_panels():
            if panels is not None and panel not in panels:
                continue
            values = [y[np.isfinite(y)] for name, unit in self._units.items()
                      if name in self.visible and panel_of(name, unit) == panel
                      for y in self._shown_data(name)]
            values = [v for v in values if v.size]
            if not values:
                continue
            low, high = np.percentile(np.concatenate(values), [0.1, 99.9])
            self._set_y(panel, low, high)
        self.follow = True
        self._update_x_range()

    def _set_y(self, panel, low, high):
        pad = 0.08 * (high - low) or max(abs(high) * 0.1, 1e-12)
        self.plots[panel].setYRange(low - pad, high + pad, padding=0)

    def _shown_data(self, name):
        if self.style == "continuous":
            return [self._rings[name].data()[1]] if name in self._rings else []
        if name not in self._slots:
            return []
        slots = self._slots[name]
        return [slots.data(s)[1] for s in range(slots.slots) if slots.filled[s]]

    # --- cursor readout ---------------------------------------------------------------

    def _mouse_moved(self, pos):
        for panel, plot in self.plots.items():
            if plot.scene() is None or not plot.sceneBoundingRect().contains(pos):
                continue
            point = plot.getViewBox().mapSceneToView(pos)
            unit = self._panel_unit(panel)
            label = PANELS[panel][1]
            value = (pg.siFormat(point.y(), precision=4, suffix=unit) if unit
                     else f"{point.y():.3f}")
            self.cursorMoved.emit(f"t = {pg.siFormat(point.x(), precision=4, suffix='s')}   "
                                  f"{label} = {value}")
            return
