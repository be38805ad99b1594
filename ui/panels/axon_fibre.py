"""The fibre drawn to scale along a mm axis, with its electrodes to drag.

The fibre is a band from 0 to its length (mm); a myelinated one shows each internode as
a thicker sheath with the nodes as gaps between; a drug on a stretch is shaded and
named. The amplifier's (stimulating) electrode and the recording electrodes are
vertical lines the user drags along it: they cannot leave the fibre, and on release
they snap to the nearest compartment's centre. The strip never changes the engine:
it emits moved(index, position_m) (index 0: the stimulating electrode, then the
recording ones) and shows whatever positions it is given.
"""

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from rig import units
from ui.look import theme

# The electrodes' colours (stimulating first): distinct in hue and readable on the dark
# and the light look; the scope and the map's markers use the same.
ELECTRODE_COLORS = ("#f5c542", "#ff5c8a", "#3ddc97", "#4da3ff", "#c77dff", "#ff9f43")
FIBRE_COLOR = "#8a6d5a"
MYELIN_COLOR = "#d9d2c3"
DRUG_COLOR = (255, 80, 80, 60)
MAX_INTERNODES_DRAWN = 400  # beyond this the sheath is one band (each would be < 1 px)
STRIP_HEIGHT_PX = 120


def electrode_names(n_sites):
    """The electrodes' labels: 'Stim', then 'E1', 'E2', ..."""
    return ("Stim",) + tuple(f"E{k + 1}" for k in range(n_sites))


class FibreStrip(pg.PlotWidget):
    """The fibre and its electrodes. moved(index, position_m) when the user drops an
    electrode (index 0: stimulating, 1...: recording), already snapped."""

    moved = Signal(int, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("FibreStrip")
        self.setFixedHeight(STRIP_HEIGHT_PX)
        self.setMenuEnabled(False)
        plot = self.getPlotItem()
        plot.hideAxis("left")
        plot.setLabel("bottom", "position along the fibre (mm)")
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setYRange(0.0, 1.0, padding=0)
        theme.style_plot(plot)
        self.geometry = None
        self.centres_mm = np.zeros(0)
        self.lines = []
        self._drawn = []  # the fibre's own items, replaced with the geometry

    # --- the fibre ---------------------------------------------------------------------

    def set_fibre(self, geometry, local=()):
        """Draw a rig.model.geometry.CableGeometry; local: (start_m, end_m, label) of
        each drug on a stretch."""
        plot = self.getPlotItem()
        for item in self._drawn:
            plot.removeItem(item)
        self._drawn = []
        self.geometry = geometry
        self.centres_mm = units.um_to_mm(geometry.centres_um())
        length = units.um_to_mm(geometry.total_length_um)
        self._add(_rect(0.0, 0.42, length, 0.16, FIBRE_COLOR))
        if geometry.myelin is not None:
            self._draw_myelin(geometry)
        for start_m, end_m, label in local:
            region = pg.LinearRegionItem((start_m * 1e3, end_m * 1e3), movable=False,
                                         brush=pg.mkBrush(*DRUG_COLOR))
            self._add(region)
            text = pg.TextItem(label, color="#ff8080", anchor=(0.5, 0.0))
            text.setPos((start_m + end_m) * 500.0, 0.98)
            self._add(text)
        plot.setXRange(0.0, length, padding=0.02)
        for line in self.lines:
            line.setBounds((0.0, length))

    def _draw_myelin(self, geometry):
        lengths = units.um_to_mm(geometry.compartment_lengths_um())
        edges = np.concatenate(([0.0], np.cumsum(lengths)))
        under = geometry.myelinated()
        # contiguous runs of myelinated compartments: the internodes
        change = np.flatnonzero(np.diff(np.concatenate(([0], under.astype(int), [0]))))
        runs = list(zip(change[::2], change[1::2]))
        if len(runs) > MAX_INTERNODES_DRAWN:
            runs = [(runs[0][0], runs[-1][1])]
        for first, end in runs:
            self._add(_rect(edges[first], 0.32, edges[end] - edges[first], 0.36, MYELIN_COLOR))

    def _add(self, item):
        self.getPlotItem().addItem(item)
        self._drawn.append(item)

    # --- the electrodes ----------------------------------------------------------------

    def set_electrodes(self, positions_m):
        """Show the electrodes at positions_m (m; the stimulating one first), making or
        removing lines as their number changes."""
        plot = self.getPlotItem()
        names = electrode_names(len(positions_m) - 1)
        while len(self.lines) > len(positions_m):
            plot.removeItem(self.lines.pop())
        while len(self.lines) < len(positions_m):
            index = len(self.lines)
            color = ELECTRODE_COLORS[index % len(ELECTRODE_COLORS)]
            line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(color, width=3),
                                   hoverPen=pg.mkPen(color, width=6),
                                   label=names[index], labelOpts={
                                       "position": 0.12 if index % 2 else 0.88, "color": color,
                                       "fill": (0, 0, 0, 140), "movable": False})
            line.setZValue(10 + index)
            line.setToolTip(f"{names[index]}: drag along the fibre")
            line.sigPositionChangeFinished.connect(lambda ln, k=index: self._dropped(k, ln))
            line.sigPositionChanged.connect(lambda ln, k=index: self._dragging(k, ln))
            if self.geometry is not None:
                line.setBounds((0.0, units.um_to_mm(self.geometry.total_length_um)))
            plot.addItem(line)
            self.lines.append(line)
        for index, (line, x) in enumerate(zip(self.lines, positions_m)):
            line.blockSignals(True)
            line.setValue(x * 1e3)
            line.blockSignals(False)
            line.label.setFormat(f"{names[index]} {x * 1e3:.2f} mm")

    def snapped_mm(self, x_mm):
        """The compartment centre (mm) nearest to x_mm."""
        if self.centres_mm.size == 0:
            return float(x_mm)
        return float(self.centres_mm[int(np.argmin(np.abs(self.centres_mm - x_mm)))])

    def _dragging(self, index, line):
        names = electrode_names(len(self.lines) - 1)
        line.label.setFormat(f"{names[index]} {self.snapped_mm(line.value()):.2f} mm")

    def _dropped(self, index, line):
        x_mm = self.snapped_mm(line.value())
        line.blockSignals(True)
        line.setValue(x_mm)
        line.blockSignals(False)
        self.moved.emit(index, x_mm * 1e-3)

    def apply_theme(self, look):
        """Follow a new look (the axes' colours)."""
        theme.style_plot(self.getPlotItem(), look)


def _rect(x, y, width, height, color):
    item = QGraphicsRectItem(QRectF(x, y, width, height))
    item.setPen(QPen(QColor(color).darker(140), 0))
    item.setBrush(QBrush(QColor(color)))
    return item
