"""Ensemble averages and non-stationary noise analysis of repeated sweeps (Sigworth
1980 J Physiol 307:97-129; Heinemann & Conti 1992 Methods Enzymol 207:131-148).

N independent channels of unitary current i, each open with probability p(t), give a
mean current I = N i p and a variance sigma^2 = N i^2 p (1 - p) = i I - I^2 / N over
sweeps, plus the background variance. Fitting that parabola to (I, sigma^2) pairs
along the sweep gives i and N without ever resolving a single opening; the largest
open probability reached is I_peak / (N i).

Units: currents in pA, variances in pA^2; sweeps are rows.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rig.errors import VrigError

FloatArray = npt.NDArray[np.float64]
BOOTSTRAP_RESAMPLES = 200


def ensemble(sweeps_pa: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """(mean, variance) at each sample over the sweeps (rows; pA, pA^2), the variance
    with n - 1 (unbiased). NaN samples (short sweeps) are left out."""
    x = np.asarray(sweeps_pa, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2:
        raise VrigError("an ensemble needs two or more sweeps of samples")
    return np.nanmean(x, axis=0), np.nanvar(x, axis=0, ddof=1)


@dataclass(frozen=True)
class NoiseFit:
    """The variance-mean parabola sigma^2 = background + i I - I^2 / N: unitary
    current i (pA, signed as I), channel count N, background variance (pA^2), the
    largest open probability reached (I at its largest / (N i)), and bootstrap
    standard errors of i, N and p_max (resampling whole sweeps)."""

    unitary_pa: float
    n_channels: float
    background_pa2: float
    p_open_max: float
    unitary_error_pa: float
    n_channels_error: float
    p_open_max_error: float

    def variance(self, mean_pa: npt.ArrayLike) -> FloatArray:
        """The fitted variance (pA^2) at mean currents (pA)."""
        m = np.asarray(mean_pa, dtype=float)
        return self.background_pa2 + self.unitary_pa * m - m ** 2 / self.n_channels


def _parabola(mean: FloatArray, var: FloatArray, background: float | None = None
              ) -> tuple[float, float, float, float]:
    """(i, N, background, p_max) from least squares of var = b + i mean - mean^2 / N,
    with b fitted too unless the background variance is given (pA^2)."""
    if background is None:
        design = np.column_stack((np.ones_like(mean), mean, -mean ** 2))
        (background, unitary, inverse_n), *_ = np.linalg.lstsq(design, var, rcond=None)
    else:
        design = np.column_stack((mean, -mean ** 2))
        (unitary, inverse_n), *_ = np.linalg.lstsq(design, var - background, rcond=None)
    if inverse_n <= 0:
        raise VrigError("the variance does not fall again at large mean currents, so N "
                        "cannot be found: record further into the response (p near 1) or "
                        "more sweeps")
    n = 1.0 / inverse_n
    peak = mean[np.argmax(np.abs(mean))]
    return float(unitary), float(n), float(background), float(peak / (n * unitary))


def fit_noise(sweeps_pa: npt.ArrayLike, window: slice = slice(None),
              baseline: slice | None = None, seed: int = 0) -> NoiseFit:
    """Fit the variance-mean parabola over the samples in window of the sweeps (rows,
    pA), e.g. the test pulse without its capacitive sample. baseline: samples with
    every channel closed (before the pulse), whose mean variance is the background
    (pA^2) subtracted; without one the background is fitted as a third parameter,
    which costs precision. Errors: the standard deviation of the fitted values over
    BOOTSTRAP_RESAMPLES resamplings of whole sweeps (seeded, so reproducible)."""
    every = np.asarray(sweeps_pa, dtype=float)
    x = every[:, window]
    mean, var = ensemble(x)
    keep = np.isfinite(mean) & np.isfinite(var)
    if keep.sum() < 3:
        raise VrigError("the noise analysis needs at least 3 samples in its window")

    def background_of(rows: FloatArray) -> float | None:
        if baseline is None:
            return None
        return float(np.nanmean(ensemble(rows[:, baseline])[1]))

    unitary, n, background, p_max = _parabola(mean[keep], var[keep], background_of(every))
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        rows = rng.integers(0, x.shape[0], x.shape[0])
        m, v = ensemble(x[rows])
        ok = np.isfinite(m) & np.isfinite(v)
        try:
            draws.append(_parabola(m[ok], v[ok], background_of(every[rows])))
        except VrigError:
            continue
    if len(draws) < BOOTSTRAP_RESAMPLES // 2:
        raise VrigError("the noise analysis is unstable in resampling: record more sweeps")
    spread = np.std(np.array(draws), axis=0, ddof=1)
    return NoiseFit(unitary, n, background, p_max, float(spread[0]), float(spread[1]),
                    float(spread[3]))
