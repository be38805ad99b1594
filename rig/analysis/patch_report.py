"""The single-channel analysis of a patch's sweeps in one call, for the window's
Single channels view: the test pulse found from the command, the unitary current from
an amplitude histogram (two Gaussians, started at the expected level), idealisation,
open probability, dwell times with exponential fits, the ensemble average beside the
macroscopic current expected from the channels' scheme, and the variance-mean fit.

Units: pA, mV, s (the file units), as :mod:`rig.analysis.single_channel` and
:mod:`rig.analysis.noise`.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.linalg import expm

from rig.analysis.noise import NoiseFit, ensemble, fit_noise
from rig.analysis.single_channel import (
    AmplitudeFit,
    DwellFit,
    dwell_times,
    fit_amplitudes,
    fit_dwell_times,
    idealise,
    open_probability,
)
from rig.errors import VrigError
from rig.model.markov import Scheme

FloatArray = npt.NDArray[np.float64]
SETTLE_SAMPLES = 2  # samples after the step left out: the capacitive current


def macroscopic_current(scheme: Scheme, n_channels: int, gamma_ps: float, e_rev_mv: float,
                        v_mv: npt.ArrayLike, interval_ms: float, phi: float = 1.0,
                        sign: float = 1.0) -> FloatArray:
    """The expected current (pA) of n_channels channels of scheme through a membrane
    potential trace v_mv (mV, one value per sample of interval_ms): occupancies from
    steady state at v_mv[0], stepped exactly (p <- p expm(Q dt)) with the voltage of
    each sample, i = gamma (V - E) per open channel; sign: the reading's sign (-1 when
    inward currents read upward)."""
    v = np.asarray(v_mv, dtype=float)
    if v.size == 0:
        return np.zeros(0)
    p = scheme.stationary(float(v[0]))
    open_vector = scheme.open_vector()
    steps: dict[float, FloatArray] = {}
    out = np.empty(v.size)
    for k, vk in enumerate(v):
        out[k] = n_channels * gamma_ps * 1e-3 * (vk - e_rev_mv) * float(p @ open_vector)
        key = round(float(vk), 6)
        if key not in steps:
            steps[key] = expm(scheme.generator(key, phi) * interval_ms)
        p = p @ steps[key]
    return sign * out


def test_window(command: npt.ArrayLike) -> tuple[slice, slice]:
    """(the test pulse, the baseline before it) as sample slices of a command (any
    unit): the longest stretch away from the first level, less SETTLE_SAMPLES."""
    c = np.asarray(command, dtype=float)
    away = np.abs(c - c[0]) > 1e-12 * max(1.0, float(np.max(np.abs(c))))
    if not away.any():
        raise VrigError("the command never leaves its first level: no test pulse to analyse")
    edges = np.flatnonzero(np.diff(np.r_[0, away.astype(np.int8), 0]))
    starts, ends = edges[0::2], edges[1::2]
    longest = int(np.argmax(ends - starts))
    start, end = int(starts[longest]), int(ends[longest])
    if end - start <= SETTLE_SAMPLES + 3:
        raise VrigError("the test pulse is too short to analyse (a few samples)")
    return slice(start + SETTLE_SAMPLES, end), slice(0, start)


@dataclass(frozen=True)
class PatchReport:
    """What the Single channels view shows: the window (samples) analysed, the
    unitary current used (pA) and its amplitude fit (None if it failed), the levels
    (open channels per sample, sweeps x window), the open probability (NPo/N), open
    and closed dwell times (s) with one-exponential fits (None with too few), the
    ensemble mean and variance (pA, pA^2, whole sweeps), the expected macroscopic
    current (pA, or None) and the variance-mean fit (None with its reason in notes)."""

    window: slice
    unitary_pa: float
    amplitude_fit: AmplitudeFit | None
    levels: npt.NDArray[np.int64]
    p_open: float
    open_s: FloatArray
    closed_s: FloatArray
    open_fit: DwellFit | None
    closed_fit: DwellFit | None
    mean_pa: FloatArray
    variance_pa2: FloatArray
    macroscopic_pa: FloatArray | None
    noise: NoiseFit | None
    notes: tuple[str, ...]


def analyse_patch(sweeps_pa: npt.ArrayLike, command: npt.ArrayLike, interval_s: float,
                  n_channels: int, expected_unitary_pa: float,
                  macroscopic_pa: FloatArray | None = None) -> PatchReport:
    """Analyse sweeps (rows, pA, NaN where not recorded) of a patch of n_channels with
    one sweep's command (any unit; finds the test pulse) and the unitary current
    expected at the pulse (pA, as read)."""
    x = np.asarray(sweeps_pa, dtype=float)
    x = x[np.all(np.isfinite(x), axis=1)] if x.ndim == 2 else x
    if x.ndim != 2 or x.shape[0] < 2:
        raise VrigError("the single-channel analysis needs two or more complete sweeps")
    window, baseline = test_window(command)
    pulse = x[:, window]
    notes = []
    unitary = float(expected_unitary_pa)
    amplitude = None
    spread = max(abs(unitary) / 20, 0.01)
    try:
        amplitude = fit_amplitudes(pulse, [0.0, unitary], bin_pa=spread)
        fitted = abs(amplitude.unitary_pa)  # the spacing of the levels, unsigned
        if abs(fitted - abs(unitary)) < 0.5 * abs(unitary):
            unitary = float(np.copysign(abs(fitted), unitary))
        else:
            notes.append(f"the amplitude fit (levels {fitted:.2f} pA apart) is far from "
                         f"the expected {expected_unitary_pa:.2f} pA: that is used")
    except VrigError as exc:
        notes.append(str(exc))
    levels = idealise(pulse, unitary, 0.0, n_channels)
    p_open = open_probability(levels, n_channels)
    open_s, closed_s = dwell_times(levels, interval_s)
    fits: list[DwellFit | None] = []
    for name, times in (("open", open_s), ("closed", closed_s)):
        try:
            fits.append(fit_dwell_times(times, 1, shortest_s=interval_s))
        except VrigError as exc:
            fits.append(None)
            notes.append(f"{name} times: {exc}")
    if n_channels > 1:
        notes.append(f"{n_channels} channels: dwell times are of the patch's levels "
                     "(any open / none open), single-channel dwells only with 1 channel")
    mean, variance = ensemble(x)
    noise = None
    try:
        noise = fit_noise(x, window, baseline if baseline.stop > 2 else None)
    except VrigError as exc:
        notes.append(f"variance-mean: {exc}")
    return PatchReport(window, unitary, amplitude, levels, p_open, open_s, closed_s,
                       fits[0], fits[1], mean, variance, macroscopic_pa, noise, tuple(notes))
