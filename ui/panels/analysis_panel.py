"""The Analysis tab: the analysis of a protocol's family of sweeps (as it runs) or of a
loaded recording, chosen by the clamp mode, and P/N.

Left: the sweeps overlaid (one colour per sweep; with P/N the raw current faint behind
the subtracted one) above their command, under three draggable, numbered cursor
windows. VC: 1 peak, 2 steady state, 3 exponential fit (drawn on the newest sweep).
CC: 1 where spikes are measured (thresholds and peaks are marked), 2 the baseline,
3 the firing-rate window. Right: two plots chosen by the family (I-V and G-V or
h-infinity; the all-or-none curve, the f-I curve, the refractory recovery curve or the
accommodation curve, each with the first-spike latency or delay), and the results
table, the same rows as ``vrig analyze`` (Copy; Export CSV). Selecting table rows
highlights their sweeps. The numbers come from :mod:`rig.analysis.report`; this only draws.
Lifecycle: the window calls :meth:`AnalysisPanel.prepare` with each protocol it runs
(which also applies the P/N choice), then feeds chunks and events; File > Open
recording calls :meth:`AnalysisPanel.show_recording`. Measurements are remade when a
sweep is done, a cursor window is released or a setting changes.
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from rig.analysis.report import (
    COLUMN_HELP,
    WINDOW_NAMES,
    AnalysisSettings,
    analyze,
    default_windows,
    write_analysis_csv,
)
from rig.analysis.result import cell_text, result_tsv
from rig.analysis.spikes import SpikeCriteria
from rig.analysis.sweep_family import KEPT, SweepFamily
from rig.errors import VrigError
from rig.protocols.protocol import LeakSubtraction
from ui.look import theme
from ui.panels.analysis_plots import CursorWindow, SpecPlot, set_axis, sweep_color, with_alpha
from ui.widgets.scrolling import scrolling_contents

MAX_CURVES = 40  # sweeps drawn in the overlay
MAX_MARKS = 30  # more spikes than this are marked on the selected (or newest) sweep only
WINDOW_COLORS = ("#ff9f43", "#5b9cff", "#7ee081")  # dark look; theme.color() for the one shown
RAW_COLOR, DIM_COLOR, MARK_COLOR = with_alpha("#9aa5b4", 70), with_alpha("#6c7683", 90), "#ffffff"
PN_CHOICES = (("P/N as protocol", None), ("P/N off", 0), ("P/2", 2), ("P/4", 4),
              ("P/6", 6), ("P/8", 8))
POLARITY_CHOICES = (("peak auto", "auto"), ("peak inward", "min"),
                    ("peak outward", "max"), ("peak largest", "abs"))
SIGNAL_UNIT = {"VC": "A", "CC": "V"}
AXES = {"VC": (("current", "A"), ("command", "V")), "CC": (("Vm", "V"), ("command", "A"))}


class AnalysisPanel(QWidget):
    """message(str) reports what cannot be analysed."""

    message = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.family = None
        self.result = None
        self.source = ""
        self._dirty = set()
        self._names_units = [("Im", "A"), ("Vm", "V")]
        self._export_dir = str(Path.home())
        self._highlighted = set()
        layout = QVBoxLayout(scrolling_contents(self))  # large text: it scrolls
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
        self.table = QTableWidget(0, 0)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._on_rows_selected)
        self.right_tabs = QTabWidget()
        self.right_tabs.addTab(self.curves_view, "Curves")
        self.right_tabs.addTab(self.table, "Table")
        split.addWidget(self.overlay_view)
        split.addWidget(self.right_tabs)
        split.setSizes([560, 440])
        layout.addWidget(split, 1)
        self._build_plots()
        self._configure_mode("VC")

    # --- construction -----------------------------------------------------------------

    def _build_bar(self):
        row = QHBoxLayout()
        self.signal_combo = QComboBox()
        self.signal_combo.setToolTip("The trace to measure")
        self.polarity_combo = QComboBox()
        for text, value in POLARITY_CHOICES:
            self.polarity_combo.addItem(text, value)
        self.polarity_combo.setToolTip("Which peak window 1 finds: inward (min), outward (max) "
                                       "or the largest (abs); auto is inward for I-V and "
                                       "h-infinity families and the largest for tail currents")
        self.dvdt_spin = QDoubleSpinBox()
        self.dvdt_spin.setRange(1.0, 200.0)
        self.dvdt_spin.setValue(SpikeCriteria().dvdt)
        self.dvdt_spin.setDecimals(0)
        self.dvdt_spin.setPrefix("dV/dt ")
        self.dvdt_spin.setSuffix(" mV/ms")
        self.dvdt_spin.setToolTip("Threshold criterion: a spike's threshold is the Vm where "
                                  "dV/dt last rises through this value before the upstroke")
        self.pn_combo = QComboBox()
        for text, n in PN_CHOICES:
            self.pn_combo.addItem(text, n)
        self.pn_combo.setToolTip("P/N leak subtraction for the next VC protocol run: N "
                                 "scaled sub-sweeps of opposite polarity")
        self.pn_holding = QDoubleSpinBox()
        self.pn_holding.setRange(-200.0, 0.0)
        self.pn_holding.setValue(-120.0)
        self.pn_holding.setSuffix(" mV")
        self.pn_holding.setPrefix("from ")
        self.pn_holding.setDecimals(0)
        self.pn_holding.setToolTip("Holding level of the P/N sub-sweeps")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the table to the clipboard (tab-separated)")
        self.copy_button.clicked.connect(self.copy)
        self.export_button = QPushButton("Export CSV...")
        self.export_button.setToolTip("Save the table as vrig analyze prints it")
        self.export_button.clicked.connect(lambda: self.export_csv())
        for widget in (QLabel("Measure"), self.signal_combo, self.polarity_combo,
                       self.dvdt_spin, self.pn_combo, self.pn_holding):
            row.addWidget(widget)
        row.addStretch(1)
        for button in (self.copy_button, self.export_button):
            button.setFocusPolicy(Qt.NoFocus)
            row.addWidget(button)
        self.signal_combo.currentIndexChanged.connect(lambda _: self._signal_changed())
        self.polarity_combo.currentIndexChanged.connect(lambda _: self.update_analysis())
        self.dvdt_spin.editingFinished.connect(self.update_analysis)
        return row

    def _build_plots(self):
        self.overlay = self.overlay_view.addPlot(row=0, col=0)
        self.command_plot = self.overlay_view.addPlot(row=1, col=0)
        self.overlay_view.ci.layout.setRowStretchFactor(0, 4)
        self.overlay_view.ci.layout.setRowStretchFactor(1, 1)
        self.command_plot.setXLink(self.overlay)
        for plot in (self.overlay, self.command_plot):
            plot.showGrid(x=True, y=True, alpha=theme.current().grid_alpha)
            plot.setMenuEnabled(False)
            set_axis(plot, "bottom", "time", "s")
        # the sweeps' curves are made as a family needs them (_grow_curves): 120 idle
        # PlotDataItems made the window a second slower to open
        self.curves, self.raw_curves, self.command_curves = [], [], []
        self.fit_curve = self.overlay.plot(pen=pg.mkPen(theme.color(MARK_COLOR), width=2))
        self.fit_curve.setZValue(10)  # above the sweeps made later
        self.threshold_marks = pg.ScatterPlotItem(symbol="o", size=8, brush=None,
                                                  pen=pg.mkPen(theme.color(MARK_COLOR)))
        self.peak_marks = pg.ScatterPlotItem(symbol="t1", size=8, pen=None,
                                             brush=pg.mkBrush(theme.color(MARK_COLOR)))
        for item in (self.threshold_marks, self.peak_marks):
            item.setZValue(20)
            self.overlay.addItem(item)
        # labels at three heights: windows often share an edge
        self.windows_items = [CursorWindow(self.overlay, color, self.update_analysis,
                                           0.97 - 0.06 * n)
                              for n, color in enumerate(WINDOW_COLORS)]
        self.spec_plots = [SpecPlot(self.curves_view.addPlot(row=n, col=0)) for n in (0, 1)]

    def _grow_curves(self, count):
        """Make sure the first count sweeps (at most MAX_CURVES) have their curves."""
        while len(self.curves) < min(count, MAX_CURVES):
            raw = self.overlay.plot(pen=pg.mkPen(theme.color(RAW_COLOR), width=1))
            curve = self.overlay.plot(pen=pg.mkPen(theme.trace_color("Im"), width=1))
            command = self.command_plot.plot(pen=pg.mkPen(theme.trace_color("command")))
            for item in (raw, curve, command):
                item.setClipToView(True)
                item.setDownsampling(auto=True, method="peak")
            self.raw_curves.append(raw)
            self.curves.append(curve)
            self.command_curves.append(command)

    def apply_theme(self, look):
        """Follow a new look (ui.look.theme.restyle has done the canvases, axes and grids)."""
        mark = theme.color(MARK_COLOR, look)
        self.fit_curve.setPen(pg.mkPen(mark, width=2))
        self.threshold_marks.setPen(pg.mkPen(mark))
        self.peak_marks.setBrush(pg.mkBrush(mark))
        count = min(self.family.n_sweeps, MAX_CURVES) if self.family is not None else 0
        for k, (raw, command) in enumerate(zip(self.raw_curves, self.command_curves)):
            raw.setPen(pg.mkPen(theme.color(RAW_COLOR, look), width=1))
            command.setPen(pg.mkPen(sweep_color(k, count) if k < count
                                    else theme.trace_color("command", look=look), width=1))
            if k < count:
                self._set_pen(k, count)
        for item in self.windows_items + self.spec_plots:
            item.apply_theme(look)

    # --- the family and its data ----------------------------------------------------

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
        mode = "VC" if protocol.mode == "VC" else "CC"
        keep = [n for n, u in self._names_units if u == SIGNAL_UNIT[mode]]
        self.family = SweepFamily.for_protocol(protocol, tuple(dict.fromkeys(KEPT + tuple(keep))))
        self.source = ""
        self._start(mode, self._names_units)

    def show_recording(self, recording, source=""):
        """Analyse a loaded :class:`rig.files.recording.Recording` (all its sweeps); source: the
        file name shown in the exported table. Returns False (and says why) when it
        cannot be analysed."""
        try:
            family = SweepFamily.from_recording(recording)
        except VrigError as exc:
            self.message.emit(f"cannot analyse the recording: {exc}")
            return False
        self.family = family
        self.source = source or recording.metadata.get("source", "")
        self._start(family.mode, list(recording.units.items()))
        self._dirty = set(range(min(family.n_sweeps, MAX_CURVES)))
        self.update_analysis()
        return True

    def _start(self, mode, names_units):
        self.result = None
        self._dirty.clear()
        self._highlighted = set()
        for curve in self.curves + self.raw_curves + self.command_curves:
            curve.setData([], [])
        self.fit_curve.setData([], [])
        self._configure_mode(mode)
        self._fill_signals(names_units)
        count = min(self.family.n_sweeps, MAX_CURVES)
        self._grow_curves(count)
        for k in range(count):
            command = self.family.commands[k]
            self.command_curves[k].setData(self.family.time[: command.size], command)
            self.command_curves[k].setPen(pg.mkPen(sweep_color(k, count), width=1))
        names = WINDOW_NAMES[self.family.mode]
        for n, (item, window) in enumerate(zip(self.windows_items, default_windows(self.family))):
            item.set(window, f"{n + 1} {names[n]}")
        self.overlay.setXRange(0.0, float(self.family.time[-1]), padding=0.02)
        self.update_analysis()

    def _configure_mode(self, mode):
        (y_name, y_unit), (c_name, c_unit) = AXES[mode]
        set_axis(self.overlay, "left", y_name, y_unit)
        set_axis(self.command_plot, "left", c_name, c_unit)
        vc = mode == "VC"
        # hide first, then show: a moment with both shown would widen the window for good
        # P/N is for VC runs: in CC it would only be a control that does nothing
        hidden, shown = ((self.dvdt_spin,), (self.polarity_combo, self.pn_combo,
                                              self.pn_holding))
        if not vc:
            hidden, shown = shown, hidden
        for widget in hidden:
            widget.setVisible(False)
        for widget in shown:
            widget.setVisible(True)
        self.threshold_marks.setData([], [])
        self.peak_marks.setData([], [])

    def set_signals(self, names_units):
        """The signals the engine records ((name, unit) pairs): currents are offered in
        VC, voltages in CC."""
        self._names_units = list(names_units)
        self._fill_signals(self._names_units)

    def _fill_signals(self, names_units):
        mode = self.family.mode if self.family is not None else "VC"
        unit = SIGNAL_UNIT[mode]
        names = [n for n, u in names_units if u == unit and n != "command"]
        preferred = "Im" if mode == "VC" else "Vm"
        current = self.signal_combo.currentText()
        self.signal_combo.blockSignals(True)
        self.signal_combo.clear()
        self.signal_combo.addItems(names)
        index = self.signal_combo.findText(current)
        if index < 0:
            index = max(0, self.signal_combo.findText(preferred))
        self.signal_combo.setCurrentIndex(index)
        self.signal_combo.blockSignals(False)

    def _signal_changed(self):
        if self.family is not None:
            self._dirty.update(k for k in self.family.done if k < MAX_CURVES)
        self.update_analysis()

    def add_chunks(self, chunks):
        """Store the sweeps' samples (drawn at the next refresh)."""
        if self.family is None:
            return
        for chunk in chunks:
            if chunk.kind == "sweep" and chunk.sweep < self.family.n_sweeps:
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
        signal = self.signal_combo.currentText()
        count = min(self.family.n_sweeps, MAX_CURVES)
        for sweep in self._dirty:
            if sweep >= MAX_CURVES:
                continue
            trace = self.family.trace(signal, sweep)
            if trace is not None:
                self.curves[sweep].setData(*trace, connect="finite")
                self._set_pen(sweep, count)
            raw = self.family.trace("Im_raw", sweep) if signal == "Im" else None
            if raw is not None:
                self.raw_curves[sweep].setData(*raw, connect="finite")
        self._dirty.clear()

    def _set_pen(self, sweep, count):
        bright = not self._highlighted or sweep in self._highlighted
        color = sweep_color(sweep, count) if bright else theme.color(DIM_COLOR)
        self.curves[sweep].setPen(pg.mkPen(color, width=3 if sweep in self._highlighted else 1))

    # --- measurements -----------------------------------------------------------------

    def windows(self):
        """(window 1, window 2, window 3) in s from the sweep start."""
        return tuple(item.get() for item in self.windows_items)

    def settings(self):
        """The analysis settings the controls show."""
        return AnalysisSettings(windows=self.windows(),
                                signal=self.signal_combo.currentText() or None,
                                polarity=self.polarity_combo.currentData(),
                                criteria=SpikeCriteria(dvdt=float(self.dvdt_spin.value())))

    def update_analysis(self):
        """Remeasure every completed sweep and redraw the curves and the table."""
        if self.family is None:
            return
        self.refresh()
        try:
            self.result = analyze(self.family, self.settings())
        except VrigError as exc:
            self.result = None
            self.summary_label.setText(str(exc))
            self.message.emit(str(exc))
            return
        self._draw_result()

    def _draw_result(self):
        result = self.result
        plots = list(result.plots) + [None] * (2 - len(result.plots))
        for view, spec in zip(self.spec_plots, plots):
            view.show(spec)
        self._draw_marks()
        self.fit_curve.setData(*(result.fit_curve or ([], [])))
        for n, item in enumerate(self.windows_items, start=1):
            item.set_visible(n in result.windows_used)
        where = f" ({self.source})" if self.source else ""
        text = f"{self.family.name}{where}: {result.title}"
        summary = result.summary()
        self.summary_label.setText(f"{text}    {summary}" if summary else text)
        self._fill_table()

    def _draw_marks(self):
        """Threshold and peak of each spike, on every sweep when they are few, else on
        the selected sweeps (or the newest)."""
        empty = ([], [])
        if self.result is None or not self.result.marks:
            self.threshold_marks.setData(*empty)
            self.peak_marks.setData(*empty)
            return
        for item, (_, sweeps, t, y) in zip((self.threshold_marks, self.peak_marks),
                                           self.result.marks):
            keep = np.ones(sweeps.size, dtype=bool)
            if sweeps.size > MAX_MARKS:
                chosen = self._highlighted or {max(self.family.done)}
                keep = np.isin(sweeps, list(chosen))
            item.setData(t[keep], y[keep])

    def _fill_table(self):
        result = self.result
        self.table.blockSignals(True)
        self.table.clear()
        self.table.setColumnCount(len(result.columns))
        self.table.setRowCount(len(result.rows))
        self.table.setHorizontalHeaderLabels(list(result.columns))
        for j, column in enumerate(result.columns):
            self.table.horizontalHeaderItem(j).setToolTip(COLUMN_HELP.get(column, ""))
        for i, row in enumerate(result.rows):
            for j, column in enumerate(result.columns):
                value = row.get(column, float("nan"))
                text = f"{value:.4g}" if isinstance(value, float) else cell_text(value)
                self.table.setItem(i, j, QTableWidgetItem("" if text == "nan" else text))
        self.table.resizeColumnsToContents()
        self.table.blockSignals(False)

    def _on_rows_selected(self):
        if self.result is None or self.family is None:
            return
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        self._highlighted = {self.result.rows[r]["sweep"] - 1 for r in rows
                             if r < len(self.result.rows)}
        count = min(self.family.n_sweeps, MAX_CURVES)
        for sweep in range(count):
            self._set_pen(sweep, count)
        self._draw_marks()

    def copy(self):
        """Put the results on the clipboard as tab-separated text; returns the text."""
        if self.result is None:
            self.message.emit("nothing to copy: run a protocol or open a recording first")
            return ""
        text = result_tsv(self.result)
        QApplication.clipboard().setText(text)
        return text

    def export_csv(self, path=None):
        """Write the table as `vrig analyze` prints it; without a path a file dialog asks
        for one. Returns the path written, or None."""
        if self.family is None:
            self.message.emit("nothing to export: run a protocol or open a recording first")
            return None
        if path is None:
            stem = Path(self.source).stem if self.source else self.family.name or "analysis"
            suggested = str(Path(self._export_dir) / f"{_file_stem(stem)}-analysis.csv")
            path, _ = QFileDialog.getSaveFileName(self, "Export the analysis table",
                                                  suggested, "CSV table (*.csv)")
            if not path:
                return None
        try:
            write_analysis_csv(path, self.family, self.settings(), self.source)
        except VrigError as exc:
            self.message.emit(str(exc))
            return None
        self._export_dir = str(Path(path).parent)
        return path


def _file_stem(name):
    """A name that is safe as a file name."""
    keep = "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-")
    return keep[:60] or "analysis"


def install(window):
    """Add the Analysis tab to the rig window, fed by its client; returns the panel."""
    panel = AnalysisPanel()
    panel.set_signals(window.client.names_units)
    window.tabs.addTab(panel, "Analysis")
    window.client.chunks.connect(panel.add_chunks)
    window.client.event.connect(panel.on_event)
    window.client.tick.connect(panel.refresh)
    panel.message.connect(window.show_error)
    window.session.events.cell.connect(lambda _: panel.set_signals(window.client.names_units))
    window.client.event.connect(
        lambda e: (panel.set_signals(window.client.names_units)
                   if e.kind == "protocol_started" else None))
    return panel
