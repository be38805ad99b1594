"""Concentrations as state and the pump on the running rig: conservation, the pump's
stoichiometry, the block length against a per-step reference, the fast-forward
against the full kernel, the pump-leak steady state and the Donnan run-down."""

import numpy as np
import pytest

from rig.errors import VrigError
from rig.model import gradients
from rig.simulation import fast_forward as ff
from rig.simulation import ion_blocks
from rig.simulation.accumulation import AMOL_PER_FC
from rig.simulation.engine import Rig

SAMPLE_S = 1e-5


def squid(**kwargs):
    rig = Rig.from_presets("hh-squid", accumulation=True, **kwargs)
    return rig


def spike_train(rig, duration_s=0.05):
    """CC: 2 ms pulses of 300 pA (30 uA/cm^2) every 10 ms."""
    rig.set_mode("CC")
    n = round(duration_s / SAMPLE_S)
    command = np.zeros(n)
    for start in range(0, n, 1000):
        command[start + 100: start + 300] = 300e-12
    return rig.advance(command, SAMPLE_S)


def test_default_rig_has_no_ion_state():
    assert Rig.from_presets("hh-squid").ions is None


def test_charge_carried_equals_change_in_amounts():
    rig = squid(pump=True)
    s = rig.ions
    before = dict(s.amol), s.space_k_amol
    out = spike_train(rig, 0.1)
    assert out["Vmem"].max() > 0.02  # it fired
    cycles = s.pump_cycles_amol
    na = before[0]["Na"] - s.carried_fc["Na"] * AMOL_PER_FC - 3 * cycles
    k = before[0]["K"] - s.carried_fc["K"] * AMOL_PER_FC + 2 * cycles
    cl = before[0]["Cl"] + s.carried_fc["Cl"] * AMOL_PER_FC
    assert s.amol["Na"] == pytest.approx(na, rel=1e-13)
    assert s.amol["K"] == pytest.approx(k, rel=1e-13)
    assert s.amol["Cl"] == pytest.approx(cl, rel=1e-13)
    # K that left the cell is in the space or went on to the bath
    k_left = before[0]["K"] - s.amol["K"]
    assert s.space_k_amol - before[1] + s.to_bath_k_amol == pytest.approx(k_left, rel=1e-9)
    assert s.inside_mm()["Na"] > 55.0  # spikes load Na


def test_pump_current_is_one_third_of_its_na_flux():
    rig = squid(pump=True)
    rig.set_mode("I0")
    out = rig.advance(np.zeros(5000), SAMPLE_S)
    pump_fc = out["Ipump"].sum() * 1e12 * SAMPLE_S * 1e3  # pA x ms
    na_pumped_fc = 3 * rig.ions.pump_cycles_amol / AMOL_PER_FC
    assert pump_fc > 0
    assert pump_fc == pytest.approx(na_pumped_fc / 3, rel=1e-12)


def test_block_length_against_a_per_step_reference(monkeypatch):
    """BLOCK_S (1 ms) against reversals refreshed every 10 us step, over 5 spikes."""
    results = []
    for block in (ion_blocks.BLOCK_S, SAMPLE_S):
        monkeypatch.setattr(ion_blocks, "BLOCK_S", block)
        rig = squid(pump=True)
        spike_train(rig, 0.05)
        results.append((rig.ions.inside_mm()["Na"], rig.ions.k_out_mm()))
    (na_block, k_block), (na_step, k_step) = results
    # Na rises by 0.0051 mM in 50 ms; 1 ms blocks get that gain within 0.14 %
    assert abs(na_block - na_step) < 3e-3 * abs(na_step - 55.0)
    assert abs(k_block - k_step) < 2e-3 * abs(k_step - 20.0)


def test_fast_forward_matches_the_full_kernel():
    """Pump off, at rest in I=0: 2 s of the full kernel against 2 s fast-forwarded."""
    full = squid(pump=False)
    full.set_mode("I0")
    full.advance(np.zeros(20000), 1e-4)
    fast = squid(pump=False)
    fast.set_mode("I0")
    ff.fast_forward(fast, 2.0)
    d_full = full.ions.inside_mm()["Na"] - 55.0
    d_fast = fast.ions.inside_mm()["Na"] - 55.0
    assert d_full > 0
    assert d_fast == pytest.approx(d_full, rel=2e-3)
    assert fast.ions.k_out_mm() == pytest.approx(full.ions.k_out_mm(), rel=1e-4)
    assert fast.membrane_potential == pytest.approx(full.membrane_potential, abs=2e-5)


def test_pump_leak_steady_state_holds_still():
    rig = squid(pump=True)
    rig.set_mode("I0")
    ff.fast_forward(rig, 3e6)  # a month: to the pump-leak steady state
    trace = ff.fast_forward(rig, 3600.0)
    assert ff.rundown_bound_mm(trace) < 1e-3  # mM over an hour
    na = rig.ions.inside_mm()["Na"]
    rig.advance(np.zeros(10000), 1e-4)  # and one second of the full kernel
    assert abs(rig.ions.inside_mm()["Na"] - na) < 1e-6


def test_without_pump_the_cell_runs_down_to_donnan():
    rig = squid(pump=False)
    rig.set_mode("I0")
    rig.apply_drug("TTX", 1e-6, steady_state=True)
    trace = ff.fast_forward(rig, 1e10)
    s = rig.ions
    state = gradients.donnan(rig.bath.concentrations_mm, s.impermeant_amol,
                             s.impermeant_charge, rig.temperature_c)
    for ion in ("Na", "K", "Cl"):
        assert s.inside_mm()[ion] == pytest.approx(state.inside_mm[ion], rel=1e-4)
    assert trace.v_mv[-1] == pytest.approx(state.v_mv, abs=0.01)
    assert s.volume_um3 == pytest.approx(state.volume_um3, rel=1e-4)
    assert s.volume_um3 > 6 * 119000  # it swelled


def test_fast_forward_refuses_to_skip_spikes():
    rig = squid(pump=True)
    rig.set_mode("CC")
    rig.set_holding(150e-12)  # 15 uA/cm^2: HH fires repetitively
    na = rig.ions.inside_mm()["Na"]
    with pytest.raises(VrigError, match="skip spikes"):
        ff.fast_forward(rig, 60.0)
    assert rig.ions.inside_mm()["Na"] == na


def test_ouabain_stops_the_pump():
    rig = squid(pump=True)
    rig.set_mode("I0")
    rig.apply_drug("ouabain", 1e-3, steady_state=True)
    out = rig.advance(np.zeros(1000), SAMPLE_S)
    assert abs(out["Ipump"]).max() < 1.1e-3 * 18e-12  # 1 mM at IC50 1 uM leaves 0.1 %


def test_fast_forward_carries_a_drug_that_is_still_washing_in():
    """Ouabain at 1 mM applied (wash-in tau 30 s) and fast-forwarded 10 min: the drug
    arrives as perfusion has it; 1000 x its IC50, it half-blocks the pump within 30 ms
    and blocks 99 % within 3 s, so the run-down is within 1 % of a block at once."""
    moving = squid(pump=True)
    moving.set_mode("I0")
    moving.apply_drug("ouabain", 1e-3)
    ff.fast_forward(moving, 600.0)
    assert moving.perfusion.present[("ouabain", "outside")] == pytest.approx(
        1e-3 * (1 - np.exp(-600 / 30)), rel=1e-9)
    at_once = squid(pump=True)
    at_once.set_mode("I0")
    at_once.apply_drug("ouabain", 1e-3, steady_state=True)
    ff.fast_forward(at_once, 600.0)
    gain_moving = moving.ions.inside_mm()["Na"] - 55.0
    gain_at_once = at_once.ions.inside_mm()["Na"] - 55.0
    assert gain_moving < gain_at_once
    assert gain_moving == pytest.approx(gain_at_once, rel=0.01)


def test_repetitive_firing_loads_na_and_periaxonal_k_and_the_pump_follows():
    rig = squid(pump=True)
    rig.set_mode("CC")
    rig.set_holding(150e-12)  # 15 uA/cm^2: HH fires repetitively (about 70 Hz at 6.3 degC)
    first = rig.advance(np.zeros(2000) + 150e-12, SAMPLE_S)
    later = rig.advance(np.zeros(30000) + 150e-12, SAMPLE_S)
    spikes = np.count_nonzero(np.diff((later["Vmem"] > 0).astype(int)) == 1)
    assert spikes >= 15
    assert rig.ions.inside_mm()["Na"] > 55.0
    # Frankenhaeuser & Hodgkin: K piles up in the periaxonal space during a train
    assert later["K_out"][-1] > first["K_out"][0] + 1.0
    assert later["Ipump"][-100:].mean() > first["Ipump"][:100].mean()


def test_cortical_neuron_in_voltage_clamp_through_rs():
    rig = Rig.from_presets("cortical-neuron", accumulation=True, pump=True)
    rig.set_mode("VC")
    rig.set_holding(-0.07)
    command = np.full(3000, -0.07)
    command[1000:2000] = 0.0
    out = rig.advance(command, SAMPLE_S)
    assert out["INa"].min() < -1e-9  # the step opens Na channels
    assert rig.ions.inside_mm()["Na"] > 20.0  # K-gluconate pipette: 20 mM Na to start
