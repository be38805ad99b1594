"""The phase plane: V (mV) against the K activation gate n, with the 2-D reduction's
nullclines (rig.dynamics.reduction) at the present injected current and the running
cell's full trajectory (its membrane potential and its own n) overlaid live."""

import numpy as np
import pyqtgraph as pg

from rig.dynamics.reduction import phase_plane, v_nullcline
from ui.look import theme

V_NULL_COLOR = "#4fc3f7"
N_NULL_COLOR = "#e57373"
TRAJECTORY_COLOR = "#ffd54f"
TRAIL_POINTS = 4000  # the trajectory keeps this many samples (the newest)


class PhasePlot(pg.PlotWidget):
    """set_system(system or None, why) chooses the reduced system (None: no
    nullclines, why says so); set_current(pA) redraws the nullclines;
    add_samples(v_mv, n) extends the trajectory."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("PhasePlane")
        self.setLabel("bottom", "V", units="mV")
        self.setLabel("left", "n (K activation)")
        self.showGrid(x=True, y=True, alpha=0.2)
        self.setBackground(theme.current().scope_background)  # restyle() follows switches
        self.addLegend(offset=(10, 10))
        self.v_null = self.plot([], [], pen=None, symbol="o", symbolSize=2,
                                symbolBrush=V_NULL_COLOR, symbolPen=None,
                                name="dV/dt = 0 (reduced)")
        self.n_null = self.plot([], [], pen=pg.mkPen(N_NULL_COLOR, width=2),
                                name="dn/dt = 0: n = n_inf(V)")
        self.trajectory = self.plot([], [], pen=pg.mkPen(TRAJECTORY_COLOR, width=1.5),
                                    name="the running cell (full model)")
        self.setXRange(-90, 60, padding=0)
        self.setYRange(0, 1, padding=0)
        self.system = None
        self.current_pa = None
        self.plane = None
        self._v = np.zeros(0)
        self._n = np.zeros(0)

    def set_system(self, system):
        """The PointSystem whose reduction is drawn (None: trajectory only)."""
        self.system = system
        self.current_pa = None
        self.plane = None
        self.v_null.setData([], [])
        self.n_null.setData([], [])
        self.clear_trajectory()

    def set_current(self, current_pa):
        """Redraw the nullclines for current_pa (pA) injected (about 20 ms of numpy)."""
        if self.system is None or current_pa is None or current_pa == self.current_pa:
            return
        self.current_pa = current_pa
        self.plane = phase_plane(self.system, current_pa)
        self.v_null.setData(*v_nullcline(self.plane))
        self.n_null.setData(self.plane.v_mv, self.plane.n_inf)

    def clear_trajectory(self):
        """Forget the trajectory (a new cell, another mode)."""
        self._v = np.zeros(0)
        self._n = np.zeros(0)
        self.trajectory.setData([], [])

    def add_samples(self, v_mv, n):
        """Append samples of V (mV) and n; the newest TRAIL_POINTS are kept."""
        self._v = np.concatenate((self._v, np.asarray(v_mv, float)))[-TRAIL_POINTS:]
        self._n = np.concatenate((self._n, np.asarray(n, float)))[-TRAIL_POINTS:]

    def redraw(self):
        """Draw the trajectory as it stands."""
        self.trajectory.setData(self._v, self._n)

    @property
    def trail(self):
        """(V mV, n) arrays of the trajectory kept."""
        return self._v, self._n
