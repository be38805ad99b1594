"""Channels counted one by one: reproducible, a patch's current a whole number of
unitary currents, the mean of many sweeps the deterministic current, and the exact
and multinomial algorithms the same distribution.

Statistical tests use fixed seeds, so they either always pass or always fail; each
states the rate at which it would fail by chance for a random seed (its false-failure
rate), from the exact distribution of what it measures.
"""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.linalg import expm

from rig import units
from rig.model.markov import load_scheme
from rig.simulation import stochastic
from rig.simulation.engine import Rig

INTERVAL_S = 100e-6  # 10 kHz
# |z| beyond this at one point: probability 5.7e-7; over the points of one test
# (Bonferroni, whatever their correlation) the false-failure rate is below 2e-4.
Z_LIMIT = 5.0


def step_command(before_mv, level_mv, n_before, n_step):
    return units.mv_to_v(np.r_[np.full(n_before, before_mv), np.full(n_step, level_mv)])


def open_probability_after_step(scheme, v0_mv, v1_mv, times_ms, phi=1.0):
    """The exact open probability at times_ms after a step from steady state at v0."""
    p0 = scheme.stationary(v0_mv)
    q = scheme.generator(v1_mv, phi)
    return np.array([scheme.open_probability(p0 @ expm(q * t)) for t in times_ms])


def independent_sweeps(rig, command, n_sweeps, signal):
    """signal (rows) of n_sweeps sweeps of command, each from a fresh steady state
    (channels drawn from the stationary distribution), so that sweeps are independent."""
    rig.set_mode("VC")
    rig.set_holding(command[0])
    rows = []
    for _ in range(n_sweeps):
        rig.settle()
        rows.append(rig.advance(command, INTERVAL_S)[signal].copy())
    return np.array(rows)


def test_same_seed_same_openings_other_seed_other_openings():
    command = step_command(-100, -40, 20, 100)
    records = [independent_sweeps(Rig.from_presets("patch-na", seed=seed), command, 3, "Im")
               for seed in (7, 7, 8)]
    np.testing.assert_array_equal(records[0], records[1])
    assert not np.array_equal(records[0], records[2])


def test_instrument_noise_does_not_change_the_openings():
    command = step_command(-100, -40, 20, 100)
    quiet = Rig.from_presets("patch-na", seed=3)
    noisy = Rig.from_presets("patch-na", seed=3)
    noisy.set_amplifier(noise=True)
    a = independent_sweeps(quiet, command, 2, "Na_open")
    b = independent_sweeps(noisy, command, 2, "Na_open")
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("cell", "level", "count", "exact_max"), [
    ("patch-na", -40, 50, 200), ("patch-k", 20, 10, 200), ("patch-k", 20, 90, 0)])
def test_ideal_patch_current_is_a_whole_number_of_unitary_currents(cell, level, count,
                                                                   exact_max, monkeypatch):
    """With both algorithms (exact_max 0: multinomial), and within the 50 GOhm
    headstage's +/-200 pA (90 K channels at +20 mV pass at most 175 pA)."""
    monkeypatch.setattr(stochastic, "EXACT_MAX_CHANNELS", exact_max)
    rig = Rig.from_presets(cell, channel_counts={"": count}, seed=2)
    command = step_command(-100 if level < 0 else -80, level, 20, 300)
    rig.set_mode("VC")
    rig.set_holding(command[0])
    rig.settle()
    result = rig.advance(command, INTERVAL_S)
    scheme = rig.membrane().markov.schemes[0]
    e_rev = units.v_to_mv(rig.reversal_potentials()[scheme.ion])
    v = units.v_to_mv(result["Vmem"])
    unitary_pa = scheme.unitary_conductance_ps * 1e-3 * (v - e_rev)
    im_pa = units.a_to_pa(result["Im"])
    # a command change charges the membrane over the interval before the next sample
    steady = np.r_[True, np.diff(v) == 0]
    n_open = im_pa[steady] / unitary_pa[steady]
    np.testing.assert_allclose(n_open, np.round(n_open), atol=1e-9)
    np.testing.assert_array_equal(np.round(n_open), result[f"{scheme.label}_open"][steady])
    assert n_open.min() >= 0 and n_open.max() <= count
    assert n_open.max() >= 1  # something opened
    assert not rig.overloaded


def test_patch_with_noise_off_follows_the_master_equation_exactly():
    rig = Rig.from_presets("patch-na", channel_counts={"Na": 100}, stochastic=False)
    command = step_command(-100, -40, 10, 200)
    result = independent_sweeps(rig, command, 1, "Na_open")[0]
    scheme = load_scheme("hh-na-markov")
    expected = 100 * open_probability_after_step(scheme, -100, -40, np.arange(200) * 0.1)
    np.testing.assert_allclose(result[10:], expected, rtol=1e-9, atol=1e-12)


def test_mean_of_exact_sweeps_converges_to_the_deterministic_current():
    """150 sweeps of 100 Na channels (the exact algorithm): at each time the open count
    is binomial(100, p(t)), so the sweep mean has standard error sqrt(100 p(1-p)/150);
    every point must be within Z_LIMIT of them (false-failure rate below 2e-4)."""
    n, sweeps = 100, 150
    rig = Rig.from_presets("patch-na", channel_counts={"Na": n}, seed=11)
    assert rig.metadata()["channel_algorithm"] == "Na=exact"
    command = step_command(-100, -40, 10, 150)
    counts = independent_sweeps(rig, command, sweeps, "Na_open")[:, 10:]
    p = open_probability_after_step(load_scheme("hh-na-markov"), -100, -40,
                                    np.arange(150) * 0.1)
    se = np.sqrt(n * p * (1 - p) / sweeps)
    usable = n * p * sweeps > 20  # where the normal approximation holds
    z = (counts.mean(axis=0) - n * p)[usable] / se[usable]
    assert usable.sum() > 100
    assert np.abs(z).max() < Z_LIMIT
    # and the mean is near the macroscopic current over the whole step, not by chance
    assert abs(z.mean()) < Z_LIMIT


def test_a_whole_cell_sweep_with_the_multinomial_update_follows_hh():
    """The squid membrane's 60 000 Na and 18 000 K channels (the multinomial update)
    against the deterministic HH kernel: each sample within Z_LIMIT standard errors
    (gamma |V - E| sqrt(N p (1 - p))) over 700 samples: false-failure rate below 4e-4."""
    stochastic_rig = Rig.from_presets("hh-squid", stochastic=True, seed=5)
    deterministic = Rig.from_presets("hh-squid")
    assert stochastic_rig.metadata()["channel_algorithm"] == "Na=multinomial K=multinomial"
    command = step_command(-65, 0, 50, 300)
    signals = [independent_sweeps(r, command, 1, name)[0]
               for r in (stochastic_rig, deterministic) for name in ("INa", "IK")]
    na_s, k_s, na_d, k_d = (units.a_to_pa(s) for s in signals)
    e = {ion: units.v_to_mv(v) for ion, v in deterministic.reversal_potentials().items()}
    for sample, mean, n, e_rev in ((na_s, na_d, 60000, e["Na"]), (k_s, k_d, 18000, e["K"])):
        drive = 20e-3 * (units.v_to_mv(command) - e_rev)
        p = np.clip(mean / (n * drive), 0, 1)
        se = np.abs(drive) * np.sqrt(n * p * (1 - p))
        usable = n * p > 20
        assert np.abs((sample - mean)[usable] / se[usable]).max() < Z_LIMIT


def _open_counts(rig, command, sweeps, at):
    return independent_sweeps(rig, command, sweeps, "K_open")[:, at].astype(int)


def test_exact_and_multinomial_algorithms_agree_in_distribution(monkeypatch):
    """20 K channels stepped to +20 mV: the open count 1 and 3 ms later is
    binomial(20, p(t)) exactly. Both algorithms are tested against it and against each
    other by chi-square tests at 1e-3 each (false-failure rate below 6e-3 together)."""
    n, sweeps = 20, 400
    command = step_command(-80, 20, 10, 40)
    exact = Rig.from_presets("patch-k", channel_counts={"K": n}, seed=21)
    monkeypatch.setattr(stochastic, "EXACT_MAX_CHANNELS", 0)
    multinomial = Rig.from_presets("patch-k", channel_counts={"K": n}, seed=22)
    assert exact.metadata()["channel_algorithm"] == "K=exact"
    assert multinomial.metadata()["channel_algorithm"] == "K=multinomial"
    scheme = load_scheme("hh-k-markov")
    for at_ms in (1.0, 3.0):
        at = 10 + round(at_ms / 0.1)
        p = open_probability_after_step(scheme, -80, 20, [at_ms])[0]
        a = _open_counts(exact, command, sweeps, at)
        b = _open_counts(multinomial, command, sweeps, at)
        expected = sweeps * stats.binom.pmf(np.arange(n + 1), n, p)
        keep = expected > 5  # pool the tails so that chi-square holds
        for counts in (a, b):
            observed = np.bincount(counts, minlength=n + 1)
            obs = np.r_[observed[keep], observed[~keep].sum()]
            exp = np.r_[expected[keep], expected[~keep].sum()]
            chi2 = np.sum((obs - exp) ** 2 / exp)
            assert stats.chi2.sf(chi2, obs.size - 1) > 1e-3
        table = np.array([np.bincount(a, minlength=n + 1), np.bincount(b, minlength=n + 1)])
        table = table[:, table.sum(axis=0) > 0]
        assert stats.chi2_contingency(table)[1] > 1e-3
    assert math.isfinite(p)


def test_a_small_cell_shows_channel_noise_and_fires_spontaneously():
    """hh-small (100 um^2: 6000 Na, 1800 K channels) in I=0 for 1 s: with its channels
    random the rest fluctuates by millivolts and spikes come on their own (Chow & White
    1996; 12 with this seed, Poisson-like at about 10/s, so none in 1 s would happen by
    chance about once in 20 000 seeds); deterministic, it rests still."""
    rates = {}
    for stochastic_on in (True, False):
        rig = Rig.from_presets("hh-small", stochastic=stochastic_on, seed=0)
        rig.set_mode("I0")
        rig.settle()
        v = units.v_to_mv(rig.advance(np.zeros(25000), 40e-6)["Vm"])
        spikes = int(np.sum((v[1:] > 0) & (v[:-1] <= 0)))
        rates[stochastic_on] = (spikes, float(np.std(v[v < -50])))
    assert rates[True][0] >= 3 and rates[True][1] > 1.0
    assert rates[False][0] == 0 and rates[False][1] < 1e-3


def test_counts_on_a_whole_cell_replace_its_density_and_turn_the_noise_on():
    rig = Rig.from_presets("hh-small", channel_counts={"Na": 600})
    meta = rig.metadata()
    assert meta["channels"] == "Na=600 K=1800"  # K from 36 mS/cm^2 x 100 um^2 / 20 pS
    assert meta["stochastic"] == "on"
    assert meta["channel_algorithm"] == "Na=multinomial K=multinomial"
    quiet = Rig.from_presets("hh-small", channel_counts={"Na": 600}, stochastic=False)
    assert quiet.metadata()["channel_algorithm"] == "Na=mean K=mean"
