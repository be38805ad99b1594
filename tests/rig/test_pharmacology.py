"""Drugs against ground truth (issue 4): Hill block (half block at the IC50), the side
a drug acts from, first-order perfusion (63 % at one time constant), what TTX, TEA and
pronase do to the squid membrane, washout, bad values, and `vrig run --drug`.

References: Hill equation f = 1/(1 + (IC50/C)^n); a first-order approach reaches
1 - 1/e = 63.2 % in one time constant; TTX blocks Na channels from outside only
(Narahashi et al. 1964/1966); TEA from inside blocks the delayed rectifier and
prolongs the action potential (Armstrong & Binstock 1965; Tasaki & Hagiwara 1957);
internal pronase removes Na inactivation (Armstrong, Bezanilla & Rojas 1973).
"""

import json
import math

import numpy as np
import pytest
from helpers import SAMPLE_INTERVAL_S, SAMPLE_MS, crossing_time_ms, spike_count

import rig
from rig.errors import VrigError
from rig.files.recording import load_recording
from rig.model import pharmacology
from rig.model.pharmacology import (
    Perfusion,
    drug_effects,
    drug_from_dict,
    drug_names,
    load_drug,
    parse_concentration,
    parse_drug_option,
)
from rig.resources import load_preset, preset_names
from ui import cli as ui_cli

ONE_MINUS_INV_E = 1 - math.exp(-1)


def squid(*drugs):
    """hh-squid with drugs (name, M, side) at steady state."""
    setup = rig.Rig.from_presets("hh-squid")
    for name, conc, side in drugs:
        setup.apply_drug(name, conc, side, steady_state=True)
    return setup


def vc_step(setup, level_mv, step_ms=20.0, before_ms=2.0):
    """Signals (SI) of an ideal-clamp step from -65 mV, sampled at 50 kHz."""
    setup.set_mode("VC")
    setup.set_holding(-0.065)
    setup.settle()
    n0, n1 = int(round(before_ms / SAMPLE_MS)), int(round(step_ms / SAMPLE_MS))
    command = np.r_[np.full(n0, -0.065), np.full(n1, level_mv * 1e-3)]
    return setup.advance(command, SAMPLE_INTERVAL_S), n0


def cc_pulse_from(setup, holding_a, amplitude_a, pulse_ms=1.0, before_ms=2.0, after_ms=30.0):
    """Vm (mV) for a current pulse on top of a CC holding current (A), from steady state."""
    setup.set_mode("CC")
    setup.set_holding(holding_a)
    setup.settle()
    n = [int(round(d / SAMPLE_MS)) for d in (before_ms, pulse_ms, after_ms)]
    command = np.r_[np.full(n[0], holding_a), np.full(n[1], holding_a + amplitude_a),
                    np.full(n[2], holding_a)]
    return setup.advance(command, SAMPLE_INTERVAL_S)["Vm"] * 1e3


def width_at_0_mv(v_mv):
    """Duration (ms) of the first excursion above 0 mV."""
    t = np.arange(v_mv.size) * SAMPLE_MS
    up = crossing_time_ms(t, v_mv, 0.0)
    peak = int(np.argmax(v_mv))
    return crossing_time_ms(t[peak:], -v_mv[peak:], 0.0) - up


# --- the Hill equation, the sides and the preparations -----------------------------------

@pytest.mark.parametrize("name", preset_names("drugs"))
def test_every_shipped_potency_half_blocks_at_its_ic50_and_cites_a_source(name):
    drug = load_drug(name)
    assert set(drug.potency) == set(pharmacology.SIDES)
    for side, table in drug.potency.items():
        assert pharmacology.DEFAULT_PREPARATION in table
        for preparation, site in table.items():
            assert len(site.source) > 20  # every number says where it comes from
            if site.inert:
                assert drug.fraction(1.0, side, preparation) == 0.0
                continue
            n = site.hill
            half = drug.fraction(site.ic50_m, side, preparation)
            assert half == pytest.approx(0.5, rel=1e-12)
            assert drug.fraction(10 * site.ic50_m, side, preparation) == pytest.approx(
                1 / (1 + 0.1 ** n), rel=1e-12)
            assert drug.fraction(site.ic50_m / 10, side, preparation) == pytest.approx(
                1 / (1 + 10 ** n), rel=1e-12)
            assert drug.fraction(0.0, side, preparation) == 0.0
    print(f"{drug.name}: {drug.effect} {drug.target}; "
          + "; ".join(drug.describe_site(side, prep)[:60] for side, table in drug.potency.items()
                      for prep in table))


# Potencies against the numbers in their sources (Hill coefficient 1 throughout).
CITED = [
    # drug, side, preparation, concentration M, fraction acted on, tolerance, source
    ("TEA", "outside", "frog-node", 0.4e-3, 0.5, 1e-12, "Hille 1967: half block at 0.4 mM"),
    ("TEA", "outside", "mammalian-cortical-neuron", 30e-3, 0.87, 0.02,
     "Ikeda & Korn 1995: 30 mM blocks 87 % of Kv2.1"),
    ("TEA", "outside", "squid-giant-axon", 100e-3, 0.0, 0.0,
     "Tasaki & Hagiwara 1957; Armstrong & Binstock 1965: no effect from outside"),
    ("TEA", "inside", "squid-giant-axon", 0.4e-3, 0.5, 1e-12, "Armstrong 1966/1971"),
    ("TTX", "outside", "squid-giant-axon", 5.1e-9, 0.5, 1e-12, "Toxicon 1985: 13.2 nM x 0.39"),
    ("TTX", "outside", "frog-node", 1e-9, 0.5, 1e-12, "Hille 1968: about 1 nM"),
    ("TTX", "inside", "squid-giant-axon", 10e-6, 0.0, 0.0, "Narahashi et al. 1966/1967"),
    ("Cs", "outside", "squid-giant-axon", 0.1, 0.0, 0.0, "Adelman & French 1978"),
    ("pronase", "outside", "squid-giant-axon", 0.1, 0.0, 0.0, "Armstrong et al. 1973"),
]


@pytest.mark.parametrize("drug, side, preparation, conc, expected, tol, source", CITED,
                         ids=[f"{d}-{s}-{p}" for d, s, p, *_ in CITED])
def test_potency_matches_its_source(drug, side, preparation, conc, expected, tol, source):
    got = load_drug(drug).fraction(conc, side, preparation)
    print(f"{drug} {conc * 1e3:g} mM {side} on {preparation}: {got * 100:.2f} % "
          f"(source: {source}, {expected * 100:g} %)")
    assert got == pytest.approx(expected, abs=tol)


def test_external_tea_leaves_the_squid_axon_alone_and_blocks_the_cortical_neuron():
    """The issue's case: 10 mM TEA outside blocked 56 % of the squid axon's I_K with a
    frog-node IC50. On the squid axon it now does nothing; on the cortical neuron
    (Kv2, IC50 5 mM) it leaves 1/(1 + 10/5) = 1/3 of the conductance."""
    control, _n0 = vc_step(squid(), 20.0)
    tea, _ = vc_step(squid(("TEA", 10e-3, "outside")), 20.0)
    np.testing.assert_array_equal(tea["gK"], control["gK"])
    ideal = {"series_resistance": 0.0}
    cortex = rig.Rig.from_presets("cortical-neuron", **ideal)
    blocked = rig.Rig.from_presets("cortical-neuron", **ideal)
    blocked.apply_drug("TEA", 10e-3, "outside", steady_state=True)
    c, _ = vc_step(cortex, 20.0)
    b, _ = vc_step(blocked, 20.0)
    ratio = b["gK"][-1] / c["gK"][-1]
    print(f"10 mM TEA outside: squid late gK {tea['gK'][-1] * 1e9:.2f} nS "
          f"(control {control['gK'][-1] * 1e9:.2f}); cortical gK ratio {ratio:.6f} (1/3)")
    assert ratio == pytest.approx(1 / 3, rel=1e-9)
    assert squid().perfusion.preparation == "squid-giant-axon"
    assert cortex.perfusion.preparation == "mammalian-cortical-neuron"


def test_a_preparation_without_its_own_entry_uses_the_default():
    tea = load_drug("TEA")
    default = tea.site("outside")
    assert tea.site("outside", "model-cell") is default
    assert tea.site("outside", "squid-giant-axon") is not default
    assert tea.fraction(5e-3, "outside", "no-such-preparation") == pytest.approx(0.5)
    assert "Ikeda & Korn" in tea.describe_site("outside", "model-cell")
    assert "no effect" in tea.describe_site("outside", "squid-giant-axon")


@pytest.mark.parametrize("drug, side, ic50, level_mv, signal, pick", [
    ("TTX", "outside", 5.1e-9, -20.0, "gNa", "peak"),
    ("TEA", "inside", 0.4e-3, 20.0, "gK", "late"),
    ("4-AP", "outside", 0.5e-3, 20.0, "gK", "late"),
    ("4-AP", "inside", 0.3e-3, 20.0, "gK", "late"),
    ("Cs", "inside", 15e-3, 20.0, "gK", "late"),
])
def test_half_block_at_the_ic50_on_the_rig(drug, side, ic50, level_mv, signal, pick):
    """In an ideal clamp the gates do not depend on the block, so at the squid axon's
    IC50 the conductance is exactly half of control at every instant."""
    control, _ = vc_step(squid(), level_mv)
    blocked, n0 = vc_step(squid((drug, ic50, side)), level_mv)
    c, b = control[signal][n0:], blocked[signal][n0:]
    current = "I" + signal[1:]
    i_b, i_c = blocked[current][n0:], control[current][n0:]
    if pick == "peak":
        g_b, g_c, i_ratio = b.max(), c.max(), i_b.min() / i_c.min()
    else:
        g_b, g_c, i_ratio = b[-1], c[-1], i_b[-1] / i_c[-1]
    ratio = g_b / g_c
    print(f"{drug} {ic50:g} M {side}: {pick} {signal} {g_b * 1e9:.2f} / {g_c * 1e9:.2f} nS "
          f"= {ratio:.6f}; {current} ratio {i_ratio:.6f}")
    assert ratio == pytest.approx(0.5, rel=1e-9)
    assert i_ratio == pytest.approx(0.5, rel=1e-9)
    np.testing.assert_allclose(b, 0.5 * c, rtol=1e-9, atol=1e-18)


def test_ttx_inside_the_pipette_does_nothing():
    control, _n0 = vc_step(squid(), -20.0)
    inside, _ = vc_step(squid(("TTX", 1e-6, "inside")), -20.0)
    outside, _ = vc_step(squid(("TTX", 1e-6, "outside")), -20.0)
    print(f"peak INa at -20 mV: control {control['INa'].min() * 1e9:.3f} nA, 1 uM TTX inside "
          f"{inside['INa'].min() * 1e9:.3f} nA, outside {outside['INa'].min() * 1e9:.4f} nA")
    for name in control:
        np.testing.assert_array_equal(inside[name], control[name])
    # outside, 1 uM = 196 x the squid IC50 of 5.1 nM leaves 1/197 of the Na conductance
    assert outside["INa"].min() / control["INa"].min() == pytest.approx(
        1 / (1 + 1e-6 / 5.1e-9), rel=1e-9)
    ttx = load_drug("TTX")
    assert drug_effects([(ttx, "inside", 1e-3)]).conductance_scale == {"Na": 1.0}
    # and the inside-only blockers do nothing from outside
    assert drug_effects([(load_drug("Cs"), "outside", 0.1)]).conductance_scale == {"K": 1.0}
    pronase_outside = drug_effects([(load_drug("pronase"), "outside", 0.1)])
    assert pronase_outside.inactivation_removed == {"Na": 0.0}


def test_independent_sites_multiply():
    """TEA inside and 4-AP outside both on K: unblocked fractions multiply."""
    tea, fourap = load_drug("TEA"), load_drug("4-AP")
    scale = drug_effects([(tea, "inside", 0.4e-3), (fourap, "outside", 0.5e-3)],
                         "squid-giant-axon").conductance_scale
    assert scale["K"] == pytest.approx(0.25, rel=1e-12)


# --- perfusion kinetics ----------------------------------------------------------------

def test_wash_in_reaches_63_percent_at_one_time_constant():
    ttx = load_drug("TTX")
    perfusion = Perfusion()
    perfusion.apply(ttx, 1e-6)
    assert perfusion.present[("TTX", "outside")] == 0.0
    perfusion.advance(ttx.wash_in_tau_s)
    at_tau = perfusion.present[("TTX", "outside")]
    stepwise = Perfusion()
    stepwise.apply(ttx, 1e-6)
    for _ in range(500):  # the same time in 500 pieces: first-order kinetics compose
        stepwise.advance(ttx.wash_in_tau_s / 500)
    perfusion.wash()
    perfusion.advance(ttx.wash_out_tau_s)
    after_wash = perfusion.present[("TTX", "outside")]
    print(f"TTX 1 uM: {at_tau / 1e-6 * 100:.3f} % after tau_in = {ttx.wash_in_tau_s:g} s; "
          f"washed for tau_out = {ttx.wash_out_tau_s:g} s: {after_wash / at_tau * 100:.3f} % left")
    assert at_tau == pytest.approx(ONE_MINUS_INV_E * 1e-6, rel=1e-12)
    assert stepwise.present[("TTX", "outside")] == pytest.approx(at_tau, rel=1e-12)
    assert after_wash == pytest.approx(math.exp(-1) * at_tau, rel=1e-12)


def test_wash_in_on_the_rig_blocks_as_the_hill_equation_of_the_63_percent():
    """100 nM TTX perfused onto the clamped axon: after tau_in = 5 s the concentration
    is 63.2 nM and the peak Na conductance left is 1/(1 + 63.2/5.1) of control."""
    control, n0 = vc_step(squid(), -20.0, step_ms=3.0)
    setup = squid()
    setup.set_mode("VC")
    setup.set_holding(-0.065)
    setup.settle()
    setup.apply_drug("TTX", 100e-9)
    tau = load_drug("TTX").wash_in_tau_s
    setup.hold(tau)
    present = setup.perfusion.present[("TTX", "outside")]
    command = np.r_[np.full(n0, -0.065), np.full(150, -0.020)]
    sig = setup.advance(command, SAMPLE_INTERVAL_S)  # 3.04 ms more: +0.04 % of the way
    ratio = sig["gNa"][n0:].max() / control["gNa"][n0:].max()
    c = 100e-9 * (1 - math.exp(-(tau + command.size * SAMPLE_INTERVAL_S) / tau))
    expected = 1 / (1 + c / 5.1e-9)  # the unblocked fraction, 1 - f
    print(f"after {tau:g} s: {present * 1e9:.3f} nM TTX (63.2 % = {ONE_MINUS_INV_E * 100:.3f} nM); "
          f"peak gNa {ratio * 100:.3f} % of control (Hill: {expected * 100:.3f} %); "
          f"metadata drugs: {setup.metadata()['drugs']}")
    assert present == pytest.approx(ONE_MINUS_INV_E * 100e-9, rel=1e-6)
    assert setup.time_s == pytest.approx(tau + command.size * SAMPLE_INTERVAL_S, rel=1e-9)
    assert ratio == pytest.approx(expected, rel=2e-3)
    assert "TTX" in setup.metadata()["drugs"]


def test_a_drug_is_washed_out_at_the_stated_floor_and_perfusion_settles():
    """First-order washout never reaches 0, so the floor is stated: 1 uM TTX on the
    squid axon (IC50 5.1 nM) is washed out once it is below 0.1 % of the dose (1 nM,
    tau ln 1000 = 207 s) and blocks fewer than 0.1 % of the channels (below
    5.1 nM x 0.001/0.999 = 5.105 pM, 30 s x ln(1 uM / 5.105 pM) = 365.56 s). Then the
    perfusion forgets it and is settled again, and the recording header no longer
    lists it (the issue's 'TEA=3.99e-16M')."""
    setup = squid(("TTX", 1e-6, "outside"))
    assert setup.perfusion.settled
    setup.wash_drug("TTX")
    assert not setup.perfusion.settled
    floor_m = 5.1e-9 * pharmacology.NO_EFFECT_FRACTION / (1 - pharmacology.NO_EFFECT_FRACTION)
    t_out = load_drug("TTX").wash_out_tau_s * math.log(1e-6 / floor_m)
    setup.perfusion.advance(t_out - 0.05)
    still = setup.perfusion.present[("TTX", "outside")]
    assert setup.metadata()["drugs"] == f"TTX={still * 1e12:.3g}pM(outside)"
    assert not setup.perfusion.settled
    setup.perfusion.advance(0.1)
    print(f"TTX 1 uM washed: {still * 1e12:.4f} pM left {t_out - 0.05:.2f} s after the wash "
          f"(floor {floor_m * 1e12:.4f} pM at {t_out:.2f} s); then present="
          f"{setup.perfusion.present}, settled={setup.perfusion.settled}, drugs line "
          f"{setup.metadata()['drugs']!r}")
    assert t_out == pytest.approx(365.56, abs=0.01)
    assert still == pytest.approx(floor_m, rel=0.01) and still > floor_m
    assert setup.perfusion.present == {} and setup.perfusion.targets == {}
    assert setup.perfusion.settled
    assert setup.perfusion.effects().conductance_scale == {}
    assert setup.metadata()["drugs"] == "none"


def test_an_irreversible_drug_washes_out_but_its_effect_stays():
    """Internal pronase (10 mM, Hill fraction 10/10.5 = 95.2 %) cuts inactivation; the
    enzyme washes out, the cut channels stay cut (Armstrong, Bezanilla & Rojas 1973)."""
    setup = squid(("pronase", 10e-3, "inside"))
    removed = setup.perfusion.effects().inactivation_removed["Na"]
    setup.wash_drug("pronase")
    setup.perfusion.advance(1000.0)
    after = setup.perfusion.effects().inactivation_removed["Na"]
    meta = setup.metadata()
    print(f"pronase: {removed * 100:.2f} % of inactivation removed; 1000 s after washing "
          f"{after * 100:.2f} %; drugs {meta['drugs']!r}, {meta['irreversible_effects']!r}")
    assert removed == pytest.approx(10 / 10.5, rel=1e-12)
    assert after == removed
    assert setup.perfusion.present == {} and setup.perfusion.settled
    assert meta["drugs"] == "none"
    assert meta["irreversible_effects"] == "pronase(inside): 95% of Na inactivation removed"


def test_summary_concentrations_read_back_as_drug_options():
    setup = squid(("TTX", 300e-9, "outside"), ("TEA", 10e-3, "inside"), ("Cs", 0.12, "inside"))
    line = setup.metadata()["drugs"]
    assert line == "TTX=300nM(outside) TEA=10mM(inside) Cs=120mM(inside)"
    for part in line.split():
        name, conc = part.split("(")[0].split("=")
        assert parse_concentration(conc) == pytest.approx(
            setup.perfusion.present[(load_drug(name).name, part.split("(")[1][:-1])], rel=1e-12)


# --- physiology ------------------------------------------------------------------------

def test_ttx_abolishes_the_spike_and_the_inward_current():
    control, ttx = squid(), squid(("TTX", 1e-6, "outside"))
    v_control = cc_pulse_from(control, 0.0, 300e-12)
    v_ttx = cc_pulse_from(ttx, 0.0, 300e-12)
    inward = {}
    for label, setup in (("control", control), ("TTX", ttx)):
        lowest = np.inf
        for level in range(-50, 41, 10):
            sig, n0 = vc_step(setup, float(level), step_ms=10.0)
            lowest = min(lowest, sig["Im"][n0 + 1:].min())  # after the capacitive sample
        inward[label] = lowest
    print(f"300 pA, 1 ms: peak {v_control.max():.1f} mV control, {v_ttx.max():.1f} mV in 1 uM TTX; "
          f"most negative VC current (-50..+40 mV): control {inward['control'] * 1e9:.2f} nA, "
          f"TTX {inward['TTX'] * 1e12:.1f} pA")
    assert spike_count(v_control) == 1 and v_control.max() > 30.0
    assert spike_count(v_ttx) == 0 and v_ttx.max() < -40.0
    assert inward["control"] < -5e-9
    assert inward["TTX"] > 0.0  # no inward current left anywhere in the family


def test_tea_removes_the_outward_current_and_prolongs_the_spike():
    """10 mM TEA inside (IC50 0.4 mM): 1/26 = 3.85 % of the K conductance is left.
    Without K current the HH membrane's rest moves to about -20 mV (the two stable
    states Tasaki & Hagiwara saw in TEA), so, as an experimenter would, the axon is
    held at -65 mV with a steady current before the pulse."""
    control, tea = squid(), squid(("TEA", 10e-3, "inside"))
    late = {}
    for label, setup in (("control", control), ("TEA", tea)):
        sig, _ = vc_step(setup, 20.0)
        late[label] = (sig["Im"][-1], sig["IK"][-1], sig["Ileak"][-1])
    holding = {}
    for label, setup in (("control", control), ("TEA", tea)):
        sig, _ = vc_step(setup, -65.0, step_ms=1.0)
        holding[label] = sig["Im"][-1]  # the current that holds -65 mV
    v_control = cc_pulse_from(control, holding["control"], 300e-12)
    v_tea = cc_pulse_from(tea, holding["TEA"], 300e-12)
    w_control, w_tea = width_at_0_mv(v_control), width_at_0_mv(v_tea)
    print(f"late current at +20 mV: control {late['control'][0] * 1e9:.2f} nA (IK "
          f"{late['control'][1] * 1e9:.2f}), TEA {late['TEA'][0] * 1e9:.3f} nA (IK "
          f"{late['TEA'][1] * 1e9:.3f}, leak {late['TEA'][2] * 1e9:.3f}); rest in TEA "
          f"{tea.resting_potential() * 1e3:.1f} mV, held at -65 mV with "
          f"{holding['TEA'] * 1e12:.1f} pA; spike width at 0 mV {w_control:.2f} -> {w_tea:.2f} ms, "
          f"peak {v_control.max():.1f} -> {v_tea.max():.1f} mV")
    assert late["TEA"][1] / late["control"][1] == pytest.approx(1 / 26, rel=1e-9)
    outward_control = late["control"][0] - late["control"][2]
    outward_tea = late["TEA"][0] - late["TEA"][2]
    assert outward_tea < 0.05 * outward_control
    assert v_tea.max() > 0.0 and v_control.max() > 0.0
    assert w_tea > 2.5 * w_control


def test_pronase_inside_removes_na_inactivation_for_good():
    control, n0 = vc_step(squid(), -20.0)
    treated_bench = squid(("pronase", 10e-3, "inside"))
    treated, _ = vc_step(treated_bench, -20.0)
    outside, _ = vc_step(squid(("pronase", 10e-3, "outside")), -20.0)

    def late_over_peak(sig):
        i_na = sig["INa"][n0:]
        return i_na[-1] / i_na.min()

    treated_bench.wash_drug()
    treated_bench.hold(60.0)
    washed, _ = vc_step(treated_bench, -20.0)
    print(f"INa at the end of 20 ms at -20 mV / peak: control {late_over_peak(control):.3f}, "
          f"10 mM pronase inside {late_over_peak(treated):.4f}, outside "
          f"{late_over_peak(outside):.3f}, 60 s after washing {late_over_peak(washed):.4f}")
    assert late_over_peak(control) < 0.05  # HH's Na current inactivates
    assert late_over_peak(treated) > 0.95  # ... and no longer does
    assert late_over_peak(outside) == pytest.approx(late_over_peak(control), rel=1e-12)
    assert late_over_peak(washed) == pytest.approx(late_over_peak(treated), rel=1e-3)


def test_washout_restores_the_spike_after_ttx():
    """1 uM TTX washes out with tau = 30 s: after 230 s, 0.47 nM is left (9 % block)."""
    setup = squid(("TTX", 1e-6, "outside"))
    assert spike_count(cc_pulse_from(setup, 0.0, 300e-12)) == 0
    setup.wash_drug("TTX")
    setup.set_mode("I0")
    setup.settle()
    setup.hold(230.0)
    present = setup.perfusion.present[("TTX", "outside")]
    v = cc_pulse_from(setup, 0.0, 300e-12)
    print(f"230 s after washing 1 uM TTX: {present * 1e9:.3f} nM left "
          f"(expected {1e3 * math.exp(-230 / 30):.3f}); spike peak {v.max():.1f} mV")
    assert present == pytest.approx(1e-6 * math.exp(-230.0 / 30.0), rel=1e-3)
    assert spike_count(v) == 1 and v.max() > 30.0


# --- bad values ------------------------------------------------------------------------

@pytest.mark.parametrize("concentration", [-1e-9, 2.0, 1e6, math.nan, math.inf, -math.inf])
def test_bad_concentrations_are_refused_and_leave_the_rig_alone(concentration):
    setup = squid(("TTX", 10e-9, "outside"))
    before = (dict(setup.perfusion.targets), dict(setup.perfusion.present),
              setup.perfusion.effects())
    with pytest.raises(VrigError, match="concentration"):
        setup.apply_drug("TTX", concentration)
    with pytest.raises(VrigError, match="concentration"):
        setup.apply_drug("TEA", concentration, side="inside", steady_state=True)
    assert (dict(setup.perfusion.targets), dict(setup.perfusion.present),
            setup.perfusion.effects()) == before
    assert setup.metadata()["drugs"] == "TTX=10nM(outside)"


def test_unknown_drugs_and_sides_are_refused():
    setup = squid()
    with pytest.raises(VrigError, match="unknown drug 'LSD'.*TTX"):
        setup.apply_drug("LSD", 1e-6)
    with pytest.raises(VrigError, match="unknown drug"):
        setup.wash_drug("LSD")
    with pytest.raises(VrigError, match="side"):
        setup.apply_drug("TTX", 1e-6, side="both")
    assert setup.perfusion.summary() == ""
    assert sorted(d.lower() for d in drug_names()) == sorted(preset_names("drugs"))
    assert load_drug("ttx").name == "TTX"  # names ignore case


@pytest.mark.parametrize("text", ["1", "-1nM", "1e3M", "2 M", "abcnM", "1kM", "", "nan nM",
                                  "inf uM", "1e400nM"])
def test_bad_concentration_text_is_refused(text):
    with pytest.raises(VrigError, match="concentration"):
        parse_concentration(text)


@pytest.mark.parametrize("text, molar", [("300nM", 300e-9), ("1 mM", 1e-3), ("0.5uM", 0.5e-6),
                                         ("1M", 1.0), ("0nM", 0.0), ("2.5e-3 M", 2.5e-3)])
def test_good_concentration_text(text, molar):
    assert parse_concentration(text) == pytest.approx(molar, rel=1e-12)


def test_drug_option_parsing():
    drug, side, conc = parse_drug_option("in:TEA=10mM")
    assert (drug.name, side, conc) == ("TEA", "inside", pytest.approx(10e-3))
    drug, side, conc = parse_drug_option("TTX=300nM")
    assert (drug.name, side, conc) == ("TTX", "outside", pytest.approx(300e-9))
    for bad in ("TTX", "LSD=1uM", "TTX=-1nM", "TTX=1"):
        with pytest.raises(VrigError):
            parse_drug_option(bad)


INERT = {"default": {"inert": True, "source": "a source for the test"}}
SITE = {"ic50_M": 1e-9, "hill": 1, "source": "a source for the test"}


@pytest.mark.parametrize("change", [
    {"effect": "stimulate"}, {"sides": {}}, {"sides": {"middle": {"default": SITE}}},
    {"sides": {"outside": {"default": SITE}}},  # the inside is not said
    {"sides": {"outside": {"default": {**SITE, "ic50_M": -1e-9}}, "inside": INERT}},
    {"sides": {"outside": {"default": {**SITE, "hill": 0}}, "inside": INERT}},
    {"sides": {"outside": {"default": {**SITE, "source": ""}}, "inside": INERT}},
    {"sides": {"outside": {"squid-giant-axon": SITE}, "inside": INERT}},  # no default
    {"sides": {"outside": {"Squid Axon!": SITE, "default": SITE}, "inside": INERT}},
    {"sides": {"outside": [SITE], "inside": INERT}}, {"sides": {"outside": {"default": 5},
                                                                 "inside": INERT}},
    {"irreversible": "yes"}, {"name": 5},
    {"wash_in_tau_s": 0}, {"wash_out_tau_s": -5},
    {"unbinding_rate_per_s": 0}, {"unbinding_rate_per_s": "slow"},
    {"unbinding_source": ""}, {"unbinding_source": 3},
])
def test_bad_drug_presets_are_refused(change):
    data = dict(load_preset("drugs", "ttx"))
    data.update(change)
    with pytest.raises(VrigError):
        drug_from_dict(data, "bad")


# --- the command line ------------------------------------------------------------------

TINY = {"format": "vrig-protocol", "version": 1, "name": "tiny", "mode": "VC",
        "holding": -65, "sample_rate_khz": 20, "sweeps": 1, "sweep_interval_ms": 0,
        "epochs": [{"kind": "step", "duration_ms": 1, "level": -65},
                   {"kind": "step", "duration_ms": 3, "level": -20}]}


def run_cli(args, capsys):
    capsys.readouterr()
    status = ui_cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def csv_metadata_and_im(path):
    """The metadata and every sweep's Im (pA, padding dropped) of a recorded CSV."""
    recording = load_recording(path)
    im = np.concatenate([recording.sweep("Im", k) for k in range(recording.n_sweeps)])
    return recording.metadata, im * 1e12


def test_vrig_run_with_ttx_names_it_and_blocks(tmp_path, capsys):
    protocol = tmp_path / "tiny.json"
    protocol.write_text(json.dumps(TINY), encoding="utf-8")
    control_csv, ttx_csv = tmp_path / "control.csv", tmp_path / "ttx.csv"
    assert run_cli(["run", protocol, "-o", control_csv], capsys)[0] == 0
    status, out, err = run_cli(["run", protocol, "-o", ttx_csv, "--drug", "TTX=1uM",
                                "--drug", "in:TEA=10mM"], capsys)
    meta, im_ttx = csv_metadata_and_im(ttx_csv)
    meta_control, im_control = csv_metadata_and_im(control_csv)
    print(f"{out.strip()}; drugs line: {meta['drugs']!r} (control {meta_control['drugs']!r}); "
          f"most negative Im: control {im_control[21:].min():.0f} pA, "
          f"TTX {im_ttx[21:].min():.0f} pA")
    assert status == 0 and err == ""
    assert meta["drugs"] == "TTX=1uM(outside) TEA=10mM(inside)"
    assert meta_control["drugs"] == "none"
    assert im_control[21:].min() < -3000.0  # Na current in control
    assert im_ttx[21:].min() > 0.0  # none with TTX


@pytest.mark.parametrize("option", ["LSD=1uM", "TTX=-1nM", "TTX=1", "TTX=1e3M", "in:LSD=1mM",
                                    "TTX"])
def test_vrig_run_refuses_bad_drugs_with_one_error_line(option, tmp_path, capsys):
    protocol = tmp_path / "tiny.json"
    protocol.write_text(json.dumps(TINY), encoding="utf-8")
    output = tmp_path / "out.csv"
    status, _out, err = run_cli(["run", protocol, "-o", output, "--drug", option], capsys)
    print(f"--drug {option}: status {status}, stderr {err.strip()!r}")
    assert status == 2
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vrig: error: ")
    assert "Traceback" not in err
    assert not output.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.json"]
