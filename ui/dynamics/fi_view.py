"""The f-I curve measured up and down: firing rate (Hz) against injected current (pA)
on the way up (from rest) and on the way down (from firing), the bistable band
between them shaded, and the diagram's fold of cycles and lower Hopf as lines."""

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from ui.look import theme

UP_COLOR = "#4fc3f7"
DOWN_COLOR = "#ffb74d"
BAND_BRUSH = (186, 104, 200, 60)


class FIPlot(pg.PlotWidget):
    """show_curve(FICurve) draws it; set_landmarks(fold pA or None, hopf pA or None)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("FICurve")
        self.setLabel("bottom", "injected current", units="pA")
        self.setLabel("left", "firing rate", units="Hz")
        self.showGrid(x=True, y=True, alpha=0.2)
        self.setBackground(theme.current().scope_background)  # restyle() follows switches
        self.addLegend(offset=(10, 10))
        self.up = self.plot([], [], pen=pg.mkPen(UP_COLOR, width=2), symbol="t1",
                            symbolBrush=UP_COLOR, name="going up (from rest)")
        self.down = self.plot([], [], pen=pg.mkPen(DOWN_COLOR, width=2), symbol="t",
                              symbolBrush=DOWN_COLOR, name="coming down (from firing)")
        self.band = pg.LinearRegionItem(movable=False, brush=BAND_BRUSH)
        self.band.setVisible(False)
        self.addItem(self.band)
        self.fold_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#ba68c8", style=Qt.DashLine),
                                         label="fold", labelOpts={"position": 0.9})
        self.hopf_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#e57373", style=Qt.DashLine),
                                         label="Hopf", labelOpts={"position": 0.8})
        for line in (self.fold_line, self.hopf_line):
            line.setVisible(False)
            self.addItem(line)
        self.curve = None

    def show_curve(self, curve):
        """Draw a rig.dynamics.fi_curve.FICurve and shade its bistable band."""
        self.curve = curve
        self.up.setData(curve.currents_pa, curve.rate_up_hz)
        self.down.setData(curve.currents_pa, curve.rate_down_hz)
        band = curve.bistable()
        self.band.setVisible(band.size > 0)
        if band.size:
            self.band.setRegion((float(np.min(band)), float(np.max(band))))

    def set_landmarks(self, fold_pa, hopf_pa):
        """Lines at the diagram's fold of cycles and lower Hopf (None: not known)."""
        for line, value in ((self.fold_line, fold_pa), (self.hopf_line, hopf_pa)):
            line.setVisible(value is not None)
            if value is not None:
                line.setValue(value)
