"""Single-channel analysis: idealisation, amplitude histograms, open probability and
dwell times, as in Colquhoun & Sigworth 1995 (Single-Channel Recording, 2nd ed.,
Plenum, ch. 19) and Sigworth & Sine 1987 (Biophys J 52:1047-1054).

Units: currents in pA, times in s (the file units of a recording's Im_pA and its
time column), conductance levels as whole numbers of open channels. A unitary
current is signed: negative for an inward current (Na at -40 mV).
"""

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import curve_fit, minimize_scalar

from rig.errors import VrigError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def idealise(current_pa: npt.ArrayLike, unitary_pa: float, baseline_pa: float = 0.0,
             max_level: int | None = None) -> IntArray:
    """The number of open channels at each sample by half-amplitude threshold
    crossing: level k while the current is within half a unitary current of
    baseline + k x unitary (so a single channel is open while it is beyond half
    its amplitude). current_pa: samples (pA; any shape); unitary_pa: the current
    through one open channel (pA, signed, not 0); baseline_pa: the closed level (pA);
    max_level: the most channels that can be open (default: no limit)."""
    if not math.isfinite(unitary_pa) or unitary_pa == 0:
        raise VrigError("idealisation needs a unitary current that is finite and not 0 pA")
    scaled = (np.asarray(current_pa, dtype=float) - baseline_pa) / unitary_pa
    levels = np.floor(np.nan_to_num(scaled, nan=0.0) + 0.5)
    levels = np.clip(levels, 0, np.inf if max_level is None else max_level)
    return levels.astype(np.int64)


def open_probability(levels: npt.ArrayLike, n_channels: int = 1) -> float:
    """Open probability from idealised levels (open channels per sample) of a record
    with n_channels channels: mean level / n_channels (NPo / N)."""
    if n_channels < 1:
        raise VrigError("open probability needs at least one channel")
    return float(np.mean(np.asarray(levels, dtype=float))) / n_channels


def dwell_times(levels: npt.ArrayLike, sample_interval_s: float
                ) -> tuple[FloatArray, FloatArray]:
    """(open dwell times, closed dwell times) in s from idealised levels of a
    one-channel record (level > 0 is open), one sweep per row (or one 1-D record).
    The first and last dwell of each sweep are cut short by its edges and left out."""
    rows = np.atleast_2d(np.asarray(levels))
    opened: list[FloatArray] = []
    closed: list[FloatArray] = []
    for row in rows:
        is_open = row > 0
        change = np.flatnonzero(np.diff(is_open.astype(np.int8))) + 1
        if change.size < 2:
            continue
        lengths = np.diff(change) * sample_interval_s
        states = is_open[change[:-1]]
        opened.append(lengths[states])
        closed.append(lengths[~states])
    empty = np.zeros(0)
    return (np.concatenate(opened) if opened else empty,
            np.concatenate(closed) if closed else empty)


def log_binned_histogram(durations_s: npt.ArrayLike, bins_per_decade: int = 10,
                         shortest_s: float | None = None
                         ) -> tuple[FloatArray, FloatArray]:
    """(bin edges in s, counts) of dwell times on a logarithmic axis, as Sigworth &
    Sine plot them: bins equal in log(t), so each exponential component is a peak
    at its time constant; plot sqrt(counts) on the ordinate for even scatter.
    shortest_s: the first edge (default: the shortest duration)."""
    t = np.asarray(durations_s, dtype=float)
    t = t[t > 0]
    if t.size == 0:
        raise VrigError("no dwell times to histogram")
    low = math.log10(shortest_s if shortest_s else t.min()) - 1e-9
    high = math.log10(t.max()) + 1e-9
    n = max(1, math.ceil((high - low) * bins_per_decade))
    edges = 10.0 ** (low + np.arange(n + 1) / bins_per_decade)
    counts, _ = np.histogram(t, bins=edges)
    return edges, counts.astype(float)


@dataclass(frozen=True)
class DwellFit:
    """Exponential components of a dwell-time distribution: time constants (s),
    their fractions (sum 1), standard errors of the time constants (s), the number of
    dwells fitted and the shortest duration counted (s)."""

    taus_s: tuple[float, ...]
    weights: tuple[float, ...]
    tau_errors_s: tuple[float, ...]
    n: int
    shortest_s: float

    def expected_counts(self, edges_s: npt.ArrayLike) -> FloatArray:
        """The fitted distribution's expected count in each bin (edges in s) of a
        histogram of the n fitted dwells: to draw over log_binned_histogram."""
        edges = np.maximum(np.asarray(edges_s, dtype=float), self.shortest_s)
        survival = sum(w * np.exp(-(edges - self.shortest_s) / tau)
                       for tau, w in zip(self.taus_s, self.weights))
        return self.n * -np.diff(survival)


def fit_dwell_times(durations_s: npt.ArrayLike, components: int = 1,
                    shortest_s: float = 0.0) -> DwellFit:
    """Maximum-likelihood fit of 1 or 2 exponentials to dwell times (s) longer than
    shortest_s (s), the briefest dwell the idealisation resolves: an exponential
    truncated there is the same exponential (memoryless), so one time constant is
    the mean excess over shortest_s, with standard error tau / sqrt(n)."""
    t = np.asarray(durations_s, dtype=float)
    t = t[t >= shortest_s] - shortest_s
    if components not in (1, 2):
        raise VrigError("dwell times are fitted with 1 or 2 exponentials")
    if t.size < 3 * components:
        raise VrigError(f"too few dwell times ({t.size}) to fit {components} exponential(s)")
    if components == 1:
        tau = float(t.mean())
        return DwellFit((tau,), (1.0,), (tau / math.sqrt(t.size),), int(t.size), shortest_s)
    return _fit_two(t, shortest_s)


def _fit_two(t: FloatArray, shortest_s: float) -> DwellFit:
    """Two exponentials by maximum likelihood: for each split of the time constants
    (a profile over the faster one), the weight and slower one from EM steps."""
    order = np.sort(t)

    def fit_given(fast: float) -> tuple[float, float, float]:
        slow, weight = max(order.mean() * 2, fast * 3), 0.5
        for _ in range(200):
            pf = weight / fast * np.exp(-order / fast)
            ps = (1 - weight) / slow * np.exp(-order / slow)
            r = pf / np.maximum(pf + ps, 1e-300)
            weight = float(np.clip(r.mean(), 1e-6, 1 - 1e-6))
            slow = float(np.sum((1 - r) * order) / max(np.sum(1 - r), 1e-300))
        like = np.sum(np.log(np.maximum(weight / fast * np.exp(-order / fast)
                                        + (1 - weight) / slow * np.exp(-order / slow), 1e-300)))
        return float(like), weight, slow

    best = minimize_scalar(lambda lf: -fit_given(math.exp(lf))[0],
                           bounds=(math.log(order[order > 0].min() / 10 if np.any(order > 0)
                                            else 1e-6), math.log(order.mean())),
                           method="bounded")
    fast = math.exp(best.x)
    _, weight, slow = fit_given(fast)
    n = t.size
    errors = (fast / math.sqrt(max(weight * n, 1)), slow / math.sqrt(max((1 - weight) * n, 1)))
    return DwellFit((fast, slow), (weight, 1 - weight), errors, int(n), shortest_s)


@dataclass(frozen=True)
class AmplitudeFit:
    """Gaussians fitted to an amplitude histogram: their means (pA), standard
    deviations (pA) and areas (fraction of the samples), lowest mean first."""

    means_pa: tuple[float, ...]
    sds_pa: tuple[float, ...]
    areas: tuple[float, ...]

    @property
    def unitary_pa(self) -> float:
        """The mean spacing of the fitted levels (pA): the unitary current."""
        if len(self.means_pa) < 2:
            raise VrigError("one Gaussian has no spacing: fit two or more levels")
        return float(np.mean(np.diff(self.means_pa)))


def amplitude_histogram(current_pa: npt.ArrayLike, bin_pa: float = 0.05
                        ) -> tuple[FloatArray, FloatArray]:
    """(bin centres in pA, counts) of all-points amplitudes in bins of bin_pa (pA)."""
    x = np.asarray(current_pa, dtype=float).ravel()
    x = x[np.isfinite(x)]
    if x.size == 0 or bin_pa <= 0:
        raise VrigError("an amplitude histogram needs finite samples and a bin width > 0 pA")
    edges = np.arange(x.min() - bin_pa, x.max() + 2 * bin_pa, bin_pa)
    counts, edges = np.histogram(x, bins=edges)
    return (edges[:-1] + edges[1:]) / 2, counts.astype(float)


def _gaussians(x: FloatArray, *params: float) -> FloatArray:
    total = np.zeros_like(x)
    for mean, sd, height in zip(params[0::3], params[1::3], params[2::3]):
        total += height * np.exp(-0.5 * ((x - mean) / sd) ** 2)
    return total


def fit_amplitudes(current_pa: npt.ArrayLike, levels_pa: npt.ArrayLike,
                   bin_pa: float = 0.05) -> AmplitudeFit:
    """A sum of Gaussians fitted to the all-points amplitude histogram, one per
    current level, starting from levels_pa (pA; e.g. 0 and the expected unitary
    current) and a width of a few bins."""
    centres, counts = amplitude_histogram(current_pa, bin_pa)
    start: list[float] = []
    for level in np.asarray(levels_pa, dtype=float):
        near = np.abs(centres - level) < 2 * bin_pa
        start += [float(level), 2 * bin_pa, float(counts[near].max()) if near.any() else 1.0]
    try:
        params, _ = curve_fit(_gaussians, centres, counts, p0=start, maxfev=20000)
    except (RuntimeError, ValueError) as exc:
        raise VrigError(f"the Gaussian fit to the amplitude histogram failed: {exc}") from None
    means = params[0::3]
    sds = np.abs(params[1::3])
    areas = params[2::3] * sds * math.sqrt(2 * math.pi) / (bin_pa * counts.sum())
    order = np.argsort(means)
    return AmplitudeFit(tuple(means[order]), tuple(sds[order]), tuple(areas[order]))
