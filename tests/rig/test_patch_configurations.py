"""Patch configurations and whole-channel block.

A patch's configuration sets which face the pipette touches: the membrane potential
from the pipette's (outside-out Vm = Vp, inside-out Vm = -Vp, cell-attached
Vm = V_rest - Vp) and the reading's sign (Axon convention: current out of the
headstage into the pipette is positive, so inward membrane currents read positive in
inside-out and cell-attached). Drugs reach the face each solution touches. A blocker
blocks whole channels: the blocked count is binomial (N, f).

Statistical tests use fixed seeds; each states its false-failure rate for a random seed.
"""

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import solve_ivp

from rig import units
from rig.errors import VrigError
from rig.simulation import stochastic
from rig.simulation.engine import Rig

INTERVAL_S = 100e-6
N = 20


def _patch(configuration, seed=1, count=N):
    return Rig.from_presets("patch-na", channel_counts={"Na": count}, seed=seed,
                            patch_configuration=configuration)


def _sweep(rig, hold_mv, step_mv, n_before=20, n_step=200):
    command = units.mv_to_v(np.r_[np.full(n_before, hold_mv), np.full(n_step, step_mv)])
    rig.set_mode("VC")
    rig.set_holding(command[0])
    rig.settle()
    return rig.advance(command, INTERVAL_S)


@pytest.mark.parametrize(("configuration", "hold", "step", "sign"), [
    ("outside-out", -100, -40, 1), ("inside-out", 100, 40, -1),
    ("cell-attached", 35, -25, -1)])
def test_each_configuration_puts_the_membrane_at_minus_forty_and_signs_the_reading(
        configuration, hold, step, sign):
    """Each command puts the membrane at -100 then -40 mV; the reading is sign x the
    sum of outward unitary currents, so Na openings read -1.8 pA outside-out and
    +1.8 pA (upward) inside-out and cell-attached, the way an Axopatch shows them."""
    rig = _patch(configuration)
    result = _sweep(rig, hold, step)
    v_membrane = units.v_to_mv(result["Vmem"])
    np.testing.assert_allclose(v_membrane[21:], -40.0)
    np.testing.assert_allclose(units.v_to_mv(result["Vm"])[21:], step)  # the pipette
    e_na = units.v_to_mv(rig.reversal_potentials()["Na"])
    unitary = 20e-3 * (-40.0 - e_na)  # pA, outward +
    # sample 21 holds the capacitive current of the step too
    im = units.a_to_pa(result["Im"])[22:]
    n_open = result["Na_open"][22:]
    np.testing.assert_allclose(im, sign * n_open * unitary, atol=1e-9)
    assert n_open.max() >= 1


def test_outside_bath_ttx_blocks_an_outside_out_patch_but_not_inside_out_or_cell_attached():
    """TTX's site is on the outer face (resources/drugs/ttx.json): 1 uM in the bath
    (200 x its IC50, 99.5 % block) blocks an outside-out patch; the bath touches the
    inner face of an inside-out patch and no face of a cell-attached one."""
    blocked = {}
    for configuration in ("outside-out", "inside-out", "cell-attached"):
        rig = _patch(configuration, count=200)
        rig.apply_drug("TTX", 1e-6, steady_state=True)
        rig.settle()
        counts = rig.sim.gates[:, 0]
        blocked[configuration] = counts[-1]
        assert counts.sum() == 200
    assert blocked["outside-out"] >= 190
    assert blocked["inside-out"] == 0 and blocked["cell-attached"] == 0


def test_ttx_in_the_pipette_reaches_the_outer_face_of_an_inside_out_patch():
    rig = _patch("inside-out", count=200)
    rig.apply_drug("TTX", 1e-6, side="inside", steady_state=True)
    rig.settle()
    assert rig.sim.gates[-1, 0] >= 190


def test_a_blocked_channel_carries_nothing_and_the_open_ones_pass_the_full_unitary_current():
    """Half block (TTX at its IC50 on squid): every reading is still a whole number of
    full unitary currents (the block is of whole channels, not of gamma)."""
    rig = _patch("outside-out", count=100, seed=4)
    rig.apply_drug("TTX", 5.1e-9, steady_state=True)
    result = _sweep(rig, -100, -40)
    e_na = units.v_to_mv(rig.reversal_potentials()["Na"])
    unitary = 20e-3 * (-40.0 - e_na)
    n = units.a_to_pa(result["Im"])[22:] / unitary
    np.testing.assert_allclose(n, np.round(n), atol=1e-9)
    assert n.max() >= 1
    free = rig.sim.gates[:-1, 0].sum()
    assert free + rig.sim.gates[-1, 0] == 100 and 20 <= free <= 80


def test_the_available_count_is_binomial():
    """At a blocked fraction f = 0.5 the free count of N = 100 channels over 400
    settles (each a fresh draw) is binomial(100, 0.5): a chi-square test of its
    histogram (bins of equal probability) at a 1e-4 significance level (false-failure
    rate 1e-4); and the mean within 5 standard errors."""
    rig = _patch("outside-out", count=100)
    rig.apply_drug("TTX", 5.1e-9, steady_state=True)  # IC50, Hill 1: f = 0.5
    free = []
    for _ in range(400):
        rig.settle()
        free.append(rig.sim.gates[:-1, 0].sum())
    free = np.array(free)
    assert abs(free.mean() - 50) < 5 * np.sqrt(25 / free.size)
    edges = np.r_[-0.5, stats.binom.ppf([0.2, 0.4, 0.6, 0.8], 100, 0.5) + 0.5, 100.5]
    observed, _ = np.histogram(free, edges)
    expected = np.diff(stats.binom.cdf(edges, 100, 0.5)) * free.size
    assert stats.chisquare(observed, expected).pvalue > 1e-4


def test_block_keeps_its_binomial_count_while_channels_bind_and_leave():
    """Running on: the two-state binding process per channel keeps the blocked
    fraction's distribution; the total never changes. 300 runs of 100 channels,
    each advanced 140 s at -100 mV (2 x 1/k_off, TTX's 70 s blocked dwell) in 20 blocks
    of 7 s: mean free count within 5 standard errors of 50 (false-failure rate 6e-7)."""
    rig = _patch("outside-out", count=100)
    rig.apply_drug("TTX", 5.1e-9, steady_state=True)
    rig.set_mode("VC")
    rig.set_holding(units.mv_to_v(-100))
    free = []
    for _ in range(300):
        rig.settle()
        for _ in range(20):
            rig.advance(np.full(1, units.mv_to_v(-100)), 7.0)
        assert rig.sim.gates[:, 0].sum() == 100
        free.append(100 - rig.sim.gates[-1, 0])
    assert abs(np.mean(free) - 50) < 5 * np.sqrt(25 / len(free))


def test_washing_out_frees_the_channels_at_the_toxins_pace():
    """TTX washes out of the bath with its 30 s time constant but stays bound to each
    channel for 70 s on average (k_off 1.42e-2 /s), rebinding while the bath still holds
    many K: after 600 s the blocked count is binomial with the fraction of
    df/dt = k_off (c(t)/K (1 - f) - f), c = 1 uM exp(-t / 30 s), solved here; the count
    of 50 lies within its central 99.99 % (false-failure rate below 1e-4)."""
    rig = _patch("outside-out", count=50)
    rig.apply_drug("TTX", 1e-6, steady_state=True)
    rig.set_mode("VC")
    rig.set_holding(units.mv_to_v(-100))
    rig.settle()
    assert rig.sim.gates[-1, 0] >= 45
    k_off, kd = 1.42e-2, 5.1e-9
    f0 = 1e-6 / (1e-6 + kd)
    rig.wash_drug("TTX")
    for _ in range(60):
        rig.advance(np.full(10, units.mv_to_v(-100)), 1.0)
    solved = solve_ivp(lambda t, f: k_off * (1e-6 * np.exp(-t / 30.0) / kd * (1 - f) - f),
                       (0.0, 600.0), [f0], rtol=1e-8, atol=1e-10)
    p = solved.y[0, -1]
    low, high = stats.binom.ppf([5e-5, 1 - 5e-5], 50, p)
    assert low <= rig.sim.gates[-1, 0] <= high


def test_tea_is_a_fast_blocker_an_opening_is_smaller_never_absent():
    """Internal TEA (0.4 mM: half block, Armstrong 1971) on the inner face of an
    inside-out K patch: no channel is blocked whole, every open channel carries half
    its unitary current, and the open count is as drug-free (same seed: same gating)."""
    def k_patch():
        return Rig.from_presets("patch-k", channel_counts={"K": 10}, seed=3,
                                patch_configuration="inside-out")
    free, blocked = k_patch(), k_patch()
    blocked.apply_drug("TEA", 0.4e-3, side="outside", steady_state=True)  # the bath
    results = [_sweep(rig, 100, -20) for rig in (free, blocked)]
    assert blocked.sim.gates[-1, 0] == 0
    np.testing.assert_array_equal(results[0]["K_open"], results[1]["K_open"])
    assert results[0]["K_open"].max() >= 1
    np.testing.assert_allclose(results[1]["IK"][22:], 0.5 * results[0]["IK"][22:], rtol=1e-12)


SEAL_OHM = 2e9


def _current_clamped(configuration, injected_pa):
    """Vm (the pipette, mV) and the membrane (mV) of a 200-channel patch-na following
    its mean (noise off) with a 2 GOhm seal in CC: 5 ms at rest, then 20 ms at
    injected_pa. (With the ideal amplifier's perfect seal nothing but the Na channels
    holds the patch, and it rests at E_Na.)"""
    rig = Rig.from_presets("patch-na", channel_counts={"Na": 200}, stochastic=False,
                           patch_configuration=configuration)
    rig.set_amplifier(seal_resistance=SEAL_OHM)
    rig.set_mode("CC")
    rig.set_holding(0.0)
    rig.settle()
    result = rig.advance(units.pa_to_a(np.r_[np.zeros(50), np.full(200, injected_pa)]),
                         INTERVAL_S)
    return units.v_to_mv(result["Vm"]), units.v_to_mv(result["Vmem"])


def test_current_clamp_of_an_inside_out_patch_is_the_outside_out_one_mirrored():
    """Inside-out the pipette touches the outer face: a current injected into it flows
    inward through the patch, and the pipette reads -Vm. So the membrane with +I is the
    outside-out membrane with -I, and the readings are opposite (no Rs, no noise)."""
    vm_in, membrane_in = _current_clamped("inside-out", 5.0)
    vm_out, membrane_out = _current_clamped("outside-out", -5.0)
    np.testing.assert_allclose(membrane_in, membrane_out, atol=1e-9)
    np.testing.assert_allclose(vm_in, -vm_out, atol=1e-9)
    assert np.ptp(membrane_in) > 1.0  # the current moved the patch


def test_a_cell_attached_patch_at_i_zero_sits_at_the_cells_rest():
    """Cell-attached at I=0 the patch's inside is the cell at -65 mV and its outside the
    pipette, joined to the bath by the seal: with the mean Na current of 200 channels
    at rest negligible against the seal, the membrane rests near -65 mV and the pipette
    reads Vp = -(Vm + 65), near 0 mV, where the seal's and the channels' currents cancel:
    g_seal Vp = I_Na(Vm)."""
    vm, membrane = _current_clamped("cell-attached", 0.0)
    np.testing.assert_allclose(vm, -(membrane + 65.0), atol=1e-9)
    seal_ns = 1e9 / SEAL_OHM
    m = Rig.from_presets("patch-na", channel_counts={"Na": 200}, stochastic=False,
                         patch_configuration="cell-attached").membrane()
    i_na = stochastic.steady_current_pa(m, membrane[-1])
    assert abs(seal_ns * vm[-1] - i_na) < 1e-3 * max(abs(i_na), 1e-3)
    assert abs(membrane[-1] + 65.0) < 1.0


def test_a_whole_cell_has_no_patch_configuration():
    with pytest.raises(VrigError, match="whole cell"):
        Rig.from_presets("hh-squid", patch_configuration="inside-out")
    with pytest.raises(VrigError, match="must be one of"):
        Rig.from_presets("patch-na", patch_configuration="whole-cell")


def test_metadata_states_the_configuration_and_its_polarity():
    meta = _patch("cell-attached").metadata()
    assert meta["patch_configuration"] == "cell-attached"
    assert "inward" in meta["patch_polarity"]
    assert meta["cell_resting_potential_mV"] == f"{stochastic.CELL_ATTACHED_REST_MV:g}"
