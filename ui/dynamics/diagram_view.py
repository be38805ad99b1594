"""The bifurcation diagram plot: V (mV) against injected current (pA). Stable
equilibria solid, unstable dashed; the cycles' V maximum and minimum as filled
(stable) or open (unstable) dots; Hopf points and the fold of cycles marked and
labelled; a vertical line at the running cell's present current."""

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from ui.look import theme

EQ_COLOR = "#4fc3f7"
CYCLE_COLOR = "#ffb74d"
HOPF_COLOR = "#e57373"
FOLD_COLOR = "#ba68c8"
PRESENT_COLOR = "#81c784"


def _runs(mask):
    """x/y connect array: connect sample i to i+1 only where both are in mask."""
    mask = np.asarray(mask, bool)
    return np.concatenate((mask[:-1] & mask[1:], [False])) if mask.size else mask


class DiagramPlot(pg.PlotWidget):
    """The diagram; show(diagram) draws a rig.dynamics.diagram.Diagram,
    set_present(pA or None) moves the present-current line."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("BifurcationDiagram")
        self.setLabel("bottom", "injected current", units="pA")
        self.setLabel("left", "V", units="mV")
        self.showGrid(x=True, y=True, alpha=0.2)
        self.setBackground(theme.current().scope_background)  # restyle() follows switches
        self.addLegend(offset=(-10, 10))  # top right: above the cycles' peaks
        self.view = "onset"  # or "all"
        dash = pg.mkPen(EQ_COLOR, width=2, style=Qt.DashLine)
        self.stable_eq = self.plot([], [], pen=pg.mkPen(EQ_COLOR, width=2),
                                   name="stable rest")
        self.unstable_eq = self.plot([], [], pen=dash, name="unstable equilibrium")
        self.stable_cycles = self.plot([], [], pen=None, symbol="o", symbolSize=5,
                                       symbolBrush=CYCLE_COLOR, symbolPen=None,
                                       name="stable cycle: V max, min")
        self.unstable_cycles = self.plot([], [], pen=None, symbol="o", symbolSize=5,
                                         symbolBrush=None, symbolPen=CYCLE_COLOR,
                                         name="unstable cycle")
        self.hopf_marks = self.plot([], [], pen=None, symbol="s", symbolSize=11,
                                    symbolBrush=HOPF_COLOR, name="Hopf")
        self.fold_marks = self.plot([], [], pen=None, symbol="t", symbolSize=12,
                                    symbolBrush=FOLD_COLOR, name="fold of cycles")
        self.present = pg.InfiniteLine(angle=90, movable=False,
                                       pen=pg.mkPen(PRESENT_COLOR, width=2))
        self.present.setVisible(False)
        self.addItem(self.present)
        self.labels = []
        self.diagram = None
        self.present_pa = None

    def clear_diagram(self):
        """Nothing drawn (a new cell whose diagram is not known yet)."""
        self.diagram = None
        for item in (self.stable_eq, self.unstable_eq, self.stable_cycles,
                     self.unstable_cycles, self.hopf_marks, self.fold_marks):
            item.setData([], [])
        self._clear_labels()

    def _clear_labels(self):
        for label in self.labels:
            self.removeItem(label)
        self.labels = []

    def _label(self, text, x, y, color):
        label = pg.TextItem(text, color=color, anchor=(0, 1))
        label.setPos(x, y)
        self.addItem(label)
        self.labels.append(label)

    def show_diagram(self, diagram):
        """Draw a Diagram (equilibria only until its cycles are done)."""
        self.diagram = diagram
        i, v, stable = diagram.eq_current_pa, diagram.eq_v_mv, diagram.eq_stable
        self.stable_eq.setData(i, v, connect=_runs(stable))
        self.unstable_eq.setData(i, v, connect=_runs(~stable))
        self._clear_labels()
        self.hopf_marks.setData([h.current_pa for h in diagram.hopf],
                                [h.v_mv for h in diagram.hopf])
        for h in diagram.hopf:
            self._label(f"Hopf {h.current_pa:.4g} pA", h.current_pa, h.v_mv, HOPF_COLOR)
        s = diagram.cycle_stable
        for item, mask in ((self.stable_cycles, s), (self.unstable_cycles, ~s)):
            x = np.concatenate((diagram.cycle_current_pa[mask], diagram.cycle_current_pa[mask]))
            y = np.concatenate((diagram.cycle_v_max_mv[mask], diagram.cycle_v_min_mv[mask]))
            item.setData(x, y)
        if diagram.fold is not None:
            current, high, low = diagram.fold
            self.fold_marks.setData([current, current], [high, low])
            self._label(f"fold {current:.4g} pA", current, high, FOLD_COLOR)
        else:
            self.fold_marks.setData([], [])
        self._frame()

    def set_view(self, view):
        """'onset': the fold of cycles to past the lower Hopf point (the bistable band
        fills the plot); 'all': every landmark."""
        self.view = view
        if self.diagram is not None:
            self._frame()

    def _frame(self):
        """Show the currents that matter (the branch itself runs to huge currents at
        its ends): around the onset of firing, or from below the lowest landmark to
        past the highest."""
        d = self.diagram
        self.setYRange(-100, 80, padding=0)
        onset = d.hopf_of("onset")
        if self.view == "onset" and onset is not None:
            low = min(0.0, d.fold[0]) if d.fold else 0.0
            self.setXRange(low, 1.6 * onset.current_pa - 0.6 * low, padding=0)
            return
        marks = [h.current_pa for h in d.hopf] + ([d.fold[0]] if d.fold else [])
        if self.present_pa is not None:
            marks.append(self.present_pa)
        if marks:
            low, high = min(marks + [0.0]), max(marks)
            pad = 0.15 * (high - low or abs(high) or 1.0)
            self.setXRange(low - pad, high + pad, padding=0)
        else:
            rest = d.eq_current_pa[np.argmin(np.abs(d.eq_current_pa))]
            self.setXRange(rest - 200, rest + 200, padding=0)

    def set_present(self, current_pa):
        """Move the present-current line (None hides it: voltage clamp)."""
        self.present_pa = current_pa
        self.present.setVisible(current_pa is not None)
        if current_pa is not None:
            self.present.setValue(current_pa)
