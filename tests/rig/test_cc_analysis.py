"""Current-clamp analysis of the shipped protocols on hh-squid, against an independent
LSODA integration of Hodgkin & Huxley (1952) (rates from test_hh_published) whose spike
measures come from its dense output and the exact dV/dt of the equations, found by
root finding rather than from samples.

The engine's sample k holds the state k x 20 us after the sweep start, where the
analysis labels it (the recording's time axis), so reference times are compared as
they are. (Until the kernel recorded each sample at its own time, sample k held the
state 20 us later and the test compared the reference one sample later.)

Figures measured (hh-squid, 6.3 degC): a 1 ms pulse first fires at 70 pA (60 pA does
not; LSODA bisects 69.2 pA); at 70 pA the threshold (20 mV/ms) is -48.56 mV at 4.527 ms
after the onset (4.507 ms before, one sample early), the peak +34.88 mV, the width at
half height 1.193 ms, the AHP -76.17 mV. 200 ms steps fire once from 30 pA and keep
firing from 70 pA; paired 300 pA pulses fail at 3 and 6 ms and recover to 91 % at 9 ms.
"""

import math

import numpy as np
import pytest
from helpers import SAMPLE_MS, spike_count
from scipy.integrate import solve_ivp
from scipy.optimize import brentq
from test_hh_published import HH_RATES, reference_parameters, reference_rest

import rig
from rig.analysis.current_clamp import family_kind
from rig.analysis.report import AnalysisSettings, analyze
from rig.analysis.sweep_family import SweepFamily

PA_PER_UA_CM2 = 10.0  # the 1000 um^2 patch


@pytest.fixture(scope="module")
def squid():
    return rig.Rig.from_presets("hh-squid")


def run(squid, name):
    return squid.run(rig.load_protocol(name))


def analysed(recording, **settings):
    return analyze(SweepFamily.from_recording(recording), AnalysisSettings(**settings))


class Reference:
    """The published model integrated by LSODA from rest, with dense output (ms, mV)."""

    def __init__(self, stimulus_pa, t_end_ms):
        self.p = reference_parameters()
        self.stimulus = stimulus_pa
        v0 = reference_rest(self.p)
        y0 = [v0] + [a(v0) / (a(v0) + b(v0)) for a, b in HH_RATES.values()]
        self.sol = solve_ivp(self.rhs, (0.0, t_end_ms), y0, method="LSODA", rtol=1e-10,
                             atol=1e-12, max_step=0.005, dense_output=True)
        assert self.sol.success

    def rhs(self, t, y):
        v, m, h, n = y
        p = self.p
        i_ion = (120 * m ** 3 * h * (v - p["E_Na"]) + 36 * n ** 4 * (v - p["E_K"])
                 + p["g_L"] * (v - p["E_L"]))
        (am, bm), (ah, bh), (an, bn) = ((f(v), g(v)) for f, g in HH_RATES.values())
        return [self.stimulus(t) / PA_PER_UA_CM2 - i_ion, am * (1 - m) - bm * m,
                ah * (1 - h) - bh * h, an * (1 - n) - bn * n]

    def v(self, t):
        return float(self.sol.sol(t)[0])

    def dvdt(self, t):
        return self.rhs(t, self.sol.sol(t))[0]

    def spike(self, after_ms, criterion=20.0):
        """(threshold t, threshold V, peak t, peak V, half width, AHP V) of the first
        spike after after_ms, from roots of the exact dV/dt and of V."""
        grid = np.arange(after_ms, self.sol.t[-1], 0.001)
        slope = np.array([self.dvdt(t) for t in grid])
        steep = int(np.argmax(slope))
        rising = np.nonzero((slope[:steep] < criterion) & (slope[1:steep + 1] >= criterion))[0][-1]
        t_thr = brentq(lambda t: self.dvdt(t) - criterion, grid[rising], grid[rising + 1],
                       xtol=1e-12)
        top = steep + int(np.argmax(slope[steep:] < 0))
        t_peak = brentq(self.dvdt, grid[top - 1], grid[top], xtol=1e-12)
        bottom = top + int(np.argmax(slope[top:] > 0))
        t_ahp = brentq(self.dvdt, grid[bottom - 1], grid[bottom], xtol=1e-12)
        v_thr, v_peak = self.v(t_thr), self.v(t_peak)
        level = (v_thr + v_peak) / 2
        up = brentq(lambda t: self.v(t) - level, t_thr, t_peak, xtol=1e-12)
        down = brentq(lambda t: self.v(t) - level, t_peak, t_ahp, xtol=1e-12)
        return t_thr, v_thr, t_peak, v_peak, down - up, self.v(t_ahp)


def pulses(*pieces):
    """A stimulus (pA) of (start ms, end ms, level pA) pieces."""
    return lambda t: sum(level for start, end, level in pieces if start <= t < end)


# --- cc-threshold: the first sweep that fires and its spike ---------------------------

def test_threshold_family_first_firing_sweep_and_its_spike(squid):
    result = analysed(run(squid, "cc-threshold"))
    assert result.kind == "threshold"
    assert result.fact("first_firing_sweep") == 6
    assert result.fact("rheobase") == pytest.approx(70.0)
    assert result.fact("last_silent") == pytest.approx(60.0)
    assert [r["spikes"] for r in result.rows] == [0] * 5 + [1] * 7
    silent = Reference(pulses((5.0, 6.0, 60.0)), 31.0)
    assert max(silent.sol.y[0]) < -20.0  # the reference does not fire at 60 pA either
    ref = Reference(pulses((5.0, 6.0, 70.0)), 31.0)
    t_thr, v_thr, _t_peak, v_peak, width, ahp = ref.spike(5.0)
    row = result.rows[5]
    assert row["stimulus_pA"] == 70.0
    print(f"70 pA: threshold {row['threshold_mV']:.3f} mV (reference {v_thr:.3f}), latency "
          f"{row['latency_ms']:.4f} ms (reference {t_thr - 5.0:.4f}), peak "
          f"{row['peak_mV']:.3f} ({v_peak:.3f}), width {row['half_width_ms']:.4f} ms "
          f"({width:.4f}), AHP {row['ahp_mV']:.3f} ({ahp:.3f})")
    # Measured: 1.3 us, 5 uV, 8 uV, 0.2 us and < 1 uV apart. Near threshold the spike's
    # timing amplifies any difference (the latency is 4.5 ms against 1.2 ms at 130 pA),
    # and the engine steps 10 us at first order and samples 20 us: allow 5 us, 0.05 mV.
    assert row["latency_ms"] == pytest.approx(t_thr - 5.0, abs=0.005)
    assert row["threshold_mV"] == pytest.approx(v_thr, abs=0.05)
    assert row["peak_mV"] == pytest.approx(v_peak, abs=0.05)
    assert row["height_mV"] == pytest.approx(v_peak - v_thr, abs=0.05)
    assert row["half_width_ms"] == pytest.approx(width, abs=0.002)
    assert row["ahp_mV"] == pytest.approx(ahp, abs=0.02)
    assert result.fact("first_spike_latency") == pytest.approx(row["latency_ms"])


def test_strong_pulse_spike_against_the_reference(squid):
    """130 pA, far from threshold, where the timing is not sensitive."""
    row = analysed(run(squid, "cc-threshold")).rows[11]
    ref = Reference(pulses((5.0, 6.0, 130.0)), 31.0)
    t_thr, v_thr, _t_peak, v_peak, width, _ahp = ref.spike(5.0)
    print(f"130 pA: threshold {row['threshold_mV']:.3f} mV (reference {v_thr:.3f}), latency "
          f"{row['latency_ms']:.4f} ms (reference {t_thr - 5.0:.4f})")
    assert row["latency_ms"] == pytest.approx(t_thr - 5.0, abs=0.005)
    assert row["threshold_mV"] == pytest.approx(v_thr, abs=0.05)
    assert row["peak_mV"] == pytest.approx(v_peak, abs=0.05)
    assert row["half_width_ms"] == pytest.approx(width, abs=0.002)


def test_threshold_criterion_changes_only_the_threshold(squid):
    recording = run(squid, "cc-threshold")
    loose = analysed(recording).rows[8]
    strict = analysed(recording, criteria=rig.analysis.spikes.SpikeCriteria(dvdt=50.0)).rows[8]
    ref = Reference(pulses((5.0, 6.0, 100.0)), 31.0)
    assert strict["threshold_mV"] == pytest.approx(ref.spike(5.0, criterion=50.0)[1], abs=0.05)
    assert strict["threshold_mV"] > loose["threshold_mV"]
    assert strict["peak_mV"] == loose["peak_mV"]


# --- cc-step-family: the f-I curve ------------------------------------------------------

def test_step_family_f_i_curve(squid):
    recording = run(squid, "cc-step-family")
    result = analysed(recording)
    assert result.kind == "f-I"
    # the rate counts the spikes that start (threshold) within the 200 ms step; checked
    # by a plain count of 0 mV crossings, which come 0.3-0.6 ms after the threshold
    for row in result.rows:
        v = recording.sweep("Vm", row["sweep"] - 1) * 1e3
        in_step = v[500: 10500 + int(0.6 / SAMPLE_MS)]  # 10 ms to 210.6 ms
        assert row["spikes"] == spike_count(v)
        assert row["rate_Hz"] == pytest.approx(spike_count(in_step) / 0.2)
        if row["spikes"] >= 2:
            assert row["inst_rate_Hz"] == pytest.approx(1e3 / row["first_isi_ms"])
    # once from 30 pA (the reference fires at 30 and not at 20 pA), sustained from 70 pA:
    # HH's onset of repetitive firing is 6.26 uA/cm^2 = 62.6 pA, between 60 and 70
    assert result.fact("rheobase") == pytest.approx(30.0)
    assert result.fact("last_silent") == pytest.approx(20.0)
    for level, fires in ((20.0, False), (30.0, True)):
        assert (max(Reference(pulses((10.0, 210.0, level)), 60.0).sol.y[0]) > 0) == fires
    assert result.fact("sustained_firing_from") == pytest.approx(70.0)
    assert result.fact("max_rate") == pytest.approx(max(r["rate_Hz"] for r in result.rows))
    first, second = result.plots
    assert (first.x_unit, first.y_unit, second.y_unit) == ("A", "Hz", "s")
    np.testing.assert_allclose(first.series[0].x, np.arange(0.0, 151.0, 10.0) * 1e-12)


# --- cc-paired-pulse: refractory periods -------------------------------------------------

def test_paired_pulse_recovery_and_refractory_periods(squid):
    result = analysed(run(squid, "cc-paired-pulse"))
    assert result.kind == "paired"
    np.testing.assert_allclose([r["interval_ms"] for r in result.rows], np.arange(3.0, 31.0, 3.0))
    assert result.fact("absolute_refractory") == pytest.approx(6.0)
    assert result.fact("relative_refractory") == pytest.approx(9.0)
    assert result.fact("interval_step") == pytest.approx(3.0)
    baseline = reference_rest(reference_parameters())
    for interval, fires in ((6.0, False), (9.0, True), (12.0, True)):
        ref = Reference(pulses((5.0, 6.0, 300.0), (5.0 + interval, 6.0 + interval, 300.0)),
                        40.0)
        second = ref.sol.sol(np.arange(5.0 + interval, 40.0, 0.001))[0]
        assert (second.max() > -20.0) == fires
        row = result.rows[int(interval / 3) - 1]
        if fires:
            first = ref.sol.sol(np.arange(5.0, 5.0 + interval, 0.001))[0].max()
            ratio = (second.max() - baseline) / (first - baseline)
            assert row["ratio"] == pytest.approx(ratio, abs=0.002)
        else:
            assert row["ratio"] == 0.0 and math.isnan(row.get("peak2_mV", math.nan))
    assert result.rows[2]["ratio"] < 0.95 <= result.rows[3]["ratio"]
    recovery = result.plots[0]
    assert recovery.y_unit == "" and recovery.x_unit == "s"
    assert [text for _, text in recovery.markers] == ["absolute", "relative"]


def test_recovery_criterion_is_a_parameter(squid):
    result = analysed(run(squid, "cc-paired-pulse"), recovery_fraction=0.99)
    assert result.fact("relative_refractory") == pytest.approx(12.0)  # 98.7 % at 12 ms


# --- cc-ramp and cc-anode-break ----------------------------------------------------------

def test_ramp_current_at_the_first_spike(squid):
    result = analysed(run(squid, "cc-ramp"))
    assert result.kind == "ramp"
    assert [r["spikes"] > 0 for r in result.rows] == [True] * 4 + [False] * 2
    assert result.fact("slowest_firing_slope") == pytest.approx(150.0 / 80.0, rel=2e-3)
    currents = [r["current_at_spike_pA"] for r in result.rows[:4]]
    assert np.all(np.diff(currents) > 0)  # accommodation: slower ramps need more current
    # the 20 ms ramp (7.5 pA/ms from 5 ms): the injected current at the reference's threshold
    ref = Reference(lambda t: 7.5 * (t - 5.0) if 5.0 <= t < 25.0 else 0.0, 40.0)
    t_thr = ref.spike(5.0)[0]
    assert currents[0] == pytest.approx(7.5 * (t_thr - 5.0), abs=0.5)


def test_anode_break_fires_after_the_strong_steps(squid):
    result = analysed(run(squid, "cc-anode-break"))
    assert result.kind == "threshold"
    assert result.fact("break_threshold") == pytest.approx(-40.0)
    assert result.fact("last_silent") == pytest.approx(-25.0)
    assert result.rows[2]["latency_ms"] > 20.0  # after the 20 ms step ends


def test_kinds_of_every_shipped_cc_protocol(squid):
    kinds = {name: family_kind(SweepFamily.for_protocol(rig.load_protocol(name)))[0]
             for name in ("cc-threshold", "cc-step-family", "cc-paired-pulse", "cc-ramp",
                          "cc-anode-break")}
    assert kinds == {"cc-threshold": "threshold", "cc-step-family": "f-I",
                     "cc-paired-pulse": "paired", "cc-ramp": "ramp",
                     "cc-anode-break": "threshold"}


def test_a_recording_without_its_protocol_gives_the_same_table(squid):
    recording = run(squid, "cc-step-family")
    with_protocol = analysed(recording)
    recording.metadata = {k: v for k, v in recording.metadata.items() if k != "protocol_json"}
    from_command = analysed(recording)
    assert from_command.kind == "f-I"
    assert from_command.rows == with_protocol.rows
    assert from_command.facts == with_protocol.facts


def test_continuous_firing_without_a_stimulus():
    setup = rig.Rig.from_presets("hh-squid")
    setup.set_mode("CC")
    setup.set_holding(120e-12)  # 12 uA/cm^2: repetitive firing
    setup.settle()
    signals = setup.advance(np.full(10000, 120e-12), 20e-6)  # 200 ms
    recording = rig.files.recording.Recording(
        {"Vm": signals["Vm"][None, :], "command": np.full((1, 10000), 120e-12)},
        {"Vm": "V", "command": "A"}, np.array([10000]), 20e-6, {})
    result = analysed(recording)
    assert result.kind == "spikes"
    assert result.rows[0]["spikes"] == spike_count(signals["Vm"] * 1e3)
    assert result.fact("mean_rate") == pytest.approx(result.rows[0]["spikes"] / 0.19998, rel=1e-3)
