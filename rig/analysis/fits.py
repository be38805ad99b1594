"""Curve fits for online analysis: Boltzmann (activation, inactivation) and a single
exponential with an offset (activation, deactivation, inactivation time constants).

SI at the boundary: voltages in V, times in s, the fitted quantity in its own unit
(A, S, or dimensionless when normalised). Internally the fits run in mV and in units of
the guessed time constant, so that the optimiser sees numbers near 1.
"""

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.special import expit

from rig import units
from rig.errors import VrigError
from rig.files.layout import FloatArray

MIN_SLOPE_MV = 0.05  # |k| below this is a step, not a Boltzmann


@dataclass(frozen=True)
class BoltzmannFit:
    """y = amplitude / (1 + exp(-(V - v_half) / slope)).

    v_half: V; slope: V (positive for activation, negative for inactivation);
    amplitude: the unit of y; rms_residual: the unit of y.
    """

    v_half: float
    slope: float
    amplitude: float
    rms_residual: float

    def __call__(self, v: ArrayLike) -> FloatArray:
        """The fitted curve at voltages v (V)."""
        return boltzmann(v, self.v_half, self.slope, self.amplitude)


@dataclass(frozen=True)
class ExponentialFit:
    """y = amplitude * exp(-(t - t_start) / tau) + offset.

    tau: s; amplitude, offset: the unit of y; t_start: s (first time in the fit);
    rms_residual: the unit of y.
    """

    tau: float
    amplitude: float
    offset: float
    t_start: float
    rms_residual: float

    def __call__(self, t: ArrayLike) -> FloatArray:
        """The fitted curve at times t (s)."""
        return self.amplitude * np.exp(-(np.asarray(t) - self.t_start) / self.tau) + self.offset


def boltzmann(v: ArrayLike, v_half: float, slope: float, amplitude: float = 1.0) -> FloatArray:
    """amplitude / (1 + exp(-(v - v_half) / slope)); v, v_half, slope in the same unit (V)."""
    return amplitude * expit((np.asarray(v, dtype=float) - v_half) / slope)


def _finite_pairs(x: ArrayLike, y: ArrayLike, n_params: int,
                  what: str) -> tuple[FloatArray, FloatArray]:
    xx = np.asarray(x, dtype=float).ravel()
    yy = np.asarray(y, dtype=float).ravel()
    if xx.shape != yy.shape:
        raise VrigError(f"{what}: x and y must have the same length, got {xx.size} and {yy.size}")
    keep = np.isfinite(xx) & np.isfinite(yy)
    xx = xx[keep]
    yy = yy[keep]
    if xx.size < n_params + 1:
        raise VrigError(f"{what} needs at least {n_params + 1} finite points for "
                        f"{n_params} parameters, got {xx.size}")
    order = np.argsort(xx)
    return xx[order], yy[order]


def checked_curve_fit(model: Callable[..., FloatArray], x: FloatArray, y: FloatArray,
                      guess: FloatArray, what: str,
                      bounds: tuple[ArrayLike, ArrayLike] = (-np.inf, np.inf)
                      ) -> tuple[FloatArray, float]:
    """scipy's curve_fit, with its failures (including a covariance it cannot
    estimate) turned into a VrigError that says why; returns (parameters, rms)."""
    guess = np.clip(guess, bounds[0], bounds[1])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", OptimizeWarning)
            params, _ = curve_fit(model, x, y, p0=guess, bounds=bounds, maxfev=20_000)
    except (RuntimeError, ValueError, OptimizeWarning) as exc:
        raise VrigError(f"{what} failed: {exc}") from None
    rms = float(np.sqrt(np.mean((model(x, *params) - y) ** 2)))
    if not np.all(np.isfinite(params)) or not np.isfinite(rms):
        raise VrigError(f"{what} failed: the parameters are not finite")
    return params, rms


def _half_crossing(x: FloatArray, y_norm: FloatArray) -> float:
    """x (sorted) where y_norm first crosses 0.5, by linear interpolation; else the median."""
    above = y_norm >= 0.5
    k = np.nonzero(above[1:] != above[:-1])[0]
    if k.size == 0:
        return float(np.median(x))
    k = k[0]
    dy = y_norm[k + 1] - y_norm[k]
    return float(x[k] + (0.5 - y_norm[k]) * (x[k + 1] - x[k]) / dy)


def fit_boltzmann(v: ArrayLike, y: ArrayLike, amplitude: float | None = None,
                  slope_sign: float | None = None) -> BoltzmannFit:
    """Fit y = A / (1 + exp(-(V - V1/2) / k)) by least squares.

    v: voltages (V); y: the measured quantity (conductance in S, current in A, or a
    normalised fraction). amplitude: fix A (e.g. 1.0 for normalised data) or None to
    fit it. slope_sign: +1 for activation (y rises with V), -1 for inactivation (y
    falls with V), or None to take it from the data. Non-finite points are dropped.

    Returns a :class:`BoltzmannFit` with v_half and slope in V. Raises VrigError when
    there are too few points or the fit does not converge.
    """
    n_params = 2 if amplitude is not None else 3
    x, y = _finite_pairs(units.v_to_mv(np.asarray(v, dtype=float)), y, n_params, "Boltzmann fit")
    a_guess = float(amplitude) if amplitude is not None else float(y[np.argmax(np.abs(y))])
    if a_guess == 0:
        raise VrigError("Boltzmann fit failed: the data are all zero")
    y_norm = y / a_guess
    if slope_sign is None:
        slope_sign = 1.0 if np.polyfit(x, y_norm, 1)[0] >= 0 else -1.0
    sign = 1.0 if slope_sign > 0 else -1.0
    span = max(float(x[-1] - x[0]), 1.0)
    v_lo, v_hi = x[0] - span, x[-1] + span
    k_lo, k_hi = sorted((sign * MIN_SLOPE_MV, sign * 10.0 * span))
    guess = [_half_crossing(x, y_norm), sign * max(span / 15.0, 2 * MIN_SLOPE_MV)]
    lower, upper = [v_lo, k_lo], [v_hi, k_hi]
    model: Callable[..., FloatArray] = boltzmann  # the amplitude fitted, as the 4th argument
    if amplitude is None:  # fitted as a multiple of a_guess, so it is near 1
        guess.append(1.0)
        lower.append(0.0)
        upper.append(np.inf)
    else:
        def model(xv: FloatArray, v_half: float, k: float) -> FloatArray:
            return boltzmann(xv, v_half, k)

    params, rms = checked_curve_fit(model, x, y_norm, np.array(guess), "Boltzmann fit",
                                    (lower, upper))
    a = params[2] * a_guess if amplitude is None else a_guess
    return BoltzmannFit(v_half=float(units.mv_to_v(params[0])),
                        slope=float(units.mv_to_v(params[1])), amplitude=float(a),
                        rms_residual=rms * abs(a_guess))


def fit_exponential(t: ArrayLike, y: ArrayLike, t0: float | None = None,
                    t1: float | None = None) -> ExponentialFit:
    """Fit y = A exp(-(t - t_start) / tau) + C, a single exponential with an offset.

    t: times (s); y: the signal (any unit: A, V, S); t0, t1: optional window (s) to fit
    within, inclusive. t_start is the first time fitted, so A is the fitted value's
    distance from C there. Works for decays and for rises (A < 0).

    Returns an :class:`ExponentialFit` with tau in s. Raises VrigError when there are
    too few points or the fit does not converge.
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if t.shape != y.shape:
        raise VrigError(f"exponential fit: t and y must have the same length, "
                        f"got {t.size} and {y.size}")
    keep = np.ones(t.shape, dtype=bool)
    if t0 is not None:
        keep &= t >= t0
    if t1 is not None:
        keep &= t <= t1
    x, y = _finite_pairs(t[keep], y[keep], 3, "exponential fit")
    t_start = float(x[0])
    span = float(x[-1] - t_start)
    if span <= 0:
        raise VrigError("exponential fit needs points at more than one time")
    tail = max(1, y.size // 10)
    c_guess = float(np.mean(y[-tail:]))
    a_guess = float(y[0] - c_guess)
    below = np.nonzero(np.abs(y - c_guess) < abs(a_guess) / np.e)[0]
    tau_guess = float(x[below[0]] - t_start) if below.size and below[0] > 0 else span / 3
    tau_guess = max(tau_guess, span / 1000)
    scale_y = max(float(np.max(np.abs(y))), np.finfo(float).tiny)
    xs = (x - t_start) / tau_guess

    def model(xv: FloatArray, a: float, tau: float, c: float) -> FloatArray:
        return a * np.exp(-xv / tau) + c

    bounds = ([-np.inf, 1e-4 * span / tau_guess, -np.inf], [np.inf, 1e3 * span / tau_guess, np.inf])
    params, rms = checked_curve_fit(model, xs, y / scale_y,
                                    np.array([a_guess / scale_y, 1.0, c_guess / scale_y]),
                                    "exponential fit", bounds)
    return ExponentialFit(tau=float(params[1] * tau_guess), amplitude=float(params[0] * scale_y),
                          offset=float(params[2] * scale_y), t_start=t_start,
                          rms_residual=rms * scale_y)
