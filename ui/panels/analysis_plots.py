"""Drawing for the Analysis tab: a plot that shows a :class:`rig.analysis.result.Plot`
(axis quantities with their SI units, series, markers, or why it is empty), the
colours of the overlaid sweeps, and the labelled cursor windows.

pyqtgraph puts SI prefixes on an axis only when it knows the base unit, so every axis
is given its quantity and base unit (V, A, S, s, Hz) and a unitless axis gets no
prefix at all.
"""

import colorsys

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from ui.look import theme

# In the dark look's colours, as everywhere: theme.color() gives the look shown.
SERIES_COLORS = ("#ff9f43", "#5b9cff", "#7ee081", "#c56cf0")
MARKER_COLOR = "#ff6b6b"
EMPTY_COLOR = "#e5e9f0"
LEGEND_BRUSH = "#14171b"
ZERO_LINE_COLOR = "#55606e"


def sweep_color(index, count):
    """A colour per sweep, red to violet along the family: bright on the dark look's
    black, darkened to be read on the light look's white."""
    hue = 0.8 * index / max(1, count - 1)
    r, g, b = colorsys.hsv_to_rgb(hue, 0.7, 1.0)
    return theme.color(pg.mkColor(int(r * 255), int(g * 255), int(b * 255)))


def with_alpha(color, alpha):
    """A pyqtgraph colour with an alpha (0-255)."""
    result = pg.mkColor(color)
    result.setAlpha(alpha)
    return result


def set_axis(plot, side, quantity, unit):
    """Label an axis with its quantity and SI base unit (prefixes only with a unit: a
    ratio or a count is never rescaled, whatever the axis showed before)."""
    axis = plot.getAxis(side)
    axis.setSIPrefixEnableRanges(None if unit else ())
    axis.setLabel(quantity, units=unit or "")


class SpecPlot:
    """A pyqtgraph PlotItem that shows one Plot spec at a time. Its items are made once
    and updated in place: the tab redraws after every sweep."""

    def __init__(self, plot):
        self.plot = plot
        plot.showGrid(x=True, y=True, alpha=theme.current().grid_alpha)
        plot.setMenuEnabled(False)
        self.legend = plot.addLegend(offset=(-10, -10), labelTextSize="9pt")
        self.zero_line = pg.InfiniteLine(pos=0, angle=0)
        plot.addItem(self.zero_line, ignoreBounds=True)
        self.curves = [pg.PlotDataItem() for _ in SERIES_COLORS]
        for curve in self.curves:
            plot.addItem(curve)
        self.lines = []
        self.empty = pg.TextItem("", color=EMPTY_COLOR, anchor=(0.5, 0.5))
        plot.addItem(self.empty, ignoreBounds=True)
        self.spec = None
        self._frame = None
        self.apply_theme(theme.current())

    def apply_theme(self, look):
        """Draw in a look's colours (ui.look.theme.restyle has done the axes and grid)."""
        self.legend.setBrush(theme.color(with_alpha(LEGEND_BRUSH, 200), look))
        self.legend.setLabelTextColor(look.foreground)
        self.legend.setLabelTextSize(f"{9 * look.text_scale:.0f}pt")
        self.zero_line.setPen(pg.mkPen(theme.color(ZERO_LINE_COLOR, look)))
        self.empty.setColor(theme.color(EMPTY_COLOR, look))
        for line in self.lines:
            line.setPen(pg.mkPen(theme.color(MARKER_COLOR, look), style=Qt.DashLine))
            line.label.setColor(theme.color(MARKER_COLOR, look))
        if self.spec is not None:
            self._frame = None  # the series take their new colours
            self.show(self.spec)

    def show(self, spec):
        """Draw the spec (None clears the plot)."""
        self.spec = spec
        series = spec.series if spec is not None else ()
        frame = None if spec is None else (spec.title, spec.x_label, spec.x_unit, spec.y_label,
                                           spec.y_unit, tuple((s.name, s.style) for s in series))
        new_frame = frame != self._frame  # titles, axes and the legend change rarely
        self._frame = frame
        if new_frame:
            self.legend.clear()
        for n, curve in enumerate(self.curves):
            if n < len(series):
                self._set_curve(curve, series[n], theme.color(SERIES_COLORS[n]), new_frame)
                if new_frame and len(series) > 1:  # one series is named by the axis already
                    self.legend.addItem(curve, series[n].name)
            elif new_frame:
                curve.setData([], [])
        self.legend.setVisible(len(series) > 1)
        if len(series) > 1:
            self.legend.setOffset(legend_offset(series))
        markers = spec.markers if spec is not None else ()
        while len(self.lines) < len(markers):
            marker = theme.color(MARKER_COLOR)
            line = pg.InfiniteLine(angle=90, pen=pg.mkPen(marker, style=Qt.DashLine),
                                   label="", labelOpts={"color": marker})
            self.plot.addItem(line)  # a vertical line widens the x range only
            self.lines.append(line)
        for n, line in enumerate(self.lines):
            line.setVisible(n < len(markers))
            if n < len(markers):
                line.setValue(markers[n][0])
                line.label.setFormat(markers[n][1])
                line.label.setPosition(0.92 - 0.1 * n)
        if spec is None:
            self.plot.setTitle("")
            self.empty.setText("")
            return
        if new_frame:
            self.plot.setTitle(spec.title)
            set_axis(self.plot, "bottom", spec.x_label, spec.x_unit)
            set_axis(self.plot, "left", spec.y_label, spec.y_unit)
        if spec.has_data:
            self.empty.setText("")
            self.plot.enableAutoRange()
        else:
            self.empty.setText(spec.empty_text or "nothing to plot yet")
            self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self.empty.setPos(0.5, 0.5)

    @staticmethod
    def _set_curve(curve, series, color, restyle):
        x, y = np.asarray(series.x, dtype=float), np.asarray(series.y, dtype=float)
        keep = np.isfinite(x) & np.isfinite(y)
        if not restyle:
            curve.setData(x[keep], y[keep])
            return
        line = series.style in ("line", "both")
        points = series.style in ("points", "both")
        curve.setData(x[keep], y[keep], pen=pg.mkPen(color, width=2) if line else None,
                      symbol="o" if points else None, symbolSize=7, symbolBrush=color,
                      symbolPen=None)


def legend_offset(series):
    """pyqtgraph legend offset (px from the left/top when positive, right/bottom when
    negative) putting the legend in the corner of the plot with the fewest points."""
    x = np.concatenate([np.asarray(s.x, dtype=float) for s in series])
    y = np.concatenate([np.asarray(s.y, dtype=float) for s in series])
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size == 0:
        return (-10, 10)
    u = (x - x.min()) / (np.ptp(x) or 1.0)
    w = (y - y.min()) / (np.ptp(y) or 1.0)
    corners = {(-10, 10): (u > 0.5) & (w > 0.65), (10, 10): (u < 0.5) & (w > 0.65),
               (-10, -10): (u > 0.5) & (w < 0.35), (10, -10): (u < 0.5) & (w < 0.35)}
    return min(corners, key=lambda corner: int(np.count_nonzero(corners[corner])))


class CursorWindow:
    """A draggable window on the sweep overlay with a numbered label."""

    def __init__(self, plot, color, on_moved, label_height=0.96):
        self.color = color  # in the dark look's colours
        self.region = pg.LinearRegionItem((0.0, 0.001))
        self.region.setZValue(10)
        self.label = pg.InfLineLabel(self.region.lines[0], text="", position=label_height,
                                     anchors=[(0, 0), (0, 0)])
        self.apply_theme(theme.current())
        self.region.sigRegionChangeFinished.connect(lambda *_: on_moved())
        plot.addItem(self.region)

    def apply_theme(self, look):
        """Draw the window in a look's colours."""
        color = theme.color(self.color, look)
        self.region.setBrush(with_alpha(color, 40))
        for line in self.region.lines:
            line.setPen(pg.mkPen(color, width=2))
        self.label.setColor(color)

    def set(self, window, text):
        """Move the window (s) without reporting a move, and name it."""
        self.region.blockSignals(True)
        self.region.setRegion(window)
        self.region.blockSignals(False)
        self.label.setText(text)

    def set_visible(self, visible):
        """Show or hide the window (a family that does not use it)."""
        self.region.setVisible(visible)

    def get(self):
        """(t0, t1) in s."""
        t0, t1 = self.region.getRegion()
        return float(t0), float(t1)
