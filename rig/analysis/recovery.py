"""Recovery from inactivation in voltage clamp: two identical test pulses separated by
an interval at holding that grows from sweep to sweep (``vc-recovery``). Each pulse's
peak is measured in window 1 placed at the same offset from that pulse's onset as it
is from the first pulse's; the second peak over the first, against the interval,
recovers as 1 - A exp(-t / tau), and tau is the recovery time constant (h's at the
holding potential for an HH sodium current). SI inside; rows in ephys units.
"""

import numpy as np

from rig import units
from rig.analysis.fits import ExponentialFit, fit_exponential
from rig.analysis.measurements import window_measure
from rig.analysis.result import Fact, Plot, Row, Series
from rig.analysis.sweep_family import SweepFamily
from rig.errors import VrigError

COLUMNS = ("sweep", "interval_ms", "peak1_pA", "peak2_pA", "ratio")
SAME_LEVEL_V = 1e-4


def recovery_pulses(family: SweepFamily) -> tuple[int, int] | None:
    """(first, second) epoch index of a two-pulse recovery protocol, or None: the first
    two epochs away from holding, at the same level in every sweep, whose separation
    changes between sweeps."""
    away = [e for e in range(family.n_epochs())
            if abs(family.epoch_levels(0, e)[0] - family.holding) > SAME_LEVEL_V]
    if len(away) < 2:
        return None
    first, second = away[0], away[1]
    sweeps = range(family.n_sweeps)
    same = all(abs(family.epoch_levels(k, first)[0] - family.epoch_levels(k, second)[0])
               < SAME_LEVEL_V for k in sweeps)
    gaps = [family.epoch_span(k, second)[0] - family.epoch_span(k, first)[0] for k in sweeps]
    return (first, second) if same and np.ptp(gaps) > family.interval / 2 else None


def measure_recovery(family: SweepFamily, window1: tuple[float, float], signal: str,
                     polarity: str, pulses: tuple[int, int]) -> list[Row]:
    """One row per completed sweep: the interval at holding (ms), both peaks (pA) and
    their ratio."""
    first, second = pulses
    offset = window1[0] - family.epoch_span(0, first)[0]
    width = window1[1] - window1[0]
    rows: list[Row] = []
    for k in sorted(family.done):
        y = family.data[signal][k]
        on1, end1 = family.epoch_span(k, first)
        on2 = family.epoch_span(k, second)[0]
        row = {"sweep": k + 1, "interval_ms": round(units.s_to_ms(on2 - end1), 9)}
        try:
            peak1 = window_measure(family.time, y, on1 + offset, on1 + offset + width, polarity)
            peak2 = window_measure(family.time, y, on2 + offset, on2 + offset + width, polarity)
        except VrigError:
            rows.append(row)
            continue
        row.update({"peak1_pA": units.a_to_pa(peak1.peak), "peak2_pA": units.a_to_pa(peak2.peak),
                    "ratio": peak2.peak / peak1.peak if peak1.peak else float("nan")})
        rows.append(row)
    return rows


def recovery_summary(rows: list[Row], sign: int, floor: float,
                     notes: list[str]) -> tuple[list[Fact], ExponentialFit | None]:
    """(facts, the fit or None) of the recovery curve."""
    full = [r for r in rows if "ratio" in r]
    word = "inward" if sign < 0 else "outward"
    if not full or not max(sign * units.pa_to_a(r["peak1_pA"]) for r in full) > floor:
        notes.append(f"no {word} current to fit: the first pulse's peak is within the noise")
        return [], None
    t = units.ms_to_s(np.array([r["interval_ms"] for r in full]))
    ratio = np.array([r["ratio"] for r in full])
    if np.min(ratio) < -0.05:
        other = "outward" if sign < 0 else "inward"
        notes.append(f"recovery: after the shortest intervals the second pulse's current "
                     f"turns {other}, so it is not only the inactivating current: measure a "
                     f"channel current (e.g. INa) or block the other channels (e.g. TEA for K)")
        return [], None
    try:
        fit = fit_exponential(t, ratio)
    except VrigError:
        notes.append("recovery: the ratios do not follow one exponential, so no fit is drawn")
        return [], None
    if not (fit.amplitude < 0 and fit.tau <= 3 * np.ptp(t)):
        notes.append("recovery: the second peak does not recover along the intervals tested, "
                     "so no time constant is given")
        return [], None
    return [Fact("tau_recovery", units.s_to_ms(fit.tau), "ms", "recovery tau"),
            Fact("recovered_fraction", fit.offset, "", "recovers to")], fit


def recovery_plots(rows: list[Row], fit: ExponentialFit | None,
                   notes: list[str]) -> tuple[Plot, Plot]:
    """The recovery curve with its fit, and both peaks against the interval."""
    t = units.ms_to_s(np.array([r["interval_ms"] for r in rows], dtype=float))
    column = {c: np.array([r.get(c, np.nan) for r in rows], dtype=float)
              for c in ("ratio", "peak1_pA", "peak2_pA")}
    series = [Series("I2 / I1", t, column["ratio"], "points")]
    if fit is not None:
        grid = np.linspace(np.nanmin(t), np.nanmax(t), 200)
        series.append(Series("exponential fit", grid, fit(grid), "line"))
    return (Plot("Recovery from inactivation: I2 / I1", "interval at holding", "s",
                 "I2 / I1", "", tuple(series), (), notes[0] if notes else ""),
            Plot("Peak currents", "interval at holding", "s", "current", "A",
                 (Series("first pulse", t, units.pa_to_a(column["peak1_pA"])),
                  Series("second pulse", t, units.pa_to_a(column["peak2_pA"])))))
