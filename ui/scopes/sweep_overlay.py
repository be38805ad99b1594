"""The episodic overlay: every sweep of a protocol run or a recording, each in its colour.

Each stored sweep (:class:`ui.scopes.scope_buffers.SweepStore`) of each visible signal is one
curve. Curves come from a pool per signal that grows to the store's capacity and is
reused when an old sweep is dropped, so they are created once; a new chunk costs one
``setData`` on its sweep's curve at the next refresh, and clip-to-view and peak
downsampling keep long sweeps cheap.

Colours: sweep k of n takes ``theme.sweep_colors(n)[k]``, the same in every panel, so
"the orange sweep" is one sweep everywhere. A panel that holds several signals (INa
with IK) colours them by signal instead, as the trace check boxes are. While sweeps
arrive the newest is drawn 2 px wide on top; a highlighted sweep is drawn 3 px wide on
top and the others are dimmed (still visible).
"""

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from ui.look import theme

NEWEST_WIDTH = 2
HIGHLIGHT_WIDTH = 3
HIT_PX = 8  # a click this close to a trace (screen pixels) selects its sweep


class SweepOverlay:
    """The overlay of a :class:`ui.scopes.scope.ScopeStack` (which owns the plots)."""

    def __init__(self, stack):
        self.stack = stack
        self.store = None
        self.labels = []
        self.count = 0  # sweeps in the protocol or recording: sets the colour scale
        self.highlight = None
        self.live = False  # a protocol is still sending sweeps
        self.curves = {name: [] for name in stack.units}
        self._slot = {}  # sweep -> index of its curve in each pool
        self._dirty = set()
        self._colors = []

    def dispose(self):
        """Drop the curves and the stack (see ScopeStack.dispose)."""
        self.curves.clear()
        self.store = None
        self.stack = None

    # --- contents -----------------------------------------------------------------

    def begin(self, store, labels, live):
        """Start a new overlay on an empty (live) or filled (recording) store."""
        self.store = store
        self.labels = list(labels)
        self.count = max(len(self.labels), 1)
        self._colors = theme.sweep_colors(self.count)
        self.highlight = None
        self.live = live
        self._slot.clear()
        self._dirty.clear()
        for curves in self.curves.values():
            for curve in curves:
                curve.setData([], [])
                curve.setVisible(False)
        for sweep in store.sweeps():
            self._assign(sweep)
        self._mark_all()
        self.restyle()

    def write(self, chunk):
        """Store a sweep chunk; returns True if it began a new sweep."""
        started = self.store.write(chunk.sweep, chunk.first_sample, chunk.signals)
        if started:
            self._assign(chunk.sweep)
            if self.highlight is not None and self.highlight not in self._slot:
                self.highlight = None
            self.restyle()
        for name in self.stack.visible:
            self._dirty.add((name, chunk.sweep))
        return started

    def _assign(self, sweep):
        """Give a sweep a curve of each pool, taking over a dropped sweep's curves."""
        held = set(self.store.sweeps())
        for gone in [s for s in self._slot if s not in held]:
            del self._slot[gone]
        used = set(self._slot.values())
        free = next((i for i in range(self.store.capacity) if i not in used), None)
        self._slot[sweep] = len(used) if free is None else free
        if self.count <= sweep:
            self.count = sweep + 1
            self._colors = theme.sweep_colors(self.count)

    def clear(self):
        """Forget every sweep (the protocol's colours and labels stay)."""
        if self.store is not None:
            self.store.clear()
        self._slot.clear()
        self._dirty.clear()
        self.highlight = None
        for curves in self.curves.values():
            for curve in curves:
                curve.setData([], [])
                curve.setVisible(False)

    def sweeps(self):
        """Sweep numbers shown, oldest first."""
        return [] if self.store is None else self.store.sweeps()

    def label(self, sweep):
        """The stimulus that sets a sweep apart ('-40 mV'), or its number."""
        return self.labels[sweep] if 0 <= sweep < len(self.labels) else f"sweep {sweep + 1}"

    def color(self, sweep):
        """A sweep's colour (QColor)."""
        return QColor(self._colors[sweep % len(self._colors)]) if self._colors else QColor()

    def apply_theme(self, look):
        """Take a look's sweep and trace colours (see ui.look.theme.restyle)."""
        self._colors = theme.sweep_colors(self.count, look) if self._colors else []
        for name, pool in self.curves.items():
            for curve in pool:  # the pens of curves no sweep uses yet
                curve.setPen(pg.mkPen(theme.trace_color(name, look=look), width=1))
        self.restyle()

    def current(self):
        """The sweep the cursors read: the highlighted one, else the newest."""
        return self.highlight if self.highlight is not None else (
            None if self.store is None else self.store.newest())

    # --- drawing ------------------------------------------------------------------

    def _curve(self, name, sweep):
        pool = self.curves[name]
        index = self._slot[sweep]
        while len(pool) <= index:
            plot = self.stack.plot_of(name)
            curve = plot.plot(pen=pg.mkPen(theme.trace_color(name), width=1))
            # Set after the item is in its plot, as PlotDataItem's notes ask.
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
            curve.setVisible(False)
            pool.append(curve)
        return pool[index]

    def _mark_all(self):
        for sweep in self.sweeps():
            for name in self.stack.visible:
                self._dirty.add((name, sweep))

    def refresh(self, shown):
        """setData on the curves whose sweep changed; shown: the overlay is on screen."""
        if not shown:
            return
        pools = sum(len(pool) for pool in self.curves.values())
        for name, sweep in self._dirty:
            if sweep in self._slot and name in self.stack.visible:
                x, y = self.store.data(sweep, name)
                if y.size:
                    curve = self._curve(name, sweep)
                    curve.setData(x, y)
                    curve.setVisible(True)
        self._dirty.clear()
        if sum(len(pool) for pool in self.curves.values()) != pools:
            self.restyle()  # new curves take their sweep's pen

    def show(self, shown):
        """Show or hide every curve (the display style or a trace tick changed)."""
        if shown:
            self._mark_all()
            self.restyle()
        for name, pool in self.curves.items():
            on = shown and name in self.stack.visible
            for sweep, index in self._slot.items():
                if index < len(pool):
                    pool[index].setVisible(on and self.store.data(sweep, name)[1].size > 0)
            used = set(self._slot.values())
            for index, curve in enumerate(pool):
                if index not in used:
                    curve.setVisible(False)

    def restyle(self):
        """Set every curve's pen and stacking from the highlight and the newest sweep."""
        sweeps = self.sweeps()
        newest = sweeps[-1] if sweeps else None
        by_signal = self.stack.shared_panels()
        for name, pool in self.curves.items():
            for order, sweep in enumerate(sweeps):
                index = self._slot.get(sweep)
                if index is None or index >= len(pool):
                    continue
                color = theme.trace_color(name) if name in by_signal else self.color(sweep)
                width, z = 1, order
                if self.highlight is not None:
                    if sweep == self.highlight:
                        width, z = HIGHLIGHT_WIDTH, len(sweeps) + 1
                    else:
                        color = QColor(color)
                        color.setAlpha(theme.current().dimmed_alpha)
                elif self.live and sweep == newest:
                    width, z = NEWEST_WIDTH, len(sweeps) + 1
                pool[index].setPen(pg.mkPen(color, width=width))
                pool[index].setZValue(z)

    def set_highlight(self, sweep):
        """Highlight a sweep (None: every sweep alike)."""
        self.highlight = sweep if sweep in self._slot else None
        self.restyle()

    # --- reading ------------------------------------------------------------------

    def arrays(self, name, only_highlight=False):
        """The y arrays of a signal's sweeps (the highlighted one only, if asked and
        one is highlighted)."""
        sweeps = self.sweeps()
        if only_highlight and self.highlight is not None:
            sweeps = [self.highlight]
        return [self.store.data(sweep, name)[1] for sweep in sweeps]

    def value_at(self, name, t):
        """A signal's value (SI) at time t (s) in the current sweep; NaN if none."""
        sweep = self.current()
        return float("nan") if sweep is None else self.store.value_at(sweep, name, t)

    def nearest(self, names, x, y, pixel):
        """The sweep whose trace of one of names passes within HIT_PX of the point
        (x s, y SI); pixel: (s, SI) per screen pixel. None if no trace is that close."""
        best, best_px = None, HIT_PX
        if self.store is None or pixel[0] <= 0 or pixel[1] <= 0:
            return None
        dt = self.store.sample_interval_s
        first = max(0, int(np.floor((x - HIT_PX * pixel[0]) / dt)))
        last = int(np.ceil((x + HIT_PX * pixel[0]) / dt)) + 1
        for sweep in self.sweeps():
            for name in names:
                window = self.store.data(sweep, name)[1][first:last]
                window = window[np.isfinite(window)]
                if not window.size:
                    continue
                low, high = float(window.min()), float(window.max())
                off = 0.0 if low <= y <= high else min(abs(y - low), abs(y - high))
                if off / pixel[1] < best_px:
                    best, best_px = sweep, off / pixel[1]
        return best
