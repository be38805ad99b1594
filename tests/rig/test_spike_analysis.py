"""Spike measures on traces whose answers are known in closed form: Gaussian spikes on a
flat baseline (threshold where the analytic dV/dt reaches the criterion, width at half
height between threshold and peak), an afterhyperpolarisation of known depth, slow
depolarisations that are not spikes, spikes cut by the window, and bad criteria."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

import rig
from rig.analysis.spikes import SpikeCriteria, find_spikes, firing_rate

BASE = -0.065  # V
HEIGHT = 0.1  # V
SIGMA = 0.3e-3  # s
DT = 10e-6  # s


def gaussian(t, centres, sigma=SIGMA, height=HEIGHT, base=BASE):
    v = np.full(t.size, base)
    for c in centres:
        v += height * np.exp(-((t - c) ** 2) / (2 * sigma ** 2))
    return v


def analytic_onset(criterion, sigma=SIGMA, height=HEIGHT):
    """Time before the centre (s) where dV/dt of the Gaussian rises through criterion
    (V/s), on its upstroke: dV/dt = h u / s^2 exp(-u^2 / 2 s^2), u = centre - t."""
    def slope(u):
        return height * u / sigma ** 2 * math.exp(-u * u / (2 * sigma ** 2)) - criterion
    return brentq(slope, sigma, 8 * sigma, xtol=1e-15)  # beyond the steepest point (u = s)


def test_gaussian_spike_threshold_height_width_and_trough():
    t = np.arange(0, 0.1, DT)
    centres = [0.02, 0.05, 0.08]
    v = gaussian(t, centres)
    v -= 0.01 * np.exp(-((t - 0.025) ** 2) / (2 * (2e-3) ** 2))  # an AHP after the first
    spikes = find_spikes(t, v)
    assert len(spikes) == 3
    u = analytic_onset(20.0)
    onset_v = BASE + HEIGHT * math.exp(-u * u / (2 * SIGMA ** 2))
    half = onset_v + (BASE + HEIGHT - onset_v) / 2
    width = 2 * SIGMA * math.sqrt(2 * math.log(HEIGHT / (half - BASE)))
    first = spikes[1]  # the middle spike sits on a flat baseline
    # dV/dt by central differences, interpolated linearly between 10 us samples: the
    # crossing time errs by about dt^2 V'''' / (8 V''), 0.12 us here, a few uV in Vm
    assert first.threshold_t == pytest.approx(0.05 - u, abs=2e-7)
    assert first.threshold_v == pytest.approx(onset_v, abs=2e-5)
    assert first.peak_t == pytest.approx(0.05, abs=DT / 2)
    assert first.peak_v == pytest.approx(BASE + HEIGHT, abs=1e-9)
    assert first.height == pytest.approx(BASE + HEIGHT - onset_v, abs=2e-5)
    assert first.half_width == pytest.approx(width, rel=1e-4)
    assert first.trough_v == pytest.approx(BASE, abs=1e-9)
    # the first spike's trough is the AHP: -75 mV near 25 ms (the Gaussian's tail is 0 there)
    assert spikes[0].trough_v == pytest.approx(-0.075, abs=1e-5)
    assert spikes[0].trough_t == pytest.approx(0.025, abs=DT)
    assert firing_rate([s.threshold_t for s in spikes], 0.0, 0.1) == pytest.approx(30.0)


@pytest.mark.parametrize("criterion", [5.0, 20.0, 50.0])
def test_threshold_follows_the_criterion(criterion):
    t = np.arange(0, 0.04, DT)
    spike = find_spikes(t, gaussian(t, [0.02]), SpikeCriteria(dvdt=criterion))[0]
    u = analytic_onset(criterion)
    # at the foot of the upstroke the crossing time errs most (0.25 us at 5 mV/ms), but
    # dV/dt is small there, so the threshold Vm is still within a few microvolts
    assert spike.threshold_t == pytest.approx(0.02 - u, abs=5e-7)
    assert spike.threshold_v == pytest.approx(BASE + HEIGHT * math.exp(-u * u / (2 * SIGMA ** 2)),
                                              abs=5e-6)


def test_slow_depolarisation_through_the_level_is_not_a_spike():
    t = np.arange(0, 0.2, DT)
    v = BASE + 1.0 * t  # 1 mV/ms: crosses -20 mV at 45 ms, never 20 mV/ms
    assert find_spikes(t, v) == ()
    # the same ramp with a spike on top: one spike, its threshold on the ramp
    v = v + gaussian(t, [0.1], base=0.0)
    spikes = find_spikes(t, v)
    assert len(spikes) == 1
    assert spikes[0].threshold_v == pytest.approx(
        BASE + 1.0 * spikes[0].threshold_t + HEIGHT * math.exp(
            -analytic_onset(20.0 - 1.0) ** 2 / (2 * SIGMA ** 2)), abs=2e-5)


def test_windows_cut_spikes():
    t = np.arange(0, 0.05, DT)
    v = gaussian(t, [0.01, 0.0499])  # the window ends 0.1 ms after the second peak
    cut = find_spikes(t, v)
    assert len(cut) == 2
    assert math.isnan(cut[1].half_width) and math.isnan(cut[1].trough_v)
    # a window that opens on the spike's upstroke above the level does not count it
    assert len(find_spikes(t, v, t0=0.0101)) == 1
    # NaN padding after a short sweep is ignored
    padded = np.concatenate([v[:3000], np.full(2000, np.nan)])
    assert len(find_spikes(t, padded)) == 1


def test_detection_level_is_a_parameter():
    t = np.arange(0, 0.04, DT)
    small = gaussian(t, [0.02], height=0.040)  # peaks at -25 mV
    assert find_spikes(t, small) == ()
    assert len(find_spikes(t, small, SpikeCriteria(detect_level=-0.040))) == 1


def test_noisy_baseline_keeps_the_count():
    rng = np.random.default_rng(7)
    t = np.arange(0, 0.2, DT)
    v = gaussian(t, [0.03, 0.08, 0.13, 0.18]) + rng.normal(0, 0.2e-3, t.size)
    spikes = find_spikes(t, v)
    assert len(spikes) == 4
    np.testing.assert_allclose([s.peak_t for s in spikes], [0.03, 0.08, 0.13, 0.18], atol=1e-4)


@settings(max_examples=40, deadline=None)
@given(level=st.floats(allow_nan=True, allow_infinity=True),
       dvdt=st.floats(allow_nan=True, allow_infinity=True))
def test_bad_criteria_are_refused_with_a_reason(level, dvdt):
    ok_level = -0.2 <= level <= 0.1
    ok_dvdt = 0.1 <= dvdt <= 1000.0
    if ok_level and ok_dvdt:
        assert SpikeCriteria(level, dvdt).dvdt == dvdt
    else:
        with pytest.raises(rig.VrigError, match="detection level|dV/dt"):
            SpikeCriteria(level, dvdt)


def test_mismatched_arrays_are_refused():
    with pytest.raises(rig.VrigError, match="same length"):
        find_spikes(np.arange(10.0), np.zeros(9))
