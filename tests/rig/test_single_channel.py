"""Single-channel analysis on simulated patches, against what the schemes say
analytically: dwell times, open probability, amplitudes and the noise analysis.

Statistical tests use fixed seeds; each states its tolerance in standard errors and
the false-failure rate that implies (normal approximation)."""

from dataclasses import replace

import numpy as np
import pytest
from scipy.linalg import expm

from rig import units
from rig.analysis.noise import ensemble, fit_noise
from rig.analysis.single_channel import (
    dwell_times,
    fit_amplitudes,
    fit_dwell_times,
    idealise,
    log_binned_histogram,
    open_probability,
)
from rig.errors import VrigError
from rig.model.channels import load_channel
from rig.model.markov import load_scheme, scheme_from_dict
from rig.simulation.engine import Rig

TWO_STATE = {
    "ion": "K", "label": "K", "states": ["C", "O"], "open": ["O"],
    "unitary_conductance_pS": 20, "q10": 3, "reference_temperature_C": 6.3,
    "transitions": [
        {"from": "C", "to": "O", "rate": {"form": "constant", "rate_per_ms": 0.2}},
        {"from": "O", "to": "C", "rate": {"form": "constant", "rate_per_ms": 1.0}}]}


def clamped_record(rig, level_mv, duration_s, interval_s):
    """Im (pA) and the open counts of rig held at level_mv (mV) for duration_s."""
    rig.set_mode("VC")
    rig.set_holding(units.mv_to_v(level_mv))
    rig.settle()
    result = rig.advance(np.full(round(duration_s / interval_s), units.mv_to_v(level_mv)),
                         interval_s)
    return units.a_to_pa(result["Im"]), result


def unitary_pa(rig, level_mv):
    scheme = rig.membrane().markov.schemes[0]
    e_rev = units.v_to_mv(rig.reversal_potentials()[scheme.ion])
    return scheme.unitary_conductance_ps * 1e-3 * (level_mv - e_rev)


def test_two_state_channel_dwell_times_are_exponential_with_the_analytic_means():
    """Open 1/k_off = 1 ms, closed 1/k_on = 5 ms. About 1000 of each: within 4 standard
    errors (tau / sqrt(n)) plus the sampling's resolution (false-failure rate 6e-5 each)."""
    cell = replace(Rig.from_presets("patch-k").cell, schemes=(
        (scheme_from_dict(TWO_STATE, "two-state"), 1),))
    rig = Rig(cell, *(Rig.from_presets("patch-k")._bath, Rig.from_presets("patch-k")._pipette),
              seed=4)
    interval = 20e-6
    im, _ = clamped_record(rig, 20.0, 7.0, interval)
    levels = idealise(im, unitary_pa(rig, 20.0), max_level=1)
    opened, closed = dwell_times(levels, interval)
    shortest = 2 * interval  # dwells of one sample are not resolved reliably
    for times, tau_s in ((opened, 1e-3), (closed, 5e-3)):
        fit = fit_dwell_times(times, 1, shortest)
        assert fit.n > 800
        assert abs(fit.taus_s[0] - tau_s) < 4 * fit.tau_errors_s[0] + interval
        # a single exponential: the fraction of dwells longer than t is
        # exp(-(t - shortest) / tau), within 4 binomial standard errors plus a sample
        kept = times[times >= shortest]
        for t in np.array([0.5, 1.0, 2.0, 3.0]) * tau_s:
            expected = np.exp(-(t - shortest) / tau_s)
            se = np.sqrt(expected * (1 - expected) / kept.size)
            assert abs(np.mean(kept > t) - expected) < 4 * se + interval / tau_s
        edges, counts = log_binned_histogram(kept, 10, shortest)
        assert counts.sum() == kept.size
        # the fitted curve over the histogram holds all but the tail beyond its last bin
        assert 0.99 * kept.size < fit.expected_counts(edges).sum() <= kept.size


def test_one_k_channel_opens_for_one_over_four_beta_n():
    """HH K at +20 mV: the only way out of n4 is 4 beta_n, so open times are exponential
    with mean 1 / (4 beta_n) (5.9 ms). About 350 openings in 4 s: within 4 standard
    errors (false-failure rate 6e-5)."""
    rig = Rig.from_presets("patch-k", channel_counts={"K": 1}, seed=9)
    interval = 50e-6
    im, _ = clamped_record(rig, 20.0, 4.0, interval)
    opened, _ = dwell_times(idealise(im, unitary_pa(rig, 20.0), max_level=1), interval)
    beta_n = float(load_channel("hh-k").gates[0].beta(20.0))
    fit = fit_dwell_times(opened, 1, 2 * interval)
    assert fit.n > 200
    assert abs(fit.taus_s[0] - 1e-3 / (4 * beta_n)) < 4 * fit.tau_errors_s[0] + interval


@pytest.mark.parametrize("level_mv", [-40.0, 0.0])
def test_open_probability_at_steady_state_is_n_inf_to_the_fourth(level_mv):
    """20 K channels for 3 s: the open fraction's standard error from the channel's
    correlation time (at most 6 ms at these voltages) is below sqrt(p (1 - p) 2 tau /
    (20 T)); allowed: 4 of them (false-failure rate 6e-5)."""
    rig = Rig.from_presets("patch-k", channel_counts={"K": 20}, seed=12)
    im, _ = clamped_record(rig, level_mv, 3.0, 100e-6)
    po = open_probability(idealise(im, unitary_pa(rig, level_mv), max_level=20), 20)
    expected = float(load_channel("hh-k").gates[0].steady_state(level_mv)) ** 4
    se = np.sqrt(expected * (1 - expected) * 2 * 6e-3 / (20 * 3.0))
    assert abs(po - expected) < 4 * se


def test_amplitude_histogram_gaussians_find_the_unitary_current():
    """One K channel at +20 mV (open about 2/3 of the time) through a 2 kHz filter with
    instrument noise: the two Gaussians sit at 0 and i within 5 % of i (the filtered
    transitions pull the peaks together by 2-4 % over seeds 1-4)."""
    rig = Rig.from_presets("patch-k", channel_counts={"K": 1}, seed=3)
    rig.set_amplifier(noise=True, filter_hz=2000.0)
    im, _ = clamped_record(rig, 20.0, 2.0, 100e-6)
    i = unitary_pa(rig, 20.0)
    fit = fit_amplitudes(im, [0.0, i], bin_pa=0.05)
    np.testing.assert_allclose(fit.means_pa, [0.0, i], atol=0.05 * i)
    assert abs(fit.unitary_pa - i) < 0.05 * i
    assert abs(sum(fit.areas) - 1) < 0.1


def test_noise_analysis_recovers_the_simulated_unitary_current_and_count():
    """200 sweeps of 100 Na channels stepped to 0 mV at 20 kHz (ideal amplifier), the
    background variance from the 10 samples before the step: i, N and the largest
    open probability within 4 bootstrap standard errors (false-failure rate about 6e-5
    each). With p_max near 0.4 and 200 sweeps N is known to about 30 %, i to 10 %."""
    n, sweeps, interval = 100, 200, 50e-6
    rig = Rig.from_presets("patch-na", channel_counts={"Na": n}, seed=31)
    rig.set_mode("VC")
    rig.set_holding(units.mv_to_v(-100.0))
    command = units.mv_to_v(np.r_[np.full(10, -100.0), np.full(200, 0.0)])
    rows = []
    for _ in range(sweeps):
        rig.settle()
        rows.append(units.a_to_pa(rig.advance(command, interval)["Im"]))
    # sample 11 holds the capacitive charge of the step: leave it out
    fit = fit_noise(np.array(rows), window=slice(12, None), baseline=slice(0, 10))
    i = unitary_pa(rig, 0.0)
    scheme = load_scheme("hh-na-markov")
    p0, q = scheme.stationary(-100.0), scheme.generator(0.0)
    p_max = max(scheme.open_probability(p0 @ expm(q * k * 0.05)) for k in range(200))
    assert abs(fit.unitary_pa - i) < 4 * fit.unitary_error_pa
    assert abs(fit.n_channels - n) < 4 * fit.n_channels_error
    assert abs(fit.p_open_max - p_max) < 4 * fit.p_open_max_error
    assert fit.unitary_error_pa < 0.15 * abs(i)
    assert fit.n_channels_error < 0.5 * n
    mean, _ = ensemble(np.array(rows))
    assert mean[15:60].mean() < 0  # the ensemble average is the inward macroscopic current


def test_ensemble_mean_and_variance_are_the_unbiased_ones():
    sweeps = np.array([[1.0, 2.0, np.nan], [3.0, 6.0, 5.0], [5.0, 10.0, 7.0]])
    mean, var = ensemble(sweeps)
    np.testing.assert_allclose(mean, [3.0, 6.0, 6.0])
    np.testing.assert_allclose(var, [4.0, 16.0, 2.0])


def test_idealisation_uses_half_amplitude_thresholds():
    current = np.array([0.0, -0.9, -1.1, -2.0, -2.9, -3.1, -4.5, 0.4])
    np.testing.assert_array_equal(idealise(current, -2.0), [0, 0, 1, 1, 1, 2, 2, 0])
    np.testing.assert_array_equal(idealise(current, -2.0, max_level=1), [0, 0, 1, 1, 1, 1, 1, 0])


@pytest.mark.parametrize(("call", "message"), [
    (lambda: idealise([1.0], 0.0), "unitary current"),
    (lambda: idealise([1.0], float("nan")), "unitary current"),
    (lambda: fit_dwell_times([1e-3], 1), "too few dwell times"),
    (lambda: fit_dwell_times([1e-3] * 10, 3), "1 or 2 exponentials"),
    (lambda: ensemble([[1.0, 2.0]]), "two or more sweeps"),
    (lambda: log_binned_histogram([]), "no dwell times"),
    (lambda: open_probability([1, 0], 0), "at least one channel"),
    (lambda: fit_noise(np.zeros((5, 2))), "at least 3 samples"),
])
def test_bad_input_gives_a_clear_error(call, message):
    with pytest.raises(VrigError, match=message):
        call()
