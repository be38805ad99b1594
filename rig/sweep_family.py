"""Online analysis of a running protocol: per-sweep buffers filled chunk by chunk and the
measurements made on them with :mod:`rig.analysis` and :mod:`rig.fits` (the window's
Analysis tab shows them).

Windows are (t0, t1) in s from the start of the sweep. Window 1 gives the peak (and
mean, time to peak) of each sweep, window 2 the steady-state mean; the command in each
window gives the sweep's voltage. A prepulse (h-infinity) protocol is recognised by the
command in window 1 being the same in every sweep: its x axis is then the level of the
epoch before the one window 1 starts in. SI throughout (s, V, A, S).
"""

from dataclasses import dataclass

import numpy as np

from rig.analysis import (conductance, fit_boltzmann, fit_exponential, results_table,
                          reversal_by_interpolation, window_measure)
from rig.errors import VrigError
from rig.protocol import render_sweep

KEPT = ("Im", "Im_raw", "Vm", "command")


@dataclass
class Summary:
    """Family results; each is NaN (or None for fits) when it cannot be computed.
    reversal: V; activation, inactivation: BoltzmannFit or None; tau: s;
    fit: the ExponentialFit behind tau; errors: why something is missing."""

    reversal: float = float("nan")
    activation: object = None
    inactivation: object = None
    tau: float = float("nan")
    fit: object = None
    errors: tuple = ()


class SweepFamily:
    """Buffers (sweeps x samples, NaN until filled) for the named signals of a
    protocol's sweeps (the channel currents to measure, besides KEPT)."""

    def __init__(self, protocol, signals=KEPT):
        self.protocol = protocol
        self.interval = protocol.sample_interval_s
        longest = max(protocol.sweep_samples(k) for k in range(protocol.sweeps))
        self.time = np.arange(longest) * self.interval
        self.signals = tuple(signals)
        self.data = {}
        self.done = []  # sweeps completed, in order
        self._renders = [render_sweep(protocol, k) for k in range(protocol.sweeps)]

    def add(self, chunk):
        """Store a 'sweep' Chunk's samples."""
        for name, values in chunk.signals.items():
            if name not in self.signals and name not in self.data:
                continue
            if name not in self.data:
                self.data[name] = np.full((self.protocol.sweeps, self.time.size), np.nan)
            self.data[name][chunk.sweep, chunk.first_sample: chunk.first_sample + len(values)] = values

    def sweep_done(self, sweep):
        """Mark a sweep complete (its measurements are now made)."""
        if sweep not in self.done:
            self.done.append(sweep)

    def trace(self, name, sweep):
        """(t in s, values) of one signal in one sweep (None when not recorded)."""
        if name not in self.data:
            return None
        return self.time, self.data[name][sweep]

    def _level(self, sweep, t0, t1):
        command = self._renders[sweep].command
        return window_measure(self.time[:command.size], command, t0, t1).mean

    def _prepulse(self, sweep, t0):
        """Mean command (V) over the second half of the epoch before the one t0 is in."""
        rendered = self._renders[sweep]
        starts = list(rendered.epoch_starts) + [rendered.command.size]
        index = max(0, int(np.searchsorted(starts, t0 / self.interval, side="right")) - 1)
        if index == 0:
            return float("nan")
        first, last = starts[index - 1], starts[index]
        return float(np.mean(rendered.command[(first + last) // 2: last]))

    def measure(self, window1, window2, signal="Im", polarity="abs"):
        """One row (dict, ephys units in the column names) per completed sweep."""
        rows = []
        if signal not in self.data:
            return rows
        for k in sorted(self.done):
            y = self.data[signal][k]
            row = {"sweep": k + 1}
            try:
                peak = window_measure(self.time, y, *window1, polarity)
                steady = window_measure(self.time, y, *window2, polarity)
                row.update({"V_mV": self._level(k, *window1) * 1e3,
                            "Vss_mV": self._level(k, *window2) * 1e3,
                            "prepulse_mV": self._prepulse(k, window1[0]) * 1e3,
                            "peak_pA": peak.peak * 1e12, "mean_pA": peak.mean * 1e12,
                            "t_peak_ms": peak.time_to_peak * 1e3,
                            "steady_pA": steady.mean * 1e12})
            except VrigError:
                pass
            rows.append(row)
        return rows

    def summarise(self, rows, fit_window=None, signal="Im"):
        """Reversal, G-V Boltzmann, h-infinity Boltzmann and an exponential fit of every
        sweep in fit_window; adds 'G_nS', 'h' and 'tau_ms' to the rows. Returns a
        Summary (its tau and fit are the newest sweep's)."""
        summary = Summary()
        errors = []
        full = [r for r in rows if "peak_pA" in r]
        if len(full) >= 2:
            v = np.array([r["V_mV"] for r in full]) * 1e-3
            peak = np.array([r["peak_pA"] for r in full]) * 1e-12
            if np.ptp(v) > 1e-4:
                summary.reversal = reversal_by_interpolation(v, peak)
                if np.isfinite(summary.reversal):
                    g = conductance(peak, v, summary.reversal)
                    for r, gk in zip(full, g):
                        r["G_nS"] = gk * 1e9
                    below = v < summary.reversal  # inward currents: a clean activation
                    try:
                        summary.activation = fit_boltzmann(v[below], g[below], slope_sign=1)
                    except VrigError as exc:
                        errors.append(f"G-V: {exc}")
            else:
                pre = np.array([r["prepulse_mV"] for r in full]) * 1e-3
                if np.all(np.isfinite(pre)) and np.ptp(pre) > 1e-4:
                    h = peak / peak[np.argmax(np.abs(peak))]
                    for r, hk in zip(full, h):
                        r["h"] = hk
                    try:
                        summary.inactivation = fit_boltzmann(pre, h, amplitude=1.0,
                                                             slope_sign=-1)
                    except VrigError as exc:
                        errors.append(f"h-inf: {exc}")
        if fit_window is not None and signal in self.data:
            # One time constant per sweep (activation, deactivation or inactivation,
            # whichever the window covers); the newest sweep's fit is drawn.
            for row in rows:
                try:
                    fit = fit_exponential(self.time, self.data[signal][row["sweep"] - 1],
                                          *fit_window)
                except VrigError as exc:
                    if row is rows[-1]:
                        errors.append(f"exp fit: {exc}")
                    continue
                row["tau_ms"] = fit.tau * 1e3
                if row is rows[-1]:
                    summary.tau, summary.fit = fit.tau, fit
        summary.errors = tuple(errors)
        return summary


def table_text(rows, summary):
    """Tab-separated results for the clipboard: the per-sweep table, a blank line, then
    the family's results (name, value, unit)."""
    columns = ["sweep", "V_mV", "peak_pA", "mean_pA", "t_peak_ms", "Vss_mV", "steady_pA",
               "G_nS", "prepulse_mV", "h", "tau_ms"]
    used = [col for col in columns if any(col in r for r in rows)]
    facts = [{"quantity": "E_rev", "value": summary.reversal * 1e3, "unit": "mV"}]
    for name, fit in (("G-V", summary.activation), ("h-inf", summary.inactivation)):
        if fit is not None:
            facts += [{"quantity": f"{name} V1/2", "value": fit.v_half * 1e3, "unit": "mV"},
                      {"quantity": f"{name} slope", "value": fit.slope * 1e3, "unit": "mV"}]
    facts.append({"quantity": "tau", "value": summary.tau * 1e3, "unit": "ms"})
    return results_table(rows, used) + "\n" + results_table(facts, ["quantity", "value", "unit"])
