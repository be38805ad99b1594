"""Two oscilloscope cursors across the stacked scopes, and their readout.

Each plot gets two draggable vertical lines; dragging one moves its twins in the other
plots, so the pair reads as two lines across the whole stack. The readout gives t1,
t2, dt and 1/dt, and for each visible trace its value at each cursor and the
difference, in ephys units (mV, pA, nS; gates unitless). The values come from the
scope (:meth:`ui.scopes.scope.ScopeStack.value_at`): the highlighted or newest sweep in
episodic display, the displayed trace in continuous display.
"""

import math
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal

from rig import units
from rig.files.layout import FILE_UNITS
from ui.look import theme

LABELS = ("1", "2")


@dataclass(frozen=True)
class Readout:
    """Cursor positions (s) and rows (name, unit, value at t1, value at t2) in the
    unit shown; a missing value is NaN."""

    t1: float
    t2: float
    rows: tuple

    @property
    def dt(self):
        """t2 - t1 in s."""
        return self.t2 - self.t1


class CursorPair(QObject):
    """The cursors of a stack. moved() fires while either is dragged."""

    moved = Signal()

    def __init__(self, stack):
        super().__init__(stack)
        self.stack = stack
        self.enabled = False
        self.positions = [0.0, 0.0]
        self._lines = {}  # panel -> (line1, line2)

    def dispose(self):
        """Drop the lines and the stack (see ScopeStack.dispose)."""
        self._lines.clear()
        self.stack = None

    def set_enabled(self, on):
        """Show the cursors (placed at a quarter and three quarters of the time axis
        the first time) or hide them."""
        if on and not self.enabled and self.positions[0] == self.positions[1]:
            low, high = self.stack.time_range()
            self.positions = [low + 0.25 * (high - low), low + 0.75 * (high - low)]
        self.enabled = bool(on)
        self.sync()
        self.moved.emit()

    def sync(self):
        """Put a pair of lines in every plot shown (plots may come and go)."""
        for panel, plot in self.stack.plots.items():
            lines = self._lines.get(panel)
            if lines is None:
                lines = tuple(self._make_line(plot, k) for k in range(2))
                self._lines[panel] = lines
            for k, line in enumerate(lines):
                line.blockSignals(True)
                line.setValue(self.positions[k])
                line.blockSignals(False)
                line.setVisible(self.enabled)

    def _make_line(self, plot, k):
        color = theme.cursor_colors()[k]
        line = pg.InfiniteLine(self.positions[k], angle=90, movable=True,
                               pen=pg.mkPen(color, width=1, style=Qt.DashLine),
                               hoverPen=pg.mkPen(color, width=3),
                               label=LABELS[k], labelOpts={"position": 0.95, "color": color})
        line.setZValue(1000)
        line.setVisible(self.enabled)
        line.sigPositionChanged.connect(lambda moved, k=k: self._dragged(k, moved.value()))
        plot.addItem(line, ignoreBounds=True)
        return line

    def apply_theme(self, look):
        """Draw every line in a look's cursor colours."""
        for lines in self._lines.values():
            for k, line in enumerate(lines):
                color = theme.cursor_colors(look)[k]
                line.setPen(pg.mkPen(color, width=1, style=Qt.DashLine))
                line.setHoverPen(pg.mkPen(color, width=3))
                line.label.setColor(color)

    def _dragged(self, k, value):
        self.positions[k] = float(value)
        self.sync()
        self.moved.emit()

    def set_positions(self, t1, t2):
        """Place the cursors at t1 and t2 (s)."""
        self.positions = [float(t1), float(t2)]
        self.sync()
        self.moved.emit()

    def lines(self, panel):
        """The two lines in a panel's plot (for tests and export)."""
        return self._lines.get(panel, ())

    def readout(self):
        """The values of every visible trace at both cursors (a :class:`Readout`)."""
        t1, t2 = self.positions
        rows = []
        for name, unit in self.stack.visible_signals():
            shown, scale = FILE_UNITS.get(unit, ("", 1.0))
            rows.append((name, shown, self.stack.value_at(name, t1) * scale,
                         self.stack.value_at(name, t2) * scale))
        return Readout(t1, t2, tuple(rows))


def format_readout(readout, names=None):
    """The readout as rich text (a small table) for a label; names: {signal: short
    name shown} (e.g. command -> Cmd)."""
    names = names or {}
    dt = readout.dt
    rate = f"{1 / abs(dt):.4g} Hz" if dt else "---"
    head = (f"<b>t1</b> {units.s_to_ms(readout.t1):.3f} ms &nbsp; "
            f"<b>t2</b> {units.s_to_ms(readout.t2):.3f} ms<br>"
            f"<b>dt</b> {units.s_to_ms(dt):.3f} ms &nbsp; <b>1/dt</b> {rate}")
    cells = "".join(
        f"<tr><td><b>{names.get(name, name)}</b> {unit}</td><td align='right'>{_number(v1)}</td>"
        f"<td align='right'>{_number(v2)}</td><td align='right'>{_number(v2 - v1)}</td></tr>"
        for name, unit, v1, v2 in readout.rows)
    table = ("<table cellspacing='0' cellpadding='1' width='100%'><tr><td></td>"
             "<td align='right'>at 1</td><td align='right'>at 2</td>"
             f"<td align='right'>2&minus;1</td></tr>{cells}</table>")
    return head + table


def _number(value):
    """A value with the decimals its size deserves (-65.03, 1234, 0.596), or ---."""
    if not math.isfinite(value):
        return "---"
    size = abs(value)
    decimals = 0 if size >= 1000 else 1 if size >= 100 else 2 if size >= 1 else 3
    return f"{value:.{decimals}f}"
