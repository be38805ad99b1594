"""Solutions as a lab makes them up (issue 8 item 10, issue 9 item 11): every shipped
solution is electroneutral and its osmolarity is what its recipe gives by hand;
substitution replaces an ion by an equal charge of another; changing one ion alone is
flagged with the excess charge; concentrations outside 1 uM (10 nM for Ca) to 2 M are
refused with the range, so no reversal potential goes beyond a few hundred mV.

Hand sums (mM): ACSF cations Na 152.25 + K 2.5 + 2 x Ca 2 + 2 x Mg 1 = 160.75, anions
Cl 133.5 + HCO3 26 + H2PO4 1.25 = 160.75; solutes 152.25 + 2.5 + 133.5 + 2 + 1 + 26 +
1.25 + 25 (glucose) = 343.5 mOsm ideal, 0.93 x 318.5 + 25 = 321.205 estimated.
Squid sea water 440 + 20 + 20 + 100 = 580 = 560 + 2 x 10 (SO4); 1090 mOsm, as the
axoplasm 55 + 490 = 545 = 60 + 75 + 410 (isethionate), 1090 mOsm: isosmotic.
K-gluconate K 140 + Na 20 + 2 x Mg 4 = 168; gluconate 123 + Cl 5 + 2 x 10 (PCr) +
4 x 4 (ATP) + 0.39 x 10 (HEPES at pH 7.3) = 167.9; 316 mOsm ideal.
"""

import math

import pytest

import rig
from rig.errors import VrigError
from rig.model import physics
from rig.model.solutions import (
    OSMOTIC_COEFFICIENT,
    Solution,
    charge_balance_mm,
    charge_problem,
    check_concentration,
    load_solution,
    osmolarity_mosm,
    parse_ion_override,
    substitute,
)

BY_HAND = {  # name: (net charge mEq/L, ideal mOsm, estimated mOsm)
    "acsf": (0.0, 343.5, 0.93 * 318.5 + 25),
    "high-k-bath": (0.0, 343.5, 0.93 * 318.5 + 25),
    "nmdg-bath": (0.0, 343.5, 0.93 * 318.5 + 25),
    "squid-seawater": (0.0, 1090.0, 0.93 * 1090),
    "squid-axoplasm": (0.0, 1090.0, 0.93 * 1090),
    "k-gluconate": (168.0 - 167.9, 316.0, 0.93 * 316),
}


@pytest.mark.parametrize("name", sorted(BY_HAND))
def test_shipped_solutions_are_electroneutral_with_their_osmolarity_by_hand(name):
    solution = load_solution(name)
    charge, ideal, estimate = BY_HAND[name]
    got_ideal, got_estimate = osmolarity_mosm(solution)
    print(f"{name}: charge {charge_balance_mm(solution):+.3f} mEq/L, {got_ideal:g} mOsm ideal, "
          f"{got_estimate:.1f} estimated; {charge_problem(solution) or 'electroneutral'}")
    assert charge_balance_mm(solution) == pytest.approx(charge, abs=1e-9)
    assert got_ideal == pytest.approx(ideal, rel=1e-12)
    assert got_estimate == pytest.approx(estimate, rel=1e-12)
    assert charge_problem(solution) == ""
    assert OSMOTIC_COEFFICIENT == 0.93


def test_the_squid_solutions_are_isosmotic_and_the_mammalian_ones_close():
    assert osmolarity_mosm(load_solution("squid-seawater")) == osmolarity_mosm(
        load_solution("squid-axoplasm"))
    bath, pipette = (osmolarity_mosm(load_solution(n))[1] for n in ("acsf", "k-gluconate"))
    assert abs(bath - pipette) / bath < 0.1  # within 10 %, as a lab would make them


def test_lowering_bath_na_alone_is_flagged_with_the_excess_charge():
    """The issue's case: 10 % Na in the squid bath with Cl unchanged is 396 mM of anion
    without a cation -- no lab could make it; replacing Na by NMDG keeps the balance."""
    bath = load_solution("squid-seawater")
    raw = bath.with_ion("Na", 44)
    assert charge_balance_mm(raw) == pytest.approx(-396.0, rel=1e-12)
    assert charge_problem(raw).startswith("not electroneutral: 396.0 mM more anions")
    swapped = substitute(bath, "Na", "NMDG", percent=90)
    print(f"{raw.name}: {charge_problem(raw)}; {swapped.name}: "
          f"{swapped.concentrations_mm}, charge {charge_balance_mm(swapped):+g}")
    assert swapped.mm("Na") == pytest.approx(44.0, rel=1e-12)
    assert swapped.mm("NMDG") == pytest.approx(396.0, rel=1e-12)
    assert charge_balance_mm(swapped) == pytest.approx(0.0, abs=1e-9)
    assert osmolarity_mosm(swapped) == pytest.approx(osmolarity_mosm(bath), rel=1e-12)
    assert swapped.name == "squid-seawater (396 mM Na -> NMDG)"
    # E_Na moves as for the raw edit: only the Na concentration matters to Nernst
    e_raw = rig.Rig(rig.Rig.from_presets("hh-squid").cell, raw, load_solution("squid-axoplasm"))
    e_swap = rig.Rig(e_raw.cell, swapped, e_raw.pipette)
    assert e_swap.reversal_potentials()["Na"] == e_raw.reversal_potentials()["Na"]


@pytest.mark.parametrize("ion, replacement, kwargs, expected", [
    ("K", "Na", {"amount_mm": 2.5}, {"K": None, "Na": 154.75}),  # all K by Na
    ("Cl", "gluconate", {"percent": 50}, {"Cl": 66.75, "gluconate": 66.75}),
    ("Na", "choline", {"amount_mm": 26}, {"Na": 126.25, "choline": 26}),
    ("Ca", "Mg", {"percent": 100}, {"Ca": None, "Mg": 3}),
    ("Cl", "SO4", {"amount_mm": 10}, {"Cl": 123.5, "SO4": 5}),  # one SO4 for two Cl
])
def test_substitution_keeps_the_charge_balance(ion, replacement, kwargs, expected):
    acsf = load_solution("acsf")
    swapped = substitute(acsf, ion, replacement, **kwargs)
    for species, mm in expected.items():
        assert swapped.concentrations_mm.get(species) == (None if mm is None else
                                                          pytest.approx(mm, rel=1e-12))
    assert charge_balance_mm(swapped) == pytest.approx(0.0, abs=1e-9)
    ideal_change = osmolarity_mosm(swapped)[0] - osmolarity_mosm(acsf)[0]
    # same valence: osmolarity unchanged; SO4 for Cl: 5 fewer particles
    assert ideal_change == pytest.approx(-5.0 if replacement == "SO4" else 0.0, abs=1e-9)


@pytest.mark.parametrize("ion, replacement, kwargs, words", [
    ("Na", "gluconate", {"percent": 50}, "same sign"),
    ("Na", "glucose", {"percent": 50}, "same sign"),
    ("Na", "Na", {"percent": 50}, "another known species"),
    ("Na", "Xe", {"percent": 50}, "another known species"),
    ("Cs", "Na", {"percent": 50}, "has no Cs"),
    ("Na", "NMDG", {"percent": 150}, "at most 100"),
    ("Na", "NMDG", {"percent": 0}, "above 0"),
    ("Na", "NMDG", {"amount_mm": 200}, "at most the 152.25 mM"),
    ("Na", "NMDG", {"amount_mm": float("nan")}, "amount"),
    ("Na", "NMDG", {}, "either an amount"),
    ("Na", "NMDG", {"amount_mm": 1, "percent": 1}, "either an amount"),
    ("Na", "NMDG", {"percent": True}, "percentage"),
])
def test_bad_substitutions_are_refused_with_what_is_allowed(ion, replacement, kwargs, words):
    with pytest.raises(VrigError, match=words):
        substitute(load_solution("acsf"), ion, replacement, **kwargs)


@pytest.mark.parametrize("text", ["in:K=1e-300", "out:Na=1e-300", "in:K=0.0009",
                                  "out:Ca=1e-6", "out:Na=2001", "in:Cl=1e9"])
def test_absurd_concentrations_are_refused_with_the_allowed_range(text):
    """The issue's `--ion in:K=1e-300` gave E_K = +16,707 mV; now the range is said."""
    with pytest.raises(VrigError, match=r"use (0\.001|1e-05) to 2000 mM"):
        parse_ion_override(text)
    with pytest.raises(VrigError, match="not allowed"):
        rig.Rig.from_presets("hh-squid", ion_overrides=[text])


def test_the_widest_allowed_gradients_stay_below_membrane_breakdown():
    """At the range's ends and 45 degC a monovalent Nernst potential is
    RT/F ln(2000 / 0.001) = 27.42 mV x 14.51 = 397.8 mV, and Ca's (z = 2, 10 nM)
    13.71 mV x ln(2e8) = 262.0 mV: within the +/-400 mV the membrane survives."""
    for ion, low in (("K", 1e-3), ("Ca", 1e-5)):
        check_concentration(ion, low)
        z = 2 if ion == "Ca" else 1
        e = physics.nernst(z, 2000.0, low, 45.0)
        expected = physics.thermal_voltage(45.0) / z * math.log(2000.0 / low)
        assert e == pytest.approx(expected, rel=1e-12)
        assert abs(e) < 0.4
    assert physics.nernst(1, 2000.0, 1e-3, 45.0) == pytest.approx(0.39777, abs=1e-5)


def test_a_solution_of_unknown_species_is_refused():
    with pytest.raises(VrigError, match="unknown ion 'Xe'"):
        check_concentration("Xe", 1.0)
    assert charge_balance_mm(Solution("x", {"glucose": 10.0})) == 0.0
