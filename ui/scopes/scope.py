"""The oscilloscopes: stacked pyqtgraph plots of Vm, Im, the command and optional traces.

Performance habits (pyqtgraph's scrollingPlots example and PlotDataItem notes):
curves are created once (the continuous ones when the signal set is known, the
episodic ones from a pool that grows to the overlay's capacity); each display tick
calls ``setData`` once per visible, changed curve with views of preallocated buffers
(:mod:`ui.scopes.scope_buffers`); clip-to-view and peak downsampling are set after the curve
is added to its plot; pens are 1 px wide and not antialiased (only a highlighted or the
newest sweep is wider).

Two acquisition styles:

* continuous: chunks of kind 'continuous' go into a :class:`PeakRing` per signal,
  shown sweeping (fixed time axis, a gap moving ahead of the newest sample) or
  scrolling (the time axis follows the newest sample);
* episodic: chunks of kind 'sweep' (or a loaded recording) go into the
  :class:`ui.scopes.sweep_overlay.SweepOverlay`: every sweep in its own colour, one of them
  highlighted on request. The y axes refit after each complete sweep.

Two cursors (:mod:`ui.scopes.scope_cursors`) read values in either style. Values are SI; the
axes show mV, pA/nA, nS and ms/s through pyqtgraph's SI prefixes.
"""

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGraphicsItem

from rig.errors import VrigError
from rig.protocols.protocol import render
from ui.look import theme
from ui.scopes.frame_view import FrameView
from ui.scopes.scope_buffers import PeakRing, SweepStore
from ui.scopes.scope_cursors import CursorPair
from ui.scopes.scope_ranges import fit_range
from ui.scopes.sweep_labels import sweep_labels
from ui.scopes.sweep_overlay import SweepOverlay

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
# Other potentials (Vmem, the true membrane potential) share the Vm panel.
UNIT_PANEL = {"V": "Vm", "A": "currents", "S": "conductances", "": "gates"}
BASIC = ("Vm", "Im", "command")
MAX_OVERLAY_SWEEPS = 64  # sweeps kept at full resolution; older ones are dropped
MIN_PLOT_PX = 70  # a plot's least height with large text (x text scale)...
TIME_AXIS_PX = 45  # ...and the bottom one's time axis: each y label fits its plot
LEFT_AXIS_PX = 78  # room for the y axis' numbers and label (scaled for large text)


def panel_of(name, unit):
    """Which panel a signal is drawn in."""
    return name if name in BASIC else UNIT_PANEL.get(unit, "gates")


class ScopeStack(FrameView):
    """Stacked, x-linked plots. names_units: [(signal, SI unit)] from
    Rig.signal_names(); visible: names of the optional signals to show.

    Signals: cursorMoved(text) the value under the mouse; styleChanged(style);
    sweepsChanged() a sweep was added or dropped (the legend lists them again);
    highlightChanged(sweep or None)."""

    cursorMoved = Signal(str)
    styleChanged = Signal(str)
    sweepsChanged = Signal()
    highlightChanged = Signal(object)

    def __init__(self, names_units, mode="CC", parent=None):
        super().__init__(parent)
        self.ci.setSpacing(2)
        self.mode = mode  # the live clamp mode
        self.overlay_mode = mode  # the mode of the sweeps in the overlay
        self.style = "continuous"
        self.display = "sweep"
        self.window_s = 1.0
        self.follow = True  # the x range follows the data until the user pans
        self.units = dict(names_units)
        self._rings = {}
        self._dirty = set()
        self._episodic_span = (0.0, 0.1)
        self._include = {}  # panel -> (low, high) SI that a fit must show (the command)
        self._refit_due = False
        self.visible = set(BASIC)
        self.plots = {}
        self.continuous_curves = {}
        for index, (name, unit) in enumerate(names_units):
            self._add_signal(name, unit, index)
        self.overlay = SweepOverlay(self)
        self.cursors = CursorPair(self)
        self._relayout()
        self.set_mode(mode)
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.scene().sigMouseClicked.connect(self._mouse_clicked)

    def dispose(self):
        """Let go of the plots and the helpers before the widget is deleted: the
        overlay and the cursors refer back to the stack, and pyqtgraph's items to
        them, so without this every replaced stack stayed in memory (megabytes per
        cell change)."""
        self.scene().sigMouseMoved.disconnect(self._mouse_moved)
        self.scene().sigMouseClicked.disconnect(self._mouse_clicked)
        for plot in self.plots.values():
            plot.getViewBox().sigRangeChangedManually.disconnect(self._user_moved)
            plot.clear()
        self.clear()
        self.plots.clear()
        self.continuous_curves.clear()
        self._rings.clear()
        self.overlay.dispose()
        self.cursors.dispose()

    # --- construction -----------------------------------------------------------------

    def _plot(self, panel):
        if panel not in self.plots:
            _title, label, yrange = PANELS[panel]
            plot = pg.PlotItem()
            plot.setLabel("left", label, units=self._panel_unit(panel))
            plot.setLabel("bottom", "Time", units="s")
            plot.showGrid(x=True, y=True, alpha=theme.current().grid_alpha)
            theme.style_plot(plot)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.getAxis("left").setWidth(theme.current().px(LEFT_AXIS_PX))
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

    def plot_of(self, name):
        """The plot a signal is drawn in."""
        return self.plots[panel_of(name, self.units[name])]

    def _panel_unit(self, panel):
        if panel == "Vm":
            return "V"
        if panel == "command":
            mode = self.overlay_mode if self.style == "episodic" else self.mode
            return "V" if mode == "VC" else "A"
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

    def apply_theme(self, look):
        """Follow a new look (ui.look.theme.restyle has done the canvas, axes and grid):
        the traces' pens, the overlay's sweep colours, the cursors, the axis width."""
        if self.overlay.stack is None:  # disposed, waiting for deletion: nothing to style
            return
        for index, (name, curve) in enumerate(self.continuous_curves.items()):
            curve.setPen(pg.mkPen(theme.trace_color(name, index, look), width=1))
        for plot in self.plots.values():
            plot.getAxis("left").setWidth(look.px(LEFT_AXIS_PX))
        self._set_minimum_height(look)
        self.overlay.apply_theme(look)
        self.cursors.apply_theme(look)
        self.sweepsChanged.emit()  # the legend's swatches take the new colours

    @property
    def sweep_curves(self):
        """{signal: [curves of the episodic overlay]}."""
        return self.overlay.curves

    def optional_signals(self):
        """Names of the signals the user may add (each channel's I and g, the gates)."""
        return [n for n in self.units if n not in BASIC]

    # --- what is shown ----------------------------------------------------------------

    def set_visible(self, name, visible):
        """Show or hide an optional trace; panels appear when they have a trace."""
        if name in BASIC or name not in self.units:
            return
        (self.visible.add if visible else self.visible.discard)(name)
        self._relayout()
        self._show_curves()

    def visible_signals(self):
        """[(name, SI unit)] of the traces shown, in panel order (the command's unit
        is the displayed mode's: V in VC, A otherwise)."""
        return [(name, self._panel_unit("command") if name == "command" else self.units[name])
                for panel in self._visible_panels() for name in self.units
                if name in self.visible and panel_of(name, self.units[name]) == panel]

    def shared_panels(self):
        """Names of visible signals that share their panel with another visible one."""
        count = {}
        for name in self.visible:
            panel = panel_of(name, self.units[name])
            count[panel] = count.get(panel, 0) + 1
        return {n for n in self.visible if count[panel_of(n, self.units[n])] > 1}

    def _visible_panels(self):
        panels = []
        for name in self.units:
            panel = panel_of(name, self.units[name])
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
        self.cursors.sync()
        self._set_minimum_height(theme.current())

    def _set_minimum_height(self, look):
        """With large text every plot keeps room for its axis label (a bottom dock
        then scrolls instead of squeezing the scopes); normal text as before."""
        plots = len(self._visible_panels())
        self.setMinimumHeight(look.px(plots * MIN_PLOT_PX + TIME_AXIS_PX) if look.large_text
                              else 0)

    def _show_curves(self):
        for name, curve in self.continuous_curves.items():
            curve.setVisible(self.style == "continuous" and name in self.visible)
        self.overlay.show(self.style == "episodic")

    def set_mode(self, mode):
        """Clamp mode changed: relabel the command axis and set fitting default ranges."""
        old = self.mode
        self.mode = mode
        if self.style != "episodic":
            self.overlay_mode = mode
        self._label_command()
        for panel in ("Im", "command"):
            yrange = CC_RANGES[panel] if mode != "VC" else PANELS[panel][2]
            self.plots[panel].setYRange(*yrange, padding=0)
        if (old == "VC") != (mode == "VC") and "command" in self._rings:
            # V and A must not share one trace.
            del self._rings["command"]
            self.continuous_curves["command"].setData([], [])

    def _label_command(self):
        self.plots["command"].setLabel("left", "Cmd", units=self._panel_unit("command"))

    def set_style(self, style):
        """'continuous' or 'episodic' display."""
        changed = style != self.style
        self.style = style
        self.follow = True
        self._dirty.update(self.continuous_curves)
        self._label_command()
        self._show_curves()
        self._update_x_range()
        if changed:
            self.styleChanged.emit(style)

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
        """Prepare the sweep overlay for a protocol: its sweeps' lengths, labels
        (:func:`ui.scopes.sweep_labels.sweep_labels`) and command range."""
        lengths = [protocol.sweep_samples(k) for k in range(protocol.sweeps)]
        store = SweepStore(protocol.sample_interval_s, lengths, MAX_OVERLAY_SWEEPS)
        self.overlay_mode = protocol.mode
        self._episodic_span = (0.0, max(lengths) * protocol.sample_interval_s)
        # The command of every sweep is known in advance: show its whole range (and in
        # VC the potential's, in CC the injected current's, which follow it) before the
        # first sweep arrives, and keep it in every later fit.
        commands = np.concatenate(render(protocol))
        command_range = (float(commands.min()), float(commands.max()))
        follower = "Vm" if protocol.mode == "VC" else "Im"
        self._include = {"command": command_range, follower: command_range}
        self.overlay.begin(store, sweep_labels(protocol), live=True)
        self.set_style("episodic")
        for panel in self._include:
            self._fit_panel(panel)
        self.sweepsChanged.emit()
        self.highlightChanged.emit(None)

    def show_recording(self, recording, labels):
        """Overlay a loaded :class:`rig.files.recording.Recording` (SI arrays, one row per
        sweep, NaN padded); labels: one legend text per sweep. Signals the rig does not
        have are left out; only the newest MAX_OVERLAY_SWEEPS sweeps are kept.
        Raises VrigError for a recording without a usable sample interval."""
        interval = float(recording.sample_interval_s)
        if not np.isfinite(interval) or interval <= 0:
            raise VrigError(f"the recording's sample interval ({interval:g} s) is not a "
                            "positive time: it cannot be shown on the scopes")
        lengths = [int(n) for n in recording.sweep_lengths]
        store = SweepStore(recording.sample_interval_s, lengths, MAX_OVERLAY_SWEEPS,
                           budget=None)
        # The command is V or A by the recording's mode, whatever the live mode is.
        names = [n for n in recording.signals if n in self.units
                 and (n == "command" or recording.units.get(n) == self.units[n])]
        for k, n in enumerate(lengths):
            store.add_sweep(k, {name: recording.signals[name][k, :n] for name in names})
        command_unit = recording.units.get("command")
        self.overlay_mode = recording.metadata.get(
            "mode", "VC" if command_unit == "V" else "CC")
        self._episodic_span = (0.0, max(lengths, default=1) * recording.sample_interval_s)
        self._include = {}
        self.overlay.begin(store, labels, live=False)
        self.set_style("episodic")
        self.refresh()
        self.autoscale()
        self.sweepsChanged.emit()
        self.highlightChanged.emit(None)

    def clear_sweeps(self):
        """Empty the episodic overlay."""
        self.overlay.clear()
        self.sweepsChanged.emit()
        self.highlightChanged.emit(None)

    def set_highlight(self, sweep):
        """Highlight one sweep of the overlay (None: all alike); the cursors read it."""
        self.overlay.set_highlight(sweep)
        self.highlightChanged.emit(self.overlay.highlight)
        self.cursors.moved.emit()

    def add_chunks(self, chunks):
        """Store chunks for the next refresh (no drawing here)."""
        for chunk in chunks:
            if chunk.kind == "continuous" and self.style == "continuous":
                self._add_continuous(chunk)
            elif chunk.kind == "sweep" and self.overlay.store is not None:
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
        store = self.overlay.store
        if self.overlay.write(chunk):
            self.sweepsChanged.emit()
        if store.complete(chunk.sweep):
            self._refit_due = True
            if chunk.sweep + 1 >= len(store.lengths):
                self.overlay.live = False
                self.overlay.restyle()
                self.sweepsChanged.emit()

    def refresh(self):
        """Draw what changed since the last refresh: one setData per changed curve."""
        for key in self._dirty:
            if self.style == "continuous" and key in self._rings and key in self.visible:
                x, y = self._rings[key].data()
                self.continuous_curves[key].setData(x, y, connect="finite")
        self._dirty.clear()
        self.overlay.refresh(self.style == "episodic")
        if self._refit_due and self.style == "episodic" and self.follow:
            self.autoscale()
        self._refit_due = False
        if self.follow:
            self._update_x_range()

    def time_range(self):
        """(start, end) of the time axis shown, in s."""
        low, high = self.plots["Vm"].getViewBox().viewRange()[0]
        return float(low), float(high)

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
        """Fit visible panels' y ranges to their traces (the highlighted sweep's, if
        one is highlighted); the x range follows again. See :mod:`ui.scopes.scope_ranges`."""
        for panel in self._visible_panels():
            if panels is None or panel in panels:
                self._fit_panel(panel)
        self.follow = True
        self._update_x_range()

    def _fit_panel(self, panel):
        if panel not in self._visible_panels():
            return
        arrays = [y for name, unit in self.visible_signals()
                  if panel_of(name, unit) == panel for y in self._shown_data(name)]
        include = self._include.get(panel) if self.style == "episodic" else None
        if self.style == "episodic" and self.overlay.highlight is not None:
            include = None  # a highlighted sweep fills its panels
        fitted = fit_range(arrays, self._panel_unit(panel), include)
        if fitted is not None:
            self.plots[panel].setYRange(*fitted, padding=0)

    def _shown_data(self, name):
        if self.style == "continuous":
            return [self._rings[name].data()[1]] if name in self._rings else []
        return self.overlay.arrays(name, only_highlight=True)

    # --- values and the mouse ---------------------------------------------------------

    def value_at(self, name, t):
        """A trace's value (SI) at time t (s): in episodic display from the highlighted
        or newest sweep (the sample nearest t); in continuous display from the trace
        shown (the middle of its min-max bin). NaN where there is none."""
        if self.style == "episodic":
            return self.overlay.value_at(name, t)
        ring = self._rings.get(name)
        if ring is None:
            return float("nan")
        x, y = ring.data()
        near = np.flatnonzero(np.abs(x - t) <= ring.bin_s / 2 + 1e-15)
        values = y[near][np.isfinite(y[near])]
        return float((values.min() + values.max()) / 2) if values.size else float("nan")

    def _panel_at(self, pos):
        for panel, plot in self.plots.items():
            if plot.scene() is not None and plot.sceneBoundingRect().contains(pos):
                return panel
        return None

    def _mouse_moved(self, pos):
        panel = self._panel_at(pos)
        if panel is None:
            return
        point = self.plots[panel].getViewBox().mapSceneToView(pos)
        unit = self._panel_unit(panel)
        label = PANELS[panel][1]
        value = (pg.siFormat(point.y(), precision=4, suffix=unit) if unit
                 else f"{point.y():.3f}")
        self.cursorMoved.emit(f"t = {pg.siFormat(point.x(), precision=4, suffix='s')}   "
                              f"{label} = {value}")

    def _mouse_clicked(self, event):
        """A left click on a trace of the overlay highlights its sweep; on the
        highlighted sweep it clears the highlight."""
        if (event.button() != Qt.LeftButton or event.double() or self.style != "episodic"
                or event.isAccepted()):
            return
        panel = self._panel_at(event.scenePos())
        if panel is None:
            return
        box = self.plots[panel].getViewBox()
        point = box.mapSceneToView(event.scenePos())
        names = [n for n, u in self.visible_signals() if panel_of(n, u) == panel]
        sweep = self.overlay.nearest(names, point.x(), point.y(), box.viewPixelSize())
        if sweep is not None:
            self.set_highlight(None if sweep == self.overlay.highlight else sweep)
