"""The membrane (seal) test, as in Clampex: a repeating small voltage step, from whose
current the total, access and membrane resistance and the capacitance are computed.

For a cell seen through its access resistance Ra the current after a step dV is
I(t) = dI_ss + (dI_0 - dI_ss) exp(-t/tau), with dI_0 = dV/Ra, dI_ss = dV/(Ra + Rm) and
tau = Ra Rm Cm / (Ra + Rm). Fitting the decay and extrapolating it to the step's onset
gives dI_0, so Ra = dV/dI_0, Rt = dV/dI_ss, Rm = Rt - Ra and Cm = tau (Ra + Rm)/(Ra Rm).
"""

import typing
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from rig import units
from rig.amplifier.circuit import Amplifier, filter_delay_s
from rig.analysis.fits import checked_curve_fit
from rig.clamp import Mode
from rig.errors import VrigError
from rig.files.layout import FloatArray

DEFAULT_STEP_V = 0.010
DEFAULT_HALF_PERIOD_S = 0.010
DEFAULT_SAMPLE_INTERVAL_S = 5e-6


class ClampedRig(typing.Protocol):
    """What the membrane test uses of a rig (rig.simulation's Rig sits above this
    package, so it is not imported): holding levels by mode (V in VC, A in CC)."""

    amplifier: Amplifier

    @property
    def holding(self) -> Mapping[Mode, float]: ...  # read only here

    def set_mode(self, mode: str) -> None: ...
    def set_holding(self, value: float) -> None: ...
    def settle(self) -> None: ...
    def advance(self, command_si: FloatArray,
                sample_interval_s: float) -> Mapping[str, FloatArray]: ...


@dataclass(frozen=True)
class MembraneTestResult:
    """Membrane-test readouts (SI): resistances in ohm, capacitance in F, holding
    current in A, time constant in s."""

    total_resistance: float
    access_resistance: float
    membrane_resistance: float
    capacitance: float
    holding_current: float
    time_constant: float

    def lines(self) -> list[str]:
        """'name: value unit' lines in ephys units, as `vrig membrane-test` prints them."""
        return [f"total_resistance: {units.ohm_to_mohm(self.total_resistance):.4g} MOhm",
                f"access_resistance: {units.ohm_to_mohm(self.access_resistance):.4g} MOhm",
                f"membrane_resistance: {units.ohm_to_mohm(self.membrane_resistance):.4g} MOhm",
                f"capacitance: {units.f_to_pf(self.capacitance):.4g} pF",
                f"holding_current: {units.a_to_pa(self.holding_current):.4g} pA",
                f"time_constant: {units.s_to_us(self.time_constant):.4g} us"]


def square_wave(holding_v: float, step_v: float, half_period_s: float,
                sample_interval_s: float, cycles: int = 1) -> FloatArray:
    """The membrane-test command (V): holding, then holding + step, per cycle."""
    n = int(round(half_period_s / sample_interval_s))
    one = np.concatenate([np.full(n, holding_v), np.full(n, holding_v + step_v)])
    return np.tile(one, cycles)


def analyse_step(time_s: FloatArray, current_a: FloatArray, step_v: float, onset_index: int,
                 end_index: int, delay_s: float = 0.0) -> MembraneTestResult:
    """Fit one step's current (A) and return a MembraneTestResult.

    onset_index: the sample at which the command steps; end_index: one past the step's
    last sample. Each current sample is the mean over the interval ending at it, so
    the step's response starts at onset_index + 1. delay_s: the recording filter's
    group delay; the fitted decay is extrapolated to the onset as the filter delayed
    it. The baseline is the last fifth before the step; the steady state the last fifth
    of the step; the fit starts two samples after the current's peak and after twice
    the filter delay.
    """
    if onset_index < 5 or end_index - onset_index < 20:
        raise VrigError("membrane test: the step is too short to analyse")
    n = end_index - onset_index - 1
    baseline = current_a[onset_index + 1 - max(1, onset_index // 5): onset_index + 1].mean()
    response = current_a[onset_index + 1:end_index] - baseline
    steady = response[-max(1, n // 5):].mean()
    peak = int(np.argmax(np.abs(response[: n // 2])))
    dt = time_s[1] - time_s[0]
    first = max(peak + 2, int(np.ceil(2 * delay_s / dt)))
    t = time_s[onset_index + 1:end_index] - time_s[onset_index] - dt / 2 - delay_s
    fit_t, fit_i = t[first: n - n // 5], response[first: n - n // 5]
    guess_tau = max(t[first] * 2, (t[-1] - t[0]) / 20)
    (amplitude, tau), _ = checked_curve_fit(
        lambda x, a, tau: steady + a * np.exp(-x / tau), fit_t, fit_i,
        np.array([response[first] - steady, guess_tau]),
        "membrane test: the fit of the current transient (is the cell in whole-cell, "
        "the step not clipped?)")
    initial = steady + amplitude
    if not (step_v * steady > 0 and step_v * initial > 0 and tau > 0):
        raise VrigError("membrane test: no charging transient found (open circuit or "
                        "the clamp is saturated)")
    access = step_v / initial
    total = step_v / steady
    membrane = total - access
    capacitance = tau * (access + membrane) / (access * membrane) if membrane > 0 else float("nan")
    return MembraneTestResult(total, access, membrane, capacitance, baseline, tau)


def run_membrane_test(rig: ClampedRig, holding_v: float | None = None,
                      step_v: float = DEFAULT_STEP_V, half_period_s: float = DEFAULT_HALF_PERIOD_S,
                      sample_interval_s: float = DEFAULT_SAMPLE_INTERVAL_S,
                      cycles: int = 3) -> MembraneTestResult:
    """Run the test on a Rig in VC and analyse its last cycle."""
    rig.set_mode("VC")
    if holding_v is not None:
        rig.set_holding(holding_v)
    rig.settle()
    command = square_wave(rig.holding[Mode.VC], step_v, half_period_s, sample_interval_s, cycles)
    current = rig.advance(command, sample_interval_s)["Im"]
    n = command.size // cycles
    start = command.size - n
    t = np.arange(n) * sample_interval_s
    return analyse_step(t, current[start:], step_v, n // 2, n,
                        filter_delay_s(rig.amplifier, sample_interval_s))


def clamp_time_constant(vmem: ArrayLike, onset: int, dt: float) -> float:
    """Time (s) the membrane potential vmem (V) takes after sample `onset` (where the
    command steps; sample onset + k is the potential k dt later) to cover 1 - 1/e of
    its step (linear interpolation between samples); NaN if it never does."""
    v = np.asarray(vmem, dtype=float)
    start = v[onset]
    rise = v[onset:] - start
    final = np.mean(rise[-max(1, rise.size // 5):])
    if not np.isfinite(final) or final == 0:
        return float("nan")
    frac = rise / final
    above = np.nonzero(frac >= 1 - np.exp(-1))[0]
    if above.size == 0:
        return float("nan")
    k = int(above[0])  # >= 1: frac[0] is 0
    before = frac[k - 1]
    part = (1 - np.exp(-1) - before) / (frac[k] - before) if frac[k] != before else 1.0
    return float((k - 1 + part) * dt)
