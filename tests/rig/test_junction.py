"""The liquid junction potential (generalised Henderson equation) against published
values and limits that follow from the equation itself."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rig.cli.main import main
from rig.errors import VrigError
from rig.model import physics
from rig.model.ions import CHARGE
from rig.model.junction import junction_potential, load_mobilities
from rig.model.solutions import load_solution, scan_solutions

# Whole charges for the published examples (their HEPES is counted as fully anionic).
WHOLE = {"Na": 1, "K": 1, "Cs": 1, "Li": 1, "Cl": -1, "F": -1, "Ca": 2, "Mg": 2,
         "gluconate": -1, "HEPES": -1, "H2PO4": -1, "HCO3": -1, "SO4": -2}


def mobilities_with_fluoride():
    table = dict(load_mobilities())
    table["F"] = 0.753  # Barry's table: 55.4/73.5
    return table


def test_jpcalc_manual_example():
    # JPCalcWin manual p. 7 (Barry): pipette 10 NaCl + 135 CsF, bath 145 NaCl, 20 degC
    v = junction_potential({"Na": 10, "Cl": 10, "Cs": 135, "F": 135},
                           {"Na": 145, "Cl": 145}, 20.0, mobilities_with_fluoride(), WHOLE)
    assert v * 1e3 == pytest.approx(8.74, abs=0.01)


def test_ng_and_barry_divalent_example():
    # Ng & Barry 1995 J Neurosci Methods 56:37 table 2 (last row): 50 CaCl2 + 50 MgCl2
    # against 100 LiCl, -8.2 mV at 25 degC with activities; concentrations give -8.39
    v = junction_potential({"Ca": 50, "Mg": 50, "Cl": 200}, {"Li": 100, "Cl": 100}, 25.0,
                           charge=WHOLE)
    assert v * 1e3 == pytest.approx(-8.2, abs=0.3)


def test_k_gluconate_against_acsf():
    # Walz (ed.) Patch-Clamp Analysis, 2nd ed. (2007) p. 191: +15.7 mV at 25 degC by a
    # Nernst-Planck solution; Henderson with the same mobilities gives 15.0 mV
    pipette = {"K": 125, "Na": 4.25, "Mg": 1, "Cl": 2, "gluconate": 125, "HEPES": 10}
    bath = {"Na": 152.2, "K": 3, "Ca": 2.4, "Mg": 1.5, "Cl": 133.8, "H2PO4": 1.2,
            "HCO3": 25, "SO4": 1.5}
    assert junction_potential(pipette, bath, 25.0, charge=WHOLE) * 1e3 == pytest.approx(
        15.7, abs=0.8)
    shipped = junction_potential(load_solution("k-gluconate").concentrations_mm,
                                 load_solution("acsf").concentrations_mm)
    assert 14.5 < shipped * 1e3 < 16.5


def test_classic_chloride_pairs():
    # bi-ionic KCl | NaCl (Lewis): (RT/F) ln((u_K + u_Cl) / (u_Na + u_Cl)), bath positive
    u = load_mobilities()
    expected = physics.thermal_voltage(25.0) * math.log(
        (u["K"] + u["Cl"]) / (u["Na"] + u["Cl"]))
    v = junction_potential({"K": 150, "Cl": 150}, {"Na": 150, "Cl": 150})
    assert v == pytest.approx(expected, rel=1e-12)
    assert v * 1e3 == pytest.approx(4.36, abs=0.01)
    # a dilution junction of one salt: (u+ - u-)/(u+ + u-) (RT/F) ln(c_pip / c_bath);
    # 100 | 10 mM NaCl is -12.3 mV: chloride, faster, makes the dilute side negative
    v = junction_potential({"Na": 100, "Cl": 100}, {"Na": 10, "Cl": 10})
    ratio = (u["Na"] - u["Cl"]) / (u["Na"] + u["Cl"])
    assert v == pytest.approx(ratio * physics.thermal_voltage(25.0) * math.log(10), rel=1e-12)


def test_every_charged_species_has_a_mobility():
    table = load_mobilities()
    charged = {species for species, z in CHARGE.items() if z != 0}
    assert charged <= set(table)
    solutions, problems = scan_solutions()
    assert not problems
    for bath in solutions.values():
        for pipette in solutions.values():
            v = junction_potential(pipette.concentrations_mm, bath.concentrations_mm)
            assert abs(v) < 0.05


@given(st.dictionaries(st.sampled_from(["Na", "K", "Cl", "Ca", "gluconate"]),
                       st.floats(0.01, 500), min_size=1),
       st.floats(0.0, 45.0))
def test_same_solution_on_both_sides_has_no_junction(solution, temperature):
    if all(CHARGE[s] == 0 for s in solution):
        return
    assert junction_potential(solution, solution, temperature) == 0.0


@given(st.floats(1, 500), st.floats(1, 500))
def test_swapping_the_sides_flips_the_sign(a, b):
    one = {"K": a, "Cl": a}
    other = {"Na": b, "Cl": b}
    assert junction_potential(one, other) == pytest.approx(-junction_potential(other, one),
                                                           rel=1e-9, abs=1e-15)


def test_an_ion_without_mobility_is_refused():
    with pytest.raises(VrigError, match="no ionic mobility is known for F"):
        junction_potential({"K": 140, "F": 140}, {"Na": 150, "Cl": 150}, charge=WHOLE)


def test_vrig_ljp_prints_one_line(capsys):
    assert main(["ljp", "--bath", "acsf", "--pipette", "k-gluconate"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("liquid_junction_potential: ") and out.endswith(" mV\n")
    assert 14.5 < float(out.split()[1]) < 16.5


@pytest.mark.parametrize("args", [
    ["--bath", "nope", "--pipette", "acsf"],
    ["--bath", "acsf", "--pipette", "acsf", "--temperature", "nan"],
    ["--bath", "acsf", "--pipette", "acsf", "--temperature", "-5"],
    ["--bath", "acsf", "--pipette", "acsf", "--ion", "in:K=-3"],
    ["--bath", "acsf", "--pipette", "acsf", "--ion", "in:F=3"],
])
def test_vrig_ljp_bad_input_is_one_error_line(args, capsys):
    assert main(["ljp", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vrig: error: ") and err.count("\n") == 1


def test_uncorrected_junction_is_an_offset_of_the_reading_and_of_the_clamp():
    from rig.clamp import Mode
    from rig.simulation.engine import Rig

    # K-gluconate pipette in ACSF, an ideal clamp (no drop across Rs)
    rig = Rig.from_presets("cortical-neuron", series_resistance=0)
    ljp = junction_potential(rig.pipette.concentrations_mm, rig.bath.concentrations_mm,
                             rig.temperature_c)
    assert rig.amplifier.junction_potential == pytest.approx(ljp)
    assert rig.amplifier.junction_correction  # corrected by default: figures unchanged
    true_rest = rig.advance([0.0] * 10, 1e-4)
    rig.set_amplifier(junction_correction=False)
    rig.settle()
    error = rig.advance([0.0] * 10, 1e-4)
    # the same cell at the same potential; only the reading is off, by +LJP
    assert error["Vmem"] == pytest.approx(true_rest["Vmem"], abs=1e-9)
    assert error["Vm"] - true_rest["Vm"] == pytest.approx(np.full(10, ljp), abs=1e-9)
    # in voltage clamp the amplifier holds its reading: the membrane sits LJP below
    rig.set_mode(Mode.VC)
    rig.set_holding(-0.070)
    rig.settle()
    held = rig.advance(np.full(10, -0.070), 1e-4)
    assert held["Vmem"] == pytest.approx(np.full(10, -0.070 - ljp), abs=1e-6)
    assert held["Vm"] == pytest.approx(np.full(10, -0.070), abs=1e-6)


def test_the_junction_is_nulled_with_each_new_pipette_not_each_bath():
    from rig.simulation.engine import Rig

    rig = Rig.from_presets("cortical-neuron")
    nulled = rig.amplifier.junction_potential
    rig.set_solutions(bath=load_solution("nmdg-bath"))
    assert rig.amplifier.junction_potential == nulled
    rig.set_solutions(pipette=load_solution("acsf"))  # nulled in the NMDG bath of now
    assert rig.amplifier.junction_potential == pytest.approx(junction_potential(
        load_solution("acsf").concentrations_mm, load_solution("nmdg-bath").concentrations_mm,
        rig.temperature_c))


def test_vrig_run_records_the_junction_and_its_correction(tmp_path):
    out = tmp_path / "x.csv"
    assert main(["run", "cc-threshold", "--cell", "cortical-neuron", "--ljp-correction",
                 "off", "-o", str(out)]) == 0
    header = [line for line in out.read_text().splitlines() if line.startswith("#")]
    assert "# ljp_correction: off" in header
    assert any(line.startswith("# liquid_junction_potential_mV: 16.") for line in header)
