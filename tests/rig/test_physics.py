"""rig.model.physics against the textbook: constants, Nernst, GHK voltage and current, Q10,
and the validation of temperatures and concentrations at the boundary."""

import math

import numpy as np
import pytest

import rig
from rig.model import physics
from rig.model.solutions import load_solution, parse_ion_override

T_ROOM = 20.0  # degC
LN10 = math.log(10.0)


def rt_over_f(temperature_c):
    """RT/F (V) written out from the CODATA 2018 values, independently of rig."""
    return 8.314462618 * (temperature_c + 273.15) / 96485.33212


def test_constants_are_codata_2018_exact():
    assert physics.GAS_CONSTANT == 8.314462618
    assert physics.FARADAY == 96485.33212
    assert physics.ZERO_CELSIUS_K == 273.15
    assert physics.thermal_voltage(T_ROOM) == pytest.approx(rt_over_f(T_ROOM), rel=1e-15)


def test_nernst_slope_is_58_17_mv_per_decade_at_20_c():
    slope = physics.nernst(1, 10.0, 1.0, T_ROOM)
    # ln(10) RT/F at 293.15 K = 58.168 mV; textbooks quote 58.2 mV.
    assert slope == pytest.approx(LN10 * rt_over_f(T_ROOM), rel=1e-14)
    assert slope * 1e3 == pytest.approx(58.17, abs=0.005)
    # K with 400 mM inside and 20 mM outside (squid-like), by hand:
    assert physics.nernst(1, 20.0, 400.0, T_ROOM) == pytest.approx(
        rt_over_f(T_ROOM) * math.log(20.0 / 400.0), rel=1e-14)


def test_nernst_sign_flips_for_anions_and_halves_for_divalents():
    e_mono = physics.nernst(1, 560.0, 60.0, T_ROOM)
    assert physics.nernst(-1, 560.0, 60.0, T_ROOM) == pytest.approx(-e_mono, rel=1e-14)
    assert physics.nernst(2, 560.0, 60.0, T_ROOM) == pytest.approx(e_mono / 2, rel=1e-14)
    # Ca 2 mM out, 100 nM in at 37 degC: (RT/2F) ln(2e4) = 13.36 mV * 9.90 = +132.3 mV.
    e_ca = physics.nernst(2, 2.0, 1e-4, 37.0)
    assert e_ca * 1e3 == pytest.approx(132.3, abs=0.1)
    assert e_ca == pytest.approx(rt_over_f(37.0) / 2 * math.log(2e4), rel=1e-14)
    # equal concentrations: zero, whatever the valence
    assert physics.nernst(2, 5.0, 5.0, T_ROOM) == 0.0


def test_nernst_scales_with_absolute_temperature():
    ratio = physics.nernst(1, 20.0, 400.0, 37.0) / physics.nernst(1, 20.0, 400.0, 6.3)
    assert ratio == pytest.approx((37.0 + 273.15) / (6.3 + 273.15), rel=1e-14)


@pytest.mark.parametrize("ion, valence", [("K", 1), ("Na", 1), ("Cl", -1)])
def test_ghk_voltage_reduces_to_nernst_with_one_permeant_ion(ion, valence):
    out = {"Na": 440.0, "K": 20.0, "Cl": 560.0}
    inside = {"Na": 55.0, "K": 490.0, "Cl": 60.0}
    expected = physics.nernst(valence, out[ion], inside[ion], 6.3)
    # alone, and with the other ions present at zero permeability
    assert physics.ghk_voltage({ion: 1.0}, out, inside, 6.3) == pytest.approx(expected, rel=1e-13)
    zeros = {other: 0.0 for other in out if other != ion}
    assert physics.ghk_voltage({ion: 2.5, **zeros}, out, inside, 6.3) == pytest.approx(
        expected, rel=1e-13)


def test_ghk_voltage_hand_computed_squid_rest():
    # P_K : P_Na : P_Cl = 1 : 0.04 : 0.45 (Hodgkin & Katz 1949) in squid solutions.
    out = {"Na": 440.0, "K": 20.0, "Cl": 560.0}
    inside = {"Na": 55.0, "K": 490.0, "Cl": 60.0}
    num = 1.0 * 20.0 + 0.04 * 440.0 + 0.45 * 60.0
    den = 1.0 * 490.0 + 0.04 * 55.0 + 0.45 * 560.0
    expected = rt_over_f(6.3) * math.log(num / den)
    got = physics.ghk_voltage({"K": 1.0, "Na": 0.04, "Cl": 0.45}, out, inside, 6.3)
    assert got == pytest.approx(expected, rel=1e-13)
    # ln(64.6 / 744.2) = -2.444 times RT/F = 24.08 mV
    assert got * 1e3 == pytest.approx(-58.86, abs=0.01)


def ghk_current_textbook(p, z, c_out, c_in, v, temperature_c):
    """I = P z^2 F^2 V/(RT) (ci - co exp(-zFV/RT)) / (1 - exp(-zFV/RT)), A/m^2, V != 0."""
    u = z * v / rt_over_f(temperature_c)
    return p * z * 96485.33212 * u * (c_in - c_out * math.exp(-u)) / (1.0 - math.exp(-u))


@pytest.mark.parametrize("z, c_out, c_in", [(1, 440.0, 55.0), (1, 20.0, 490.0),
                                            (-1, 560.0, 60.0), (2, 10.0, 1e-4)])
def test_ghk_current_is_zero_at_the_nernst_potential(z, c_out, c_in):
    e = physics.nernst(z, c_out, c_in, 6.3)
    i = physics.ghk_current_density(1e-6, z, c_out, c_in, e, 6.3)
    scale = abs(physics.ghk_current_density(1e-6, z, c_out, c_in, e + 0.05, 6.3))
    assert abs(float(i)) < 1e-12 * scale
    # and it changes sign there (outward above E for cations, per the sign convention)
    above = physics.ghk_current_density(1e-6, z, c_out, c_in, e + 0.01, 6.3)
    below = physics.ghk_current_density(1e-6, z, c_out, c_in, e - 0.01, 6.3)
    assert above > 0 > below


def test_ghk_current_matches_hand_computed_value():
    # Na through P = 1e-6 m/s at -65 mV, 440 out / 55 in mM, 6.3 degC
    p, v = 1e-6, -0.065
    u = v / rt_over_f(6.3)
    by_hand = p * 96485.33212 * u * (55.0 - 440.0 * math.exp(-u)) / (1.0 - math.exp(-u))
    got = physics.ghk_current_density(p, 1, 440.0, 55.0, v, 6.3)
    assert got == pytest.approx(by_hand, rel=1e-12)
    # u = -2.699, (55 - 440 e^2.699) / (1 - e^2.699) = 467.8: -121.8 A/m^2, inward
    assert got == pytest.approx(-121.82, rel=1e-4)
    # array input, several valences, against the textbook form
    volts = np.array([-0.1, -0.03, 0.02, 0.08])
    for z, co, ci in [(1, 20.0, 490.0), (-1, 560.0, 60.0), (2, 10.0, 1e-4)]:
        got = physics.ghk_current_density(2e-7, z, co, ci, volts, 18.5)
        expected = [ghk_current_textbook(2e-7, z, co, ci, v, 18.5) for v in volts]
        np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("z", [1, -1, 2])
def test_ghk_current_is_finite_and_continuous_at_zero_volts(z):
    p, co, ci = 1e-6, 440.0, 55.0
    limit = p * z * 96485.33212 * (ci - co)  # lim V->0 of the GHK current, A/m^2
    at_zero = physics.ghk_current_density(p, z, co, ci, 0.0, 6.3)
    assert np.isfinite(at_zero)
    assert at_zero == pytest.approx(limit, rel=1e-14)
    # either side of 0 V the function approaches the limit linearly in V
    for v in (1e-9, -1e-9, 1e-6, -1e-6):
        near = physics.ghk_current_density(p, z, co, ci, v, 6.3)
        assert near == pytest.approx(limit, rel=50 * abs(v) / rt_over_f(6.3) + 1e-12)
    # and agrees with the textbook form evaluated away from the singularity
    assert physics.ghk_current_density(p, z, co, ci, 1e-4, 6.3) == pytest.approx(
        ghk_current_textbook(p, z, co, ci, 1e-4, 6.3), rel=1e-9)


def test_q10_factor():
    assert physics.q10_factor(16.3) == pytest.approx(3.0, rel=1e-14)
    assert physics.q10_factor(6.3) == 1.0
    assert physics.q10_factor(26.3) == pytest.approx(9.0, rel=1e-14)
    assert physics.q10_factor(35.0, 3.0, 36.0) == pytest.approx(3.0 ** -0.1, rel=1e-14)


@pytest.mark.parametrize("bad", [-1, 46, float("nan"), float("inf"), "abc", None, [20]])
def test_check_temperature_rejects(bad):
    with pytest.raises(rig.VrigError, match="temperature"):
        physics.check_temperature(bad)


@pytest.mark.parametrize("good", [0, 6.3, "20", 45])
def test_check_temperature_accepts_the_rig_range(good):
    assert physics.check_temperature(good) == float(good)


def test_rig_rejects_a_bad_temperature():
    with pytest.raises(rig.VrigError, match="temperature"):
        rig.Rig.from_presets("hh-squid", temperature_c=50)


BAD_CONCENTRATIONS = [0, 0.0, -1.0, float("nan"), float("inf"), -float("inf")]


@pytest.mark.parametrize("bad", BAD_CONCENTRATIONS)
def test_solutions_reject_bad_concentrations(bad):
    with pytest.raises(rig.VrigError, match="concentration of K"):
        load_solution("squid-seawater").with_ion("K", bad)
    with pytest.raises(rig.VrigError, match="concentration of K"):
        parse_ion_override(f"out:K={bad}")
    with pytest.raises(rig.VrigError, match="concentration of Na"):
        rig.Rig.from_presets("hh-squid", ion_overrides=[f"in:Na={bad}"])


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), -float("inf")])
def test_nernst_rejects_bad_concentrations(bad):
    with pytest.raises(rig.VrigError, match="concentrations > 0"):
        physics.nernst(1, bad, 10.0, T_ROOM)
    with pytest.raises(rig.VrigError, match="concentrations > 0"):
        physics.nernst(1, 10.0, bad, T_ROOM)


def test_nernst_rejects_valence_zero():
    with pytest.raises(rig.VrigError, match="valence 0"):
        physics.nernst(0, 10.0, 1.0, T_ROOM)
