"""Action potentials in one voltage trace: detection, threshold, peak, height, width at
half height, and the trough after each spike. SI throughout (s, V, V/s).

The convention is that of Druckmann et al. (2013) Cereb Cortex 23:2994-3006,
Supplementary Methods (doi:10.1093/cercor/bhs290), itself a standard of automated
feature extraction (also eFEL's AP_begin / AP_amplitude / half-width):

- a spike is an upward crossing of a detection level (default -20 mV) whose upstroke
  reaches the dV/dt criterion (a slow depolarisation through the level is not a spike);
- its threshold (onset) is the Vm where dV/dt last rises through the criterion
  (default 20 mV/ms, the dv_cutoff of the Allen Institute's IPFX; Druckmann et al. use
  12 mV/ms) before the steepest point of the upstroke, interpolated between samples;
- height is peak minus threshold; the width is measured at threshold + height / 2,
  between the rising and the falling crossings of that level, interpolated;
- the trough (AHP) is the minimum after the peak, before the next spike's threshold or
  the end of the window.

dV/dt is the central difference of the samples (numpy.gradient). During a brief,
strong current pulse the injected current alone can drive dV/dt past the criterion
(300 pA into 10 pF is 30 mV/ms); the threshold is then the Vm at the pulse onset.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from rig import units
from rig.errors import VrigError
from rig.files.layout import FloatArray

DETECT_LEVEL_V = -0.020
DVDT_CRITERION_V_PER_S = 20.0  # 20 mV/ms
DETECT_RANGE_MV = (-200.0, 100.0)
DVDT_RANGE_MV_PER_MS = (0.1, 1000.0)  # 1 mV/ms = 1 V/s


@dataclass(frozen=True)
class SpikeCriteria:
    """detect_level: V, an upward crossing of it is a candidate spike; dvdt: V/s
    (1 V/s = 1 mV/ms), the threshold criterion and the least upstroke of a spike."""

    detect_level: float = DETECT_LEVEL_V
    dvdt: float = DVDT_CRITERION_V_PER_S

    def __post_init__(self) -> None:
        low, high = DETECT_RANGE_MV
        detect_mv = units.v_to_mv(self.detect_level)
        if not np.isfinite(self.detect_level) or not low <= detect_mv <= high:
            raise VrigError(f"the spike detection level must be {low:g} to {high:g} mV, got "
                            f"{detect_mv:g} mV")
        low, high = DVDT_RANGE_MV_PER_MS
        if not np.isfinite(self.dvdt) or not low <= self.dvdt <= high:
            raise VrigError(f"the dV/dt threshold criterion must be {low:g} to {high:g} mV/ms, "
                            f"got {self.dvdt:g} mV/ms")


@dataclass(frozen=True)
class Spike:
    """One action potential. Times in s, voltages in V; NaN where the window cut it
    (a spike still above half height at the window's end has no width or trough)."""

    threshold_t: float
    threshold_v: float
    peak_t: float
    peak_v: float
    half_width: float
    trough_t: float
    trough_v: float

    @property
    def height(self) -> float:
        """Peak minus threshold (V)."""
        return self.peak_v - self.threshold_v


def _interpolate(t: FloatArray, y: FloatArray, k: int, level: float) -> tuple[float, float]:
    """Time where y crosses level between samples k and k + 1."""
    dy = y[k + 1] - y[k]
    frac = 0.0 if dy == 0 else (level - y[k]) / dy
    return float(t[k] + frac * (t[k + 1] - t[k])), frac


def _onset(t: FloatArray, v: FloatArray, dvdt: FloatArray, lo: int, steepest: int,
           criterion: float) -> tuple[float, float]:
    """(time, Vm) where dV/dt last rises through the criterion before `steepest`,
    searching back no further than sample lo."""
    k = steepest
    while k > lo and dvdt[k - 1] >= criterion:
        k -= 1
    if k == lo:  # above the criterion from the start of the search
        return float(t[lo]), float(v[lo])
    when, frac = _interpolate(t, dvdt, k - 1, criterion)
    return when, float(v[k - 1] + frac * (v[k] - v[k - 1]))


def _half_width(t: FloatArray, v: FloatArray, lo: int, peak: int, hi: int,
                level: float) -> float:
    """Width (s) of the spike at level, between its rising and falling crossings."""
    rising = np.nonzero(v[lo:peak] < level)[0]
    falling = np.nonzero(v[peak:hi] < level)[0]
    if rising.size == 0 or falling.size == 0:
        return float("nan")
    k_up = lo + int(rising[-1])
    k_down = peak + int(falling[0]) - 1
    return _interpolate(t, v, k_down, level)[0] - _interpolate(t, v, k_up, level)[0]


def find_spikes(t: ArrayLike, v: ArrayLike, criteria: SpikeCriteria | None = None,
                t0: float | None = None, t1: float | None = None) -> tuple[Spike, ...]:
    """The spikes of a trace between t0 and t1 (s; default the whole trace).

    t: sample times (s); v: membrane potential (V), NaN samples (sweep padding) are
    dropped; criteria: a :class:`SpikeCriteria` (default -20 mV and 20 mV/ms).
    Returns a tuple of :class:`Spike`, in time order. A spike already above the
    detection level when the window opens is not counted.
    """
    criteria = criteria or SpikeCriteria()
    tt = np.asarray(t, dtype=float)
    vv = np.asarray(v, dtype=float)
    if tt.shape != vv.shape:
        raise VrigError(f"spike detection: t and v must have the same length, "
                        f"got {tt.size} and {vv.size}")
    keep = np.isfinite(tt) & np.isfinite(vv)
    if t0 is not None:
        keep &= tt >= t0
    if t1 is not None:
        keep &= tt <= t1
    tt = tt[keep]
    vv = vv[keep]
    if vv.size < 3:
        return ()
    dvdt = np.gradient(vv, tt)
    level = criteria.detect_level
    above = vv > level
    ups = np.nonzero(above[1:] & ~above[:-1])[0] + 1
    candidates = []
    searched_from = 0
    for up in ups:
        downs = np.nonzero(~above[up:])[0]
        down = up + int(downs[0]) if downs.size else vv.size
        peak = up + int(np.argmax(vv[up:down]))
        steepest = searched_from + int(np.argmax(dvdt[searched_from: peak + 1]))
        if dvdt[steepest] >= criteria.dvdt:
            candidates.append((steepest, peak, down))
        searched_from = down if down < vv.size else vv.size - 1
    spikes = []
    for n, (steepest, peak, down) in enumerate(candidates):
        lo = candidates[n - 1][2] if n else 0
        onset_t, onset_v = _onset(tt, vv, dvdt, lo, steepest, criteria.dvdt)
        hi = candidates[n + 1][0] if n + 1 < len(candidates) else vv.size
        if n + 1 < len(candidates):  # the trough ends where the next upstroke begins
            next_lo = down
            k = candidates[n + 1][0]
            while k > next_lo and dvdt[k - 1] >= criteria.dvdt:
                k -= 1
            hi = max(k, peak + 1)
        width = _half_width(tt, vv, lo, peak, hi, onset_v + (vv[peak] - onset_v) / 2)
        complete = down < vv.size
        trough = peak + int(np.argmin(vv[peak:hi])) if complete else None
        spikes.append(Spike(
            threshold_t=onset_t, threshold_v=onset_v, peak_t=float(tt[peak]),
            peak_v=float(vv[peak]), half_width=width if complete else float("nan"),
            trough_t=float(tt[trough]) if trough is not None else float("nan"),
            trough_v=float(vv[trough]) if trough is not None else float("nan")))
    return tuple(spikes)


def firing_rate(spike_times: ArrayLike, t0: float, t1: float) -> float:
    """Mean firing rate (Hz): spikes with t0 <= time < t1 (s) divided by t1 - t0."""
    if not t1 > t0:
        raise VrigError(f"the window must end after it starts, got {t0:g} s to {t1:g} s")
    times = np.asarray(spike_times, dtype=float)
    return float(np.count_nonzero((times >= t0) & (times < t1)) / (t1 - t0))
