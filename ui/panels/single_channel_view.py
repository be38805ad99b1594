"""The 'Single channels' tab (shown while the cell is a patch): the sweeps of the
protocol that ran on a patch, analysed by
:func:`rig.analysis.patch_report.analyse_patch` (this only draws).

Six plots: one sweep's current with its idealisation over it; the all-points amplitude
histogram of the test pulse with the fitted Gaussians; open and closed dwell-time
histograms (log-binned, square-root ordinate, Sigworth & Sine 1987) with their
exponential fits; the ensemble average of every sweep beside the macroscopic current
the channels' scheme predicts; and the variance against the mean with the fitted
parabola sigma^2 = i I - I^2/N (+ background). The figures (i, N, Po max, Po, dwell
time constants) are in the text above. It analyses when a protocol finishes on a
patch and on Analyse.
"""

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rig import units
from rig.analysis.patch_report import analyse_patch, macroscopic_current
from rig.analysis.single_channel import amplitude_histogram, log_binned_histogram
from rig.errors import VrigError
from rig.simulation.stochastic import polarity
from ui.look import theme
from ui.panels.patch_mode import is_patch, metadata_pairs

RAW, FIT, IDEAL = "#9aa5b4", "#ff9f43", "#7ee081"
# Below this width (px) the six plots stand in one column, scrolled, each at least
# PLOT_MIN_HEIGHT high: two columns in 530 px (1280x800 with the Lesson dock open) cut
# the right-hand plots off
TWO_COLUMNS_MIN_WIDTH = 760
PLOT_MIN_HEIGHT = 210
Y_MARGIN = 0.15  # of the plotted range, above and below


def patch_inputs(state, command_v):
    """(n_channels, expected unitary current as read (pA), macroscopic current (pA) or
    None, membrane potentials (mV)) for a patch RigState and one sweep's command (V)."""
    cell = state.cell
    if not cell.schemes:
        raise VrigError("the single-channel analysis is for a patch (e.g. cell patch-na): "
                        "choose one on the amplifier panel and run its protocol")
    scheme, count = cell.schemes[0]
    reversals = metadata_pairs(state.metadata.get("E_rev_mV", ""))
    e_rev = float(reversals.get(scheme.ion, "nan"))
    if not np.isfinite(e_rev):
        raise VrigError(f"no reversal potential for {scheme.ion}: the channels carry nothing")
    v_sign, v_offset = polarity(cell.configuration)
    v_mv = v_sign * units.v_to_mv(np.asarray(command_v, dtype=float)) + v_offset
    pulse_v = v_mv[np.argmax(np.abs(v_mv - v_mv[0]))]
    unitary = v_sign * scheme.unitary_conductance_ps * 1e-3 * (pulse_v - e_rev)
    return count, unitary, scheme, e_rev, v_mv, v_sign


class SingleChannelView(QWidget):
    """analyse(family, state) draws the analysis; message(str) is not used: problems
    are shown in its own text."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.report = None
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.analyse_button = QPushButton("Analyse")
        self.analyse_button.setToolTip("Analyse the sweeps of the protocol that ran on the patch")
        self.sweep_spin = QSpinBox()
        self.sweep_spin.setPrefix("sweep ")
        self.sweep_spin.setToolTip("The sweep drawn with its idealisation")
        bar.addWidget(self.analyse_button)
        bar.addWidget(self.sweep_spin)
        bar.addStretch(1)
        layout.addLayout(bar)
        self.summary = QLabel("Run a protocol on a patch (e.g. vc-patch-na), then Analyse.")
        self.summary.setObjectName("CursorReadout")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.view = pg.GraphicsLayoutWidget()
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.view)
        layout.addWidget(self.scroll, 1)
        self.columns = 2
        titles = (("trace", "Sweep and idealisation", "time (ms)", "I (pA)"),
                  ("amplitude", "Amplitudes", "I (pA)", "samples"),
                  ("open", "Open times", "log10 t (ms)", "sqrt(count)"),
                  ("closed", "Closed times", "log10 t (ms)", "sqrt(count)"),
                  ("ensemble", "Ensemble mean and expected current", "time (ms)", "I (pA)"),
                  ("noise", "Variance against mean", "mean I (pA)", "variance (pA^2)"))
        self.plots = {}
        for k, (key, title, x, y) in enumerate(titles):
            plot = self.view.addPlot(row=k // 2, col=k % 2, title=title)
            plot.setLabel("bottom", x)
            plot.setLabel("left", y)
            self.plots[key] = plot
        self._set_columns(2)
        self._family = None
        self.sweep_spin.valueChanged.connect(lambda _: self._draw_trace())

    def resizeEvent(self, event):
        """One column of plots when narrow, two when there is room (see
        TWO_COLUMNS_MIN_WIDTH)."""
        super().resizeEvent(event)
        self._set_columns(2 if event.size().width() >= TWO_COLUMNS_MIN_WIDTH else 1)

    def _set_columns(self, columns):
        rows = -(-len(self.plots) // columns)
        self.view.setMinimumHeight(rows * PLOT_MIN_HEIGHT)
        if columns == self.columns:
            return
        self.columns = columns
        layout = self.view.ci
        for plot in self.plots.values():
            layout.removeItem(plot)
        for k, plot in enumerate(self.plots.values()):
            layout.addItem(plot, row=k // columns, col=k % columns)

    def analyse(self, family, state):
        """Analyse a SweepFamily's Im sweeps of the patch in RigState state; returns the
        PatchReport, or None with the reason shown."""
        try:
            if family is None or "Im" not in family.data or len(family.done) < 2:
                raise VrigError("run a protocol of two or more sweeps on the patch first")
            done = sorted(family.done)
            sweeps = units.a_to_pa(family.data["Im"][done])
            command = family.commands[done[0]]
            count, unitary, scheme, e_rev, v_mv, sign = patch_inputs(state, command)
            expected = macroscopic_current(
                scheme, count, scheme.unitary_conductance_ps, e_rev, v_mv,
                units.s_to_ms(family.interval), scheme.phi(state.temperature_c), sign)
            report = analyse_patch(sweeps, command, family.interval, count, unitary, expected)
        except VrigError as exc:
            self.summary.setText(f"Single channels: {exc}")
            self.report = None
            return None
        self.report, self._family, self._done = report, family, done
        self.sweep_spin.setRange(0, len(done) - 1)
        self._draw(report, family)
        return report

    def _draw(self, r, family):
        t_ms = units.s_to_ms(family.time)
        noise = r.noise
        figures = [f"i = {r.unitary_pa:.3f} pA (amplitudes)", f"Po = {r.p_open:.3f}"]
        if r.open_fit is not None:
            figures.append(f"tau open = {units.s_to_ms(r.open_fit.taus_s[0]):.3f} ms")
        if r.closed_fit is not None:
            figures.append(f"tau closed = {units.s_to_ms(r.closed_fit.taus_s[0]):.3f} ms")
        if noise is not None:
            figures.append(f"noise analysis: i = {noise.unitary_pa:.3f} +/- "
                           f"{noise.unitary_error_pa:.3f} pA, N = {noise.n_channels:.1f} +/- "
                           f"{noise.n_channels_error:.1f}, Po max = {noise.p_open_max:.2f} "
                           f"+/- {noise.p_open_max_error:.2f}")
        figures.append(f"{len(self._done)} sweeps")
        self.summary.setText("; ".join(figures) + ("\n" + "; ".join(r.notes) if r.notes else ""))
        self._draw_trace()
        pulse = family.data["Im"][self._done][:, r.window] * 1e12
        centres, counts = amplitude_histogram(pulse, max(abs(r.unitary_pa) / 20, 0.01))
        plot = self._reset("amplitude")
        plot.plot(centres, counts, stepMode=None, pen=pg.mkPen(theme.color(RAW)))
        if r.amplitude_fit is not None:
            fit = r.amplitude_fit
            width = centres[1] - centres[0]
            total = counts.sum()
            curve = sum(a * total * width / (sd * np.sqrt(2 * np.pi))
                        * np.exp(-0.5 * ((centres - m) / sd) ** 2)
                        for m, sd, a in zip(fit.means_pa, fit.sds_pa, fit.areas))
            plot.plot(centres, curve, pen=pg.mkPen(theme.color(FIT), width=2))
        for key, times, fit in (("open", r.open_s, r.open_fit), ("closed", r.closed_s,
                                                                 r.closed_fit)):
            plot = self._reset(key)
            if times.size == 0:
                continue
            edges, n = log_binned_histogram(times, 10, family.interval)
            x = np.log10(units.s_to_ms(edges))
            plot.plot(x, np.sqrt(n), stepMode="center", pen=pg.mkPen(theme.color(RAW)))
            if fit is not None:
                mids = (x[:-1] + x[1:]) / 2
                plot.plot(mids, np.sqrt(fit.expected_counts(edges)),
                          pen=pg.mkPen(theme.color(FIT), width=2))
        plot = self._reset("ensemble")
        plot.plot(t_ms[: r.mean_pa.size], r.mean_pa, pen=pg.mkPen(theme.color(RAW)))
        shown = [r.mean_pa[r.window]]
        if r.macroscopic_pa is not None:
            plot.plot(t_ms[: r.macroscopic_pa.size], r.macroscopic_pa,
                      pen=pg.mkPen(theme.color(FIT), width=2))
            shown.append(r.macroscopic_pa[r.window])
        _fit_y(plot, *shown)
        plot = self._reset("noise")
        mean, var = r.mean_pa[r.window], r.variance_pa2[r.window]
        plot.plot(mean, var, pen=None, symbol="o", symbolSize=4,
                  symbolBrush=theme.color(RAW))
        if noise is not None:
            grid = np.linspace(min(0.0, mean.min()), max(0.0, mean.max()), 100)
            plot.plot(grid, noise.variance(grid), pen=pg.mkPen(theme.color(FIT), width=2))

    def _draw_trace(self):
        r = self.report
        if r is None or self._family is None:
            return
        k = self.sweep_spin.value()
        family = self._family
        t_ms = units.s_to_ms(family.time)
        raw = family.data["Im"][self._done[k]] * 1e12
        plot = self._reset("trace")
        plot.plot(t_ms[: raw.size], raw, pen=pg.mkPen(theme.color(RAW)))
        ideal = r.levels[k] * r.unitary_pa
        plot.plot(t_ms[r.window][: ideal.size], ideal, pen=pg.mkPen(theme.color(IDEAL), width=2))
        _fit_y(plot, raw[r.window], ideal)

    def _reset(self, key):
        plot = self.plots[key]
        plot.clear()
        return plot


def _fit_y(plot, *arrays):
    """Set plot's y range to the values of arrays (the test pulse: the openings), with
    0 and a margin: the capacitive transients at the command's edges, tens of pA
    against a 1-2 pA opening, would flatten the openings. (pyqtgraph's A button still
    shows everything.)"""
    values = np.concatenate([np.ravel(a) for a in arrays] + [[0.0]])
    values = values[np.isfinite(values)]
    low, high = float(values.min()), float(values.max())
    margin = Y_MARGIN * max(high - low, 1e-3)
    plot.setYRange(low - margin, high + margin, padding=0)


def install(window):
    """Add the Single channels tab (after Analysis) while the cell is a patch: its six
    plots need the window's width. It analyses the Analysis tab's sweeps when a
    protocol finishes on a patch and on Analyse. Returns the view."""
    view = SingleChannelView()

    def run():
        return view.analyse(window.analysis.family, window.session.engine)

    def cell_changed(*_):
        shown = window.tabs.indexOf(view) >= 0
        patch = is_patch(window.session.engine.cell)
        if patch and not shown:
            window.tabs.insertTab(window.tabs.indexOf(window.analysis) + 1, view,
                                  "Single channels")
        elif shown and not patch:
            window.tabs.removeTab(window.tabs.indexOf(view))

    view.analyse_button.clicked.connect(run)
    window.client.event.connect(
        lambda e: run() if e.kind == "protocol_done" and window.session.engine.cell.schemes
        else None)
    window.session.events.cell.connect(cell_changed)
    cell_changed()
    return view
