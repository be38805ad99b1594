"""The membrane (seal) test window, as in Clampex: a repeating small voltage step with
live readouts of Rt, Ra, Rm, Cm and the holding current, the current of the newest
cycle, and a trend of Ra, Rm and Cm over time.

Lifecycle: Start emits ``command`` with :class:`rig.acquisition.commands.Start` and
:class:`rig.acquisition.commands.StartMembraneTest` (the runner then sends one chunk of kind
'membrane_test' per cycle: holding for half a period, then holding + step); each
newest cycle is analysed with :func:`rig.amplifier.membrane_test.analyse_step` at most every
ANALYSE_EVERY_S; Stop, or closing the window, emits StopMembraneTest.

The 'clamp tau' readout is the model's privilege: the time the true membrane potential
('Vmem') takes to reach 1 - 1/e of its step, which Rs compensation shortens.
A chunk flagged ``saturated`` (the headstage hit its rails) lights the OSCILLATION
warning; the analysis is skipped while it is lit.
"""

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from rig import units
from rig.acquisition import commands as c
from rig.amplifier.circuit import filter_delay_s
from rig.amplifier.membrane_test import analyse_step, clamp_time_constant
from rig.errors import VrigError
from ui.look import theme

ANALYSE_EVERY_S = 0.1  # readouts change 10 times a second, like a panel meter
ADVICE_RS_OHM = 10e6  # a typical whole-cell access resistance
IDEAL_CLAMP_ADVICE = (
    "This cell is clamped ideally: there is no access resistance between the amplifier "
    "and the membrane, so the capacitive current of each step flows within one sample "
    "and there is no transient to measure Ra, Rm and Cm from. A real electrode has an "
    "access resistance of a few MΩ: add one, or switch to the model cell, which is made "
    "for this test.")
TREND_POINTS = 3000  # 5 minutes at 10 Hz
READOUTS = (("Rt", "MΩ"), ("Ra", "MΩ"), ("Rm", "MΩ"), ("Cm", "pF"), ("Ihold", "pA"),
            ("τ", "µs"), ("clamp τ", "µs"))
TREND_UNITS = {"Ra": "MΩ", "Rm": "MΩ", "Cm": "pF"}  # plotted in these (no SI prefixes)
TREND_SHOWN = {"Ra": units.ohm_to_mohm, "Rm": units.ohm_to_mohm, "Cm": units.f_to_pf}  # SI to those
TREND_COLORS = {"Ra": "#ff9f43", "Rm": "#5b9cff", "Cm": "#7ee081"}


class MembraneTestWindow(QDialog):
    """command(object) carries rig commands; started() when the test starts.
    amplifier: callable returning the present Amplifier (for the filter's delay)."""

    command = Signal(object)
    started = Signal()
    rsRequested = Signal(float)  # ohm, from the advice on an ideal clamp
    cellRequested = Signal(str)

    def __init__(self, amplifier=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Membrane test")
        self.setModal(False)
        self._amplifier = amplifier
        self.running = False
        self.result = None  # the newest MembraneTestResult
        self.clamp_tau = float("nan")  # s
        self.oscillating = False
        self.analysed = 0  # cycles analysed successfully
        self.cycles = 0  # cycles looked at (clamp tau is measured on each)
        self._analysed_at = -1e9
        self._trend = np.full((4, TREND_POINTS), np.nan)  # t, Ra, Rm, Cm
        self._trend_n = 0
        self._t0 = None
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_controls())
        layout.addLayout(self._build_readouts())
        self.warning = QLabel("")
        self.warning.setObjectName("OscillationWarning")
        self.warning.setAlignment(Qt.AlignCenter)
        theme.set_style(self.warning, "QLabel { color: #ffffff; background: #a01c22; "
                                   "font-size: 22px; font-weight: bold; padding: 6px; "
                                   "border-radius: 6px; }")
        self.warning.setWordWrap(True)
        self.warning.setVisible(False)
        layout.addWidget(self.warning)
        layout.addWidget(self._build_advice())
        self.plots = pg.GraphicsLayoutWidget()
        self._build_plots()
        layout.addWidget(self.plots, 1)
        self.status = QLabel("Stopped")
        theme.set_style(self.status, "color: #9aa5b4;")
        layout.addWidget(self.status)
        self.resize(900, 700)

    # --- construction -----------------------------------------------------------------

    def _build_controls(self):
        row = QHBoxLayout()
        self.step_spin = QDoubleSpinBox()
        self.step_spin.setRange(-50.0, 50.0)
        self.step_spin.setValue(10.0)
        self.step_spin.setSuffix(" mV")
        self.period_spin = QDoubleSpinBox()
        self.period_spin.setRange(2.0, 100.0)
        self.period_spin.setValue(20.0)
        self.period_spin.setSuffix(" ms")
        self.period_spin.setToolTip("Period of the square wave (step for half of it)")
        self.start_button = QPushButton(" Start")
        theme.set_icon(self.start_button, "play")
        self.start_button.setObjectName("RunButton")
        self.start_button.setCheckable(True)
        self.start_button.clicked.connect(lambda on: self.start() if on else self.stop())
        row.addWidget(QLabel("Step"))
        row.addWidget(self.step_spin)
        row.addWidget(QLabel("Period"))
        row.addWidget(self.period_spin)
        row.addStretch(1)
        row.addWidget(self.start_button)
        return row

    def _build_advice(self):
        """Why nothing can be measured on an ideally clamped cell, and the two fixes."""
        self.advice = QFrame()
        self.advice.setObjectName("Advice")
        theme.set_style(self.advice, "QFrame#Advice { background: #2a2f1a; border: 1px solid "
                                  "#8a7a2a; border-radius: 6px; }")
        box = QVBoxLayout(self.advice)
        text = QLabel(IDEAL_CLAMP_ADVICE)
        text.setWordWrap(True)
        box.addWidget(text)
        row = QHBoxLayout()
        self.add_rs_button = QPushButton(f"Add Rs = {units.ohm_to_mohm(ADVICE_RS_OHM):g} MΩ")
        self.add_rs_button.setToolTip("set the electrode's access resistance on the "
                                      "Compensation tab")
        self.add_rs_button.clicked.connect(lambda: self.rsRequested.emit(ADVICE_RS_OHM))
        self.model_cell_button = QPushButton("Switch to the model cell")
        self.model_cell_button.setToolTip("the amplifier maker's 10 MΩ / 500 MΩ / 33 pF "
                                          "model cell, made for this test")
        self.model_cell_button.clicked.connect(lambda: self.cellRequested.emit("model-cell"))
        row.addWidget(self.add_rs_button)
        row.addWidget(self.model_cell_button)
        row.addStretch(1)
        box.addLayout(row)
        self.advice.setVisible(False)
        return self.advice

    def refresh_advice(self):
        """Show the advice when the present electrode has no access resistance."""
        ideal = self._amplifier is not None and self._amplifier().series_resistance == 0
        if ideal != self.advice.isVisibleTo(self):
            self.advice.setVisible(ideal)
        return ideal

    def cell_changed(self):
        """A new cell (a new engine): forget the old readouts and trend, and carry a
        running test over to the new engine."""
        self.result = None
        self.clamp_tau = float("nan")
        self._trend[:] = np.nan
        self._trend_n = 0
        self._t0 = None
        for label in self.readouts.values():
            label.setText("---")
        for curve in (self.trace_curve, *self.trend_curves.values()):
            curve.setData([], [])
        if self.running:
            self.start()
        self.refresh_advice()

    def _build_readouts(self):
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        self.readouts = {}
        for i, (name, unit) in enumerate(READOUTS):
            title = QLabel(f"{name} ({unit})")
            title.setObjectName("ReadoutName")
            value = QLabel("---")
            value.setObjectName("Readout")
            value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            value.setMinimumWidth(150)
            if name == "Ihold":
                value.setProperty("kind", "current")
            row, col = divmod(i, 4)
            grid.addWidget(title, 2 * row, col)
            grid.addWidget(value, 2 * row + 1, col)
            self.readouts[name] = value
        self.readouts["clamp τ"].setToolTip("Model only: how fast the true membrane potential "
                                            "follows the step (Rs compensation shortens it)")
        return grid

    def apply_theme(self, look):
        """Follow a new look: the current trace and the trends' colours."""
        self.trace_curve.setPen(pg.mkPen(theme.trace_color("Im", look=look), width=1))
        for name, curve in self.trend_curves.items():
            curve.setPen(pg.mkPen(theme.color(TREND_COLORS[name], look), width=2))

    def _build_plots(self):
        trace = self.plots.addPlot(row=0, col=0)
        trace.setLabel("left", "Im", units="A")
        trace.setLabel("bottom", "Time", units="s")
        trace.showGrid(x=True, y=True, alpha=theme.current().grid_alpha)
        trace.setMenuEnabled(False)
        self.trace_curve = trace.plot(pen=pg.mkPen(theme.trace_color("Im"), width=1))
        self.trace_plot = trace
        self.trend_plots = {}
        self.trend_curves = {}
        for i, (name, unit) in enumerate(TREND_UNITS.items()):
            plot = self.plots.addPlot(row=1 + i, col=0)
            plot.setLabel("left", f"{name} ({unit})")
            plot.enableAutoRange(y=False)
            plot.showGrid(x=True, y=True, alpha=theme.current().grid_alpha)
            plot.setMenuEnabled(False)
            if i:
                plot.setXLink(self.trend_plots["Ra"])
            plot.setLabel("bottom", "Test time", units="s") if i == 2 else None
            self.trend_curves[name] = plot.plot(pen=pg.mkPen(theme.color(TREND_COLORS[name]),
                                                             width=2))
            self.trend_plots[name] = plot
        self.plots.ci.layout.setRowStretchFactor(0, 3)

    # --- actions ----------------------------------------------------------------------

    def step_v(self):
        """The step in V."""
        return units.mv_to_v(self.step_spin.value())

    def start(self):
        """Start the test (VC, the square wave replaces continuous acquisition)."""
        self.running = True
        self.start_button.setChecked(True)
        self.start_button.setText(" Stop")
        theme.set_icon(self.start_button, "stop")
        self._t0 = None
        self.refresh_advice()
        self.command.emit(c.Start())
        half_period_s = units.ms_to_s(self.period_spin.value()) / 2
        self.command.emit(c.StartMembraneTest(step_v=self.step_v(), half_period_s=half_period_s))
        self.status.setText("Running")
        self.started.emit()

    def stop(self):
        """Stop the test; continuous acquisition resumes."""
        if self.running:
            self.command.emit(c.StopMembraneTest())
        self.running = False
        self.start_button.setChecked(False)
        self.start_button.setText(" Start")
        theme.set_icon(self.start_button, "play")
        self.status.setText("Stopped")

    def showEvent(self, event):
        """Opening the window says at once whether this cell can be measured."""
        self.refresh_advice()
        super().showEvent(event)

    def closeEvent(self, event):
        """Closing the window stops the test."""
        self.stop()
        super().closeEvent(event)

    # --- data -------------------------------------------------------------------------

    def add_chunks(self, chunks, now=None):
        """Take the newest membrane-test cycle and analyse it (at most every
        ANALYSE_EVERY_S)."""
        tests = [chunk for chunk in chunks if chunk.kind == "membrane_test"]
        if not tests or not self.running:
            return
        if self.refresh_advice():
            self.status.setText("No transient to measure: the cell is clamped ideally "
                                "(see above)")
            self.trace_curve.setData(np.arange(tests[-1].n_samples) * tests[-1].sample_interval_s,
                                     np.asarray(tests[-1].signals["Im"], dtype=float))
            return
        chunk = tests[-1]
        self.set_oscillating(any(t.saturated for t in tests))
        now = time.monotonic() if now is None else now
        if now - self._analysed_at < ANALYSE_EVERY_S:
            return
        self._analysed_at = now
        self.analyse(chunk)

    def set_oscillating(self, on):
        """Show or hide the OSCILLATION warning."""
        self.oscillating = bool(on)
        self.warning.setText("OSCILLATION - the headstage is at its rails.\nTurn Rs "
                             "compensation down, or press Comp off.")
        self.warning.setVisible(self.oscillating)

    def analyse(self, chunk):
        """Analyse one cycle (a 'membrane_test' Chunk) and update the readouts."""
        im = np.asarray(chunk.signals["Im"], dtype=float)
        dt = chunk.sample_interval_s
        t = np.arange(im.size) * dt
        self.trace_curve.setData(t, im)
        n = im.size
        if "Vmem" in chunk.signals:
            self.clamp_tau = clamp_time_constant(chunk.signals["Vmem"], n // 2, dt)
            self.readouts["clamp τ"].setText(f"{units.s_to_us(self.clamp_tau):8.1f}"
                                             if np.isfinite(self.clamp_tau) else "---")
        self.cycles += 1
        if self.oscillating:
            self.status.setText("Oscillating: no analysis")
            return
        delay = filter_delay_s(self._amplifier(), dt) if self._amplifier else 0.0
        try:
            self.result = analyse_step(t, im, self.step_v(), n // 2, n, delay)
        except VrigError as exc:
            self.status.setText(str(exc))
            return
        self.analysed += 1
        self.status.setText(f"Running: {self.analysed} cycles analysed")
        r = self.result
        shown = {"Rt": units.ohm_to_mohm(r.total_resistance),
                 "Ra": units.ohm_to_mohm(r.access_resistance),
                 "Rm": units.ohm_to_mohm(r.membrane_resistance), "Cm": units.f_to_pf(r.capacitance),
                 "Ihold": units.a_to_pa(r.holding_current), "τ": units.s_to_us(r.time_constant),
                 "clamp τ": units.s_to_us(self.clamp_tau)}
        for name, value in shown.items():
            self.readouts[name].setText(f"{value:8.1f}" if np.isfinite(value) else "---")
        self._add_trend(chunk.time_s, r)

    def _add_trend(self, time_s, result):
        if self._t0 is None:
            self._t0 = time_s
        if self._trend_n == TREND_POINTS:  # full: drop the oldest half
            half = TREND_POINTS // 2
            self._trend[:, :half] = self._trend[:, half:]
            self._trend[:, half:] = np.nan
            self._trend_n = half
        k = self._trend_n
        self._trend[:, k] = (time_s - self._t0, result.access_resistance,
                             result.membrane_resistance, result.capacitance)
        self._trend_n += 1
        x = self._trend[0, :self._trend_n]
        for row, name in enumerate(("Ra", "Rm", "Cm"), start=1):
            y = TREND_SHOWN[name](self._trend[row, :self._trend_n])
            self.trend_curves[name].setData(x, y)
            # From zero to well above the largest value: a drifting seal or a losing
            # access shows as a slope, and noise in the 7th digit stays invisible.
            top = np.nanmax(np.abs(y)) if np.isfinite(y).any() else 1.0
            self.trend_plots[name].setYRange(min(0.0, float(np.nanmin(y))), 1.3 * top, padding=0)


def install(window):
    """Add 'Membrane test...' (Ctrl+M) to the Tools menu of the rig window. The test
    window itself is made when it is first opened (window.membrane_test): its plots
    cost a noticeable part of every start, and most sessions never open it."""
    from PySide6.QtGui import QAction, QKeySequence

    action = QAction("&Membrane test...", window)
    action.setShortcut(QKeySequence("Ctrl+M"))
    action.triggered.connect(lambda: (window.membrane_test.show(),
                                      window.membrane_test.raise_()))
    window.menuBar().addMenu("&Tools").addAction(action)


def create(window, compensation):
    """The MembraneTestWindow of a rig window, wired to its client and compensation."""
    test = MembraneTestWindow(amplifier=lambda: compensation.amplifier, parent=window)
    test.command.connect(window.client.send)
    test.started.connect(lambda: window.set_mode("VC"))
    window.client.chunks.connect(test.add_chunks)
    test.rsRequested.connect(lambda ohm: compensation.request({"series_resistance": ohm}))
    test.cellRequested.connect(window.set_cell)
    window.cellChanged.connect(lambda _name: test.cell_changed())
    return test
