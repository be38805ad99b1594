"""The designer's preview: every sweep's command drawn faintly with one sweep
highlighted and the epochs marked A, B, ..., from :func:`rig.protocols.protocol.render_sweep`,
the function the engine uses. Units: ms and mV (VC) or pA (CC, I0)."""

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from rig.clamp import Mode
from rig.protocols.protocol import render_sweep
from ui.look import theme
from ui.panels.epoch_table import column_letter

MAX_PREVIEW_CURVES = 200  # sweeps drawn in the background of the preview
BACKGROUND = "#1e1f22"
SWEEP_PEN = (110, 150, 190, 120)
HIGHLIGHT_PEN = "#ffc94d"
BOUNDARY_PEN = (150, 150, 160, 90)
LETTER_COLOR = (190, 190, 200)
# (All in the dark look's colours: theme.color() gives the look shown.)


def _si_to_display(protocol, command):
    """A command array in SI (V or A) to the protocol's display unit (mV or pA)."""
    return Mode(protocol.mode).from_si(command)


class SweepPreview(QWidget):
    """Every sweep's command drawn faintly, one sweep highlighted, epochs marked A, B, ..."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("sweepPreview")
        self._protocol = None
        self._info = ""
        self._stale = False
        self.plot = pg.PlotWidget(background=theme.color(BACKGROUND))
        self.plot.setObjectName("previewPlot")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("bottom", "Time (ms)")
        self.plot.setMenuEnabled(False)
        self.sweep_curves = []
        self.highlight_curve = self.plot.plot(pen=pg.mkPen(theme.color(HIGHLIGHT_PEN), width=2))
        self.highlight_curve.setZValue(10)
        self._boundaries = []
        self.sweep_spin = QSpinBox()
        self.sweep_spin.setObjectName("previewSweep")
        self.sweep_spin.setPrefix("Sweep ")
        self.sweep_spin.setMinimum(1)
        self.sweep_spin.valueChanged.connect(self._draw_highlight)
        self.info = QLabel()
        self.info.setObjectName("previewInfo")
        top = QHBoxLayout()
        top.addWidget(QLabel("Preview"))
        top.addStretch(1)
        top.addWidget(self.info)
        top.addWidget(self.sweep_spin)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)

    def apply_theme(self, look):
        """Follow a new look: the canvas, the sweeps, the highlight and the epoch marks."""
        self.plot.setBackground(theme.color(BACKGROUND, look))
        self.highlight_curve.setPen(pg.mkPen(theme.color(HIGHLIGHT_PEN, look), width=2))
        for curve in self.sweep_curves:
            curve.setPen(_pen(SWEEP_PEN, look))
        for line in self._boundaries:
            line.setPen(_pen(BOUNDARY_PEN, look))
            line.label.setColor(theme.color(pg.mkColor(LETTER_COLOR), look))

    def highlighted_sweep(self):
        """0-based index of the highlighted sweep."""
        return self.sweep_spin.value() - 1

    def show_protocol(self, protocol):
        """Draw every sweep of a valid protocol (the last sweep highlighted on first show)."""
        previous = self._protocol
        self._protocol = protocol
        follow_last = previous is None or self.sweep_spin.value() == self.sweep_spin.maximum()
        self.sweep_spin.blockSignals(True)
        self.sweep_spin.setMaximum(protocol.sweeps)
        if follow_last:
            self.sweep_spin.setValue(protocol.sweeps)
        self.sweep_spin.blockSignals(False)
        self.sweep_spin.setSuffix(f" of {protocol.sweeps}")
        self.plot.setLabel("left", f"Command ({protocol.units})")
        shown = self._shown_sweeps(protocol.sweeps)
        self._ensure_curves(len(shown))
        for curve, sweep in zip(self.sweep_curves, shown):
            curve.setData(*self._sweep_data(sweep))
        drawn = "" if len(shown) == protocol.sweeps else f" ({len(shown)} drawn)"
        self._info = f"{protocol.mode}, {protocol.sweeps} sweeps{drawn}"
        self.set_stale(self._stale)
        self._draw_highlight()

    def set_stale(self, stale):
        """Say whether the entries have changed into something invalid since this was drawn."""
        self._stale = stale
        self.info.setText(f"{self._info} — last valid protocol" if stale else self._info)

    def _shown_sweeps(self, sweeps):
        if sweeps <= MAX_PREVIEW_CURVES:
            return list(range(sweeps))
        return sorted(set(np.linspace(0, sweeps - 1, MAX_PREVIEW_CURVES).round().astype(int)))

    def _ensure_curves(self, count):
        while len(self.sweep_curves) > count:
            self.plot.removeItem(self.sweep_curves.pop())
        while len(self.sweep_curves) < count:
            curve = self.plot.plot(pen=_pen(SWEEP_PEN))
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            curve.setCurveClickable(True)
            curve.sigClicked.connect(self._on_curve_clicked)
            self.sweep_curves.append(curve)

    def _sweep_data(self, sweep):
        """(time in ms, command in mV or pA) of one sweep, from the engine's renderer."""
        rendered = render_sweep(self._protocol, sweep)
        t_ms = np.arange(rendered.command.size) / self._protocol.sample_rate_khz
        return t_ms, _si_to_display(self._protocol, rendered.command)

    def _draw_highlight(self):
        if self._protocol is None:
            return
        sweep = self.highlighted_sweep()
        self.highlight_curve.setData(*self._sweep_data(sweep))
        starts = render_sweep(self._protocol, sweep).epoch_starts
        while len(self._boundaries) > len(starts):
            self.plot.removeItem(self._boundaries.pop())
        while len(self._boundaries) < len(starts):
            line = pg.InfiniteLine(angle=90, movable=False, pen=_pen(BOUNDARY_PEN),
                                   label=column_letter(len(self._boundaries)),
                                   labelOpts={"position": 0.96,
                                              "color": theme.color(pg.mkColor(LETTER_COLOR))})
            self.plot.addItem(line)
            self._boundaries.append(line)
        for line, first in zip(self._boundaries, starts):
            line.setValue(first / self._protocol.sample_rate_khz)

    def _on_curve_clicked(self, curve):
        shown = self._shown_sweeps(self._protocol.sweeps)
        self.sweep_spin.setValue(shown[self.sweep_curves.index(curve)] + 1)


def _pen(rgba, look=None):
    """A 1 px pen of a dark-look (r, g, b, alpha) colour in the look shown (or look)."""
    return pg.mkPen(theme.color(pg.mkColor(rgba), look), width=1)
