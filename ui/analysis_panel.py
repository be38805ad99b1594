"""The Analysis tab: online analysis of a protocol's family of sweeps, and P/N.

Left: the sweeps overlaid (with P/N the subtracted current bright and the raw one
faint) under three draggable cursor windows: 1 (orange) peak, mean and time to peak;
2 (blue) steady state; fit (green) the exponential fit of the newest sweep. Right: the
I-V curve (peak and steady) with the reversal found by interpolation, and below it
either G = I/(V - E) with its Boltzmann fit or, for a prepulse protocol, h-infinity
with its fit. Bottom: the results table; 'Copy' puts it on the clipboard as
tab-separated text (:func:`rig.analysis.results_table`).

Lifecycle: the window calls :meth:`AnalysisPanel.prepare` with each protocol it runs
(which also applies the P/N choice), then feeds chunks and events; measurements are
remade when a sweep is done and when a cursor window is released. The numbers come
from :mod:`rig.sweep_family`; this module only draws.
"""

from dataclasses import replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QApplication, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel,
                               QPushButton, QSplitter, QTableWidget, QTableWidgetItem,
                               QTabWidget, QVBoxLayout, QWidget)

from rig.protocol import LeakSubtraction, render_sweep
from ui import theme
from rig.sweep_family import KEPT, SweepFamily, table_text

MAX_CURVES = 40  # sweeps drawn in the overlay
WINDOW_COLORS = {"w1": "#ff9f43", "w2": "#5b9cff", "fit": "#7ee081"}
PN_CHOICES = (("P/N as protocol", None), ("P/N off", 0), ("P/2", 2), ("P/4", 4),
              ("P/6", 6), ("P/8", 8))
COLUMNS = ("sweep", "V_mV", "peak_pA", "mean_pA", "t_peak_ms", "steady_pA", "G_nS",
           "prepulse_mV", "h", "tau_ms")


def default_windows(protocol):
    """(window 1, window 2, fit window) in s from the sweep start, around the test
    epoch: the first epoch whose level changes between sweeps, or the depolarising
    step after it when that one is a prepulse (an h-infinity protocol)."""
    renders = [render_sweep(protocol, k) for k in range(protocol.sweeps)]
    starts = list(renders[0].epoch_starts) + [renders[0].command.size]
    levels = np.array([[r.command[min(s, r.command.size - 1)] for s in r.epoch_starts]
                       for r in renders])
    varying = [e for e in range(levels.shape[1]) if np.ptp(levels[:, e]) > 1e-6]
    test = varying[0] if varying else min(1, len(starts) - 2)
    holding = protocol.holding * (1e-3 if protocol.mode == "VC" else 1e-12)
    if (test + 1 < levels.shape[1] and test + 1 not in varying
            and levels[0, test + 1] > holding + 0.02):
        test += 1
    dt = protocol.sample_interval_s
    t0, t1 = starts[test] * dt, starts[test + 1] * dt
    dur = t1 - t0
    return ((t0 + min(2e-4, 0.05 * dur), t0 + min(5e-3, 0.4 * dur)),
            (t1 - 0.25 * dur, t1 - dt),
            (t0 + min(1e-3, 0.2 * dur), t0 + 0.6 * dur))


class AnalysisPanel(QWidget):
    """message(str) reports what cannot be analysed."""

    message = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.family = None
        self.rows = []
        self.summary = None
        self._dirty = set()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(self._build_bar())
        self.summary_label = QLabel("Run a protocol: each sweep is measured as it arrives.")
        self.summary_label.setObjectName("CursorReadout")
        self.summary_label.setWordWrap(True)
        layout.addWidget(self.summary_label)
        # The overlay on the left, the curves or the table on the right: each gets the
        # full height, which a 1280x800 window with a bottom dock needs.
        split = QSplitter(Qt.Horizontal)
        self.overlay_view = pg.GraphicsLayoutWidget()
        self.curves_view = pg.GraphicsLayoutWidget()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.right_tabs = QTabWidget()
        self.right_tabs.addTab(self.curves_view, "I-V, G-V / h-inf")
        self.right_tabs.addTab(self.table, "Table")
        split.addWidget(self.overlay_view)
        split.addWidget(self.right_tabs)
        split.setSizes([560, 440])
        layout.addWidget(split, 1)
        self._build_plots()

    # --- construction -----------------------------------------------------------------

    def _build_bar(self):
        row = QHBoxLayout()
        self.signal_combo = QComboBox()
        self.signal_combo.addItem("Im")
        self.polarity_combo = QComboBox()
        for text, value in (("peak: inward (min)", "min"), ("peak: outward (max)", "max"),
                            ("peak: largest", "abs")):
            self.polarity_combo.addItem(text, value)
        self.pn_combo = QComboBox()
        for text, n in PN_CHOICES:
            self.pn_combo.addItem(text, n)
        self.pn_combo.setToolTip("P/N leak subtraction for the next VC protocol run: N "
                                 "scaled sub-sweeps of opposite polarity")
        self.pn_holding = QDoubleSpinBox()
        self.pn_holding.setRange(-200.0, 0.0)
        self.pn_holding.setValue(-120.0)
        self.pn_holding.setSuffix(" mV")
        self.pn_holding.setToolTip("Holding level of the P/N sub-sweeps")
        self.copy_button = QPushButton("Copy table")
        self.copy_button.setFocusPolicy(Qt.NoFocus)
        self.copy_button.clicked.connect(self.copy)
        for widget in (QLabel("Measure"), self.signal_combo, self.polarity_combo,
                       self.pn_combo, QLabel("from"), self.pn_holding):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.copy_button)
        self.signal_combo.currentIndexChanged.connect(lambda _: self.update_analysis())
        self.polarity_combo.currentIndexChanged.connect(lambda _: self.update_analysis())
        return row

    def _build_plots(self):
        overlay = self.overlay_view.addPlot()
        overlay.setLabel("left", "I", units="A")
        overlay.setLabel("bottom", "Time", units="s")
        overlay.showGrid(x=True, y=True, alpha=theme.GRID_ALPHA)
        overlay.setMenuEnabled(False)
        self.overlay = overlay
        self.curves, self.raw_curves = [], []
        for _ in range(MAX_CURVES):
            raw = overlay.plot(pen=pg.mkPen(with_alpha("#9aa5b4", 70), width=1))
            curve = overlay.plot(pen=pg.mkPen(theme.TRACE_COLORS["Im"], width=1))
            for item in (raw, curve):
                item.setClipToView(True)
                item.setDownsampling(auto=True, method="peak")
            self.raw_curves.append(raw)
            self.curves.append(curve)
        self.fit_curve = overlay.plot(pen=pg.mkPen(WINDOW_COLORS["fit"], width=2))
        self.regions = {}
        for key, color in WINDOW_COLORS.items():
            brush = with_alpha(color, 40)
            region = pg.LinearRegionItem((0.0, 0.001), brush=brush,
                                         pen=pg.mkPen(color, width=2))
            region.setZValue(10)
            region.sigRegionChangeFinished.connect(lambda *_: self.update_analysis())
            overlay.addItem(region)
            self.regions[key] = region
        self.iv_plot = self.curves_view.addPlot(row=0, col=0, title="I-V")
        self.iv_plot.setLabel("left", "I", units="A")
        self.iv_plot.setLabel("bottom", "V", units="V")
        self.iv_plot.addLine(y=0, pen=pg.mkPen("#55606e"))
        self.iv_peak = self.iv_plot.plot(pen=pg.mkPen(WINDOW_COLORS["w1"], width=2),
                                         symbol="o", symbolSize=6,
                                         symbolBrush=WINDOW_COLORS["w1"], name="peak")
        self.iv_steady = self.iv_plot.plot(pen=pg.mkPen(WINDOW_COLORS["w2"], width=2),
                                           symbol="s", symbolSize=6,
                                           symbolBrush=WINDOW_COLORS["w2"], name="steady")
        self.reversal_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#ff6b6b", style=Qt.DashLine))
        self.reversal_line.setVisible(False)
        self.iv_plot.addItem(self.reversal_line)
        self.fit_plot = self.curves_view.addPlot(row=1, col=0, title="G-V")
        self.fit_plot.setLabel("bottom", "V", units="V")
        self.fit_points = self.fit_plot.plot(pen=None, symbol="o", symbolSize=6,
                                             symbolBrush="#e5e9f0")
        self.fit_line = self.fit_plot.plot(pen=pg.mkPen("#c56cf0", width=2))
        for plot in (self.iv_plot, self.fit_plot):
            plot.showGrid(x=True, y=True, alpha=theme.GRID_ALPHA)
            plot.setMenuEnabled(False)

    # --- the protocol and its data ----------------------------------------------------

    def leak_choice(self):
        """The P/N choice: None (the protocol's), 0 (off) or N sub-sweeps."""
        return self.pn_combo.currentData()

    def prepare(self, protocol):
        """Apply the P/N choice to a protocol about to run, and get ready for its sweeps.
        Returns the protocol to run (None stays None)."""
        if protocol is None:
            return None
        n = self.leak_choice()
        if n == 0:
            protocol = replace(protocol, leak_subtraction=None)
        elif n is not None and protocol.mode == "VC":
            polarity = (protocol.leak_subtraction.polarity if protocol.leak_subtraction
                        else "opposite")
            protocol = replace(protocol, leak_subtraction=LeakSubtraction(
                n, float(self.pn_holding.value()), polarity))
        elif n is not None:
            self.message.emit("P/N leak subtraction is for VC protocols: running without it")
        self.begin(protocol)
        return protocol

    def begin(self, protocol):
        """Empty the overlay and the results for a new protocol's sweeps."""
        currents = [self.signal_combo.itemText(i) for i in range(self.signal_combo.count())]
        self.family = SweepFamily(protocol, tuple(dict.fromkeys(KEPT + tuple(currents))))
        self.rows, self.summary = [], None
        self._dirty.clear()
        for curve in self.curves + self.raw_curves:
            curve.setData([], [])
        self.fit_curve.setData([], [])
        for key, window in zip(("w1", "w2", "fit"), default_windows(protocol)):
            self.regions[key].blockSignals(True)
            self.regions[key].setRegion(window)
            self.regions[key].blockSignals(False)
        self.overlay.setXRange(0.0, self.family.time[-1], padding=0.02)
        self.update_analysis()

    def set_signals(self, names_units):
        """The currents that can be measured: Im and the channel currents."""
        current = self.signal_combo.currentText()
        self.signal_combo.blockSignals(True)
        self.signal_combo.clear()
        self.signal_combo.addItems([n for n, u in names_units if u == "A" and n != "command"])
        index = self.signal_combo.findText(current)
        self.signal_combo.setCurrentIndex(max(0, index))
        self.signal_combo.blockSignals(False)

    def add_chunks(self, chunks):
        """Store the sweeps' samples (drawn at the next refresh)."""
        if self.family is None:
            return
        for chunk in chunks:
            if chunk.kind == "sweep" and chunk.sweep < self.family.protocol.sweeps:
                self.family.add(chunk)
                self._dirty.add(chunk.sweep)

    def on_event(self, event):
        """A finished sweep is measured and the curves refitted."""
        if event.kind == "sweep_done" and self.family is not None:
            self.family.sweep_done(event.sweep)
            self.refresh()
            self.update_analysis()

    def refresh(self):
        """Draw the sweeps that changed (one setData per changed curve)."""
        if self.family is None:
            return
        signal = self.signal_combo.currentText() or "Im"
        for sweep in self._dirty:
            if sweep >= MAX_CURVES:
                continue
            for name, curve in ((signal, self.curves[sweep]), ("Im_raw", self.raw_curves[sweep])):
                trace = self.family.trace(name, sweep) if name != "Im_raw" or signal == "Im" else None
                if trace is not None:
                    curve.setData(*trace, connect="finite")
        self._dirty.clear()

    # --- measurements -----------------------------------------------------------------

    def windows(self):
        """(window 1, window 2, fit window) in s from the sweep start."""
        return tuple(tuple(self.regions[k].getRegion()) for k in ("w1", "w2", "fit"))

    def update_analysis(self):
        """Remeasure every completed sweep and redraw the curves and the table."""
        if self.family is None:
            return
        signal = self.signal_combo.currentText() or "Im"
        w1, w2, fit_window = self.windows()
        self._dirty.update(self.family.done)
        self.refresh()
        self.rows = self.family.measure(w1, w2, signal, self.polarity_combo.currentData())
        self.summary = self.family.summarise(self.rows, fit_window, signal)
        self._draw_curves()
        self._fill_table()

    def _draw_curves(self):
        s, full = self.summary, [r for r in self.rows if "peak_pA" in r]
        v = np.array([r["V_mV"] for r in full]) * 1e-3
        order = np.argsort(v)
        self.iv_peak.setData(v[order], np.array([r["peak_pA"] for r in full])[order] * 1e-12)
        vss = np.array([r["Vss_mV"] for r in full]) * 1e-3
        order_ss = np.argsort(vss)
        self.iv_steady.setData(vss[order_ss],
                               np.array([r["steady_pA"] for r in full])[order_ss] * 1e-12)
        self.reversal_line.setVisible(bool(np.isfinite(s.reversal)))
        if np.isfinite(s.reversal):
            self.reversal_line.setValue(s.reversal)
        text = [f"E_rev = {s.reversal * 1e3:.1f} mV" if np.isfinite(s.reversal) else "E_rev: -"]
        if s.inactivation is not None or any("h" in r for r in full):
            self.fit_plot.setTitle("h-inf (prepulse)")
            self.fit_plot.setLabel("left", "I/Imax")
            x = np.array([r["prepulse_mV"] for r in full if "h" in r]) * 1e-3
            self.fit_points.setData(x, np.array([r["h"] for r in full if "h" in r]))
            fit = s.inactivation
        else:
            self.fit_plot.setTitle("G-V")
            self.fit_plot.setLabel("left", "G", units="S")
            x = np.array([r["V_mV"] for r in full if "G_nS" in r]) * 1e-3
            self.fit_points.setData(x, np.array([r["G_nS"] for r in full if "G_nS" in r]) * 1e-9)
            fit = s.activation
        if fit is not None and x.size:
            grid = np.linspace(x.min(), x.max(), 200)
            self.fit_line.setData(grid, fit(grid))
            name = "h-inf" if fit is s.inactivation else "G-V"
            text.append(f"{name}: V1/2 = {fit.v_half * 1e3:.1f} mV, k = {fit.slope * 1e3:.1f} mV")
        else:
            self.fit_line.setData([], [])
        if s.fit is not None:
            t = self.family.time
            inside = (t >= self.windows()[2][0]) & (t <= self.windows()[2][1])
            self.fit_curve.setData(t[inside], s.fit(t[inside]))
            text.append(f"tau = {s.tau * 1e3:.3g} ms")
        else:
            self.fit_curve.setData([], [])
        text += list(s.errors)
        self.summary_label.setText("    ".join(text))

    def _fill_table(self):
        self.table.setRowCount(len(self.rows))
        for i, row in enumerate(self.rows):
            for j, column in enumerate(COLUMNS):
                value = row.get(column, float("nan"))
                text = f"{value:.4g}" if isinstance(value, float) else str(value)
                self.table.setItem(i, j, QTableWidgetItem("" if text == "nan" else text))
        self.table.resizeColumnsToContents()

    def copy(self):
        """Put the results on the clipboard as tab-separated text; returns the text."""
        if self.summary is None:
            self.message.emit("nothing to copy: run a protocol first")
            return ""
        text = table_text(self.rows, self.summary)
        QApplication.clipboard().setText(text)
        return text


def with_alpha(color, alpha):
    """A pyqtgraph colour with an alpha (0-255)."""
    result = pg.mkColor(color)
    result.setAlpha(alpha)
    return result


def install(window):
    """Add the Analysis tab to the rig window, fed by its client; returns the panel."""
    panel = AnalysisPanel()
    panel.set_signals(window.client.names_units)
    window.tabs.addTab(panel, "Analysis")
    window.client.chunks.connect(panel.add_chunks)
    window.client.event.connect(panel.on_event)
    window.client.tick.connect(panel.refresh)
    panel.message.connect(window.show_error)
    window.panel.cellRequested.connect(lambda _: panel.set_signals(window.client.names_units))
    window.client.event.connect(
        lambda e: panel.set_signals(window.client.names_units) if e.kind == "protocol_started" else None)
    return panel
