"""Pump kinetics, volumes, energetics and the Donnan solution (rig.model.gradients):
numbers checked by hand."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rig.errors import VrigError
from rig.model import gradients
from rig.model.cell import load_cell
from rig.model.pharmacology import load_drug


def test_presets_keep_concentrations_fixed_by_default():
    for name in ("hh-squid", "cortical-neuron"):
        g = load_cell(name).gradients
        assert (g.accumulation, g.pump) == (False, False)
    squid = load_cell("hh-squid").gradients
    assert squid.volume_um3 == pytest.approx(1000 * 119)  # area x r/2, r = 238 um
    assert squid.space_um3 == pytest.approx(1000 * 0.030)  # 30 nm periaxonal space
    assert squid.space_tau_ms == 50


def test_squid_work_per_cycle_by_hand():
    # RT = 8.314462618 x 279.45 = 2323.5 J/mol; 3 RT ln(440/55) = 14494,
    # 2 RT ln(490/20) = 14865, -F V = 96485.33 x 0.065 = 6271.5 -> 35.63 kJ/mol
    work = gradients.cycle_work_kj_per_mol({"Na": 55, "K": 490}, {"Na": 440, "K": 20},
                                           -65.0, 6.3)
    assert work == pytest.approx(35.630, abs=1e-3)


def test_acsf_k_gluconate_work_per_cycle_by_hand():
    # 35 degC, -70 mV: RT = 2562.1 J/mol; 3 RT ln(152.25/20) = 15602.6,
    # 2 RT ln(140/2.5) = 20627.1, -F V = 6754.0 -> 42.98 kJ/mol, the textbook ~43
    work = gradients.cycle_work_kj_per_mol({"Na": 20, "K": 140}, {"Na": 152.25, "K": 2.5},
                                           -70.0, 35.0)
    assert work == pytest.approx(42.98, abs=0.01)
    # ATP: -30.5 + RT ln(0.25e-3 x 1.65e-3 / 2.25e-3) = -52.55 kJ/mol at 35 degC
    atp = gradients.atp_free_energy_kj_per_mol(35.0)
    assert atp == pytest.approx(52.545, abs=0.01)
    assert work < atp  # the pump can run: ATP pays for a cycle


def test_pump_saturates_and_follows_q10():
    k = gradients.load_pump()
    args = dict(v_mv=0.0, k_out_mm=1e6, na_out_mm=0.0, temperature_c=37.0,
                imax_ua_per_cm2=1.5, imax_temperature_c=37.0, kinetics=k, atp_mm=1e6)
    # with sigma 0, f_NaK at 0 mV is 1/1.1245; Na at Km gives half
    assert gradients.pump_current_density(na_in_mm=10.0, **args) == pytest.approx(
        1.5 / 1.1245 * 0.5, rel=1e-5)
    warm = gradients.pump_current_density(na_in_mm=10.0, **{**args, "temperature_c": 27.0})
    assert warm == pytest.approx(1.5 / 1.1245 * 0.5 / k.q10, rel=1e-3)  # f_NaK barely moves


def test_donnan_with_univalent_impermeant_anion_is_textbook():
    # z = -1: r = osm / (2 (Na_o + K_o)) = 1090 / 920
    bath = {"Na": 440, "K": 20, "Cl": 560, "Ca": 10, "Mg": 50, "SO4": 10}
    state = gradients.donnan(bath, 485 * 1000.0, -1.0, 6.3)
    assert state.ratio == pytest.approx(1090 / 920, rel=1e-12)
    inside = state.inside_mm
    assert inside["Na"] + inside["K"] - inside["Cl"] == pytest.approx(485 / state.volume_um3
                                                                       * 1000, rel=1e-9)


def test_ouabain_blocks_the_pump_from_outside_only():
    drug = load_drug("ouabain")
    assert drug.target == "pump"
    assert drug.fraction(1e-6, "outside", "squid-giant-axon") == pytest.approx(0.5)
    assert drug.fraction(1e-3, "inside", "squid-giant-axon") == 0.0


@given(st.one_of(st.floats(max_value=0.0), st.just(math.nan), st.just(math.inf)))
def test_bad_volumes_are_refused(volume):
    with pytest.raises(VrigError, match="volume"):
        gradients.gradients_from_dict({"volume_um3": volume}, 1000.0, "cell 'x'")


@given(st.one_of(st.floats(max_value=-1e-300), st.just(math.nan)))
def test_bad_pump_densities_are_refused(density):
    with pytest.raises(VrigError, match="pump density"):
        gradients.gradients_from_dict({"volume_um3": 1.0, "pump_imax_uA_per_cm2": density},
                                      1000.0, "cell 'x'")
