"""Solutions and temperature against hand calculations (issue 4): Nernst potentials of
the shipped solution presets, the I_Na reversal in 10 % bath Na (measured as the
experimenter does, from the TTX-sensitive current), bath K depolarising the rest until
the Na channels inactivate and the cell stops firing, Q10 kinetics and RT/F
reversals, and clear errors for bad solutions and temperatures.

Hand calculation: E = (RT/zF) ln(c_out/c_in), with RT/F = 24.081 mV at 6.3 degC,
25.434 mV at 22 degC and 26.554 mV at 35 degC (R = 8.314462618 J/mol/K,
F = 96485.33212 C/mol, T = t + 273.15 K).
"""

import math

import numpy as np
import pytest
from helpers import SAMPLE_MS, cc_pulse, spike_count, zero_crossing

import rig
from rig.errors import VrigError
from rig.model import physics
from rig.model.solutions import Solution, check_concentration, load_solution, parse_ion_override
from rig.protocols.protocol import protocol_from_dict, render_sweep
from rig.simulation import reference

# (cell, bath) -> {ion: mV}, worked by hand from the preset concentrations (mM):
HAND = {
    # squid seawater Na 440 K 20 Cl 560 / axoplasm Na 55 K 490 Cl 60, 6.3 degC:
    # 24.081 ln 8 = 50.08; 24.081 ln(20/490) = -77.03; -24.081 ln(560/60) = -53.79
    # leak (mS/cm^2) K 0.16485, Na 0.03515, Cl 0.1: chord reversal -54.39 (HH's -54.4)
    ("hh-squid", None): {"Na": 50.08, "K": -77.03, "Cl": -53.79, "leak": -54.39},
    # ACSF Na 152.25 K 2.5 Cl 133.5 / K-gluconate Na 20 K 140 Cl 5, 35 degC:
    # 26.554 ln 7.6125 = 53.90; 26.554 ln(2.5/140) = -106.89; -26.554 ln(26.7) = -87.22
    ("cortical-neuron", None): {"Na": 53.90, "K": -106.89, "Cl": -87.22, "leak": -70.00},
    # high-K ACSF Na 124.75 K 30: 26.554 ln 6.2375 = 48.61; 26.554 ln(30/140) = -40.91
    ("cortical-neuron", "high-k-bath"): {"Na": 48.61, "K": -40.91, "Cl": -87.22},
    # NMDG bath, Na 1: 26.554 ln(1/20) = -79.55
    ("cortical-neuron", "nmdg-bath"): {"Na": -79.55, "K": -106.89},
    # model cell at 22 degC in ACSF / K-gluconate: 25.434 ln 7.6125 = 51.63,
    # 25.434 ln(2.5/140) = -102.38, -25.434 ln 26.7 = -83.54; its leak is a resistor (0 mV)
    ("model-cell", None): {"Na": 51.63, "K": -102.38, "Cl": -83.54, "leak": 0.0},
}


@pytest.mark.parametrize("cell, bath", list(HAND))
def test_reversal_potentials_from_the_presets_match_hand_calculations(cell, bath):
    setup = rig.Rig.from_presets(cell, bath=bath)
    e_mv = {ion: v * 1e3 for ion, v in setup.reversal_potentials().items()}
    metadata = dict(item.split("=") for item in setup.metadata()["E_rev_mV"].split())
    print(f"{cell} in {setup.bath.name} at {setup.temperature_c:g} degC: "
          + ", ".join(f"E_{ion} {v:.3f}" for ion, v in e_mv.items()))
    for ion, hand in HAND[(cell, bath)].items():
        assert e_mv[ion] == pytest.approx(hand, abs=0.006)  # hand values to 0.01 mV
        assert float(metadata[ion]) == pytest.approx(hand, abs=0.06)  # written to 0.1 mV
    assert "Ca" not in e_mv  # no Ca inside the pipette: E_Ca is undefined, not invented


def na_family(levels_mv):
    step = float(levels_mv[1] - levels_mv[0])
    return protocol_from_dict({
        "format": "vrig-protocol", "version": 1, "name": "E_Na family", "mode": "VC",
        "holding": -65, "sample_rate_khz": 50, "sweeps": len(levels_mv),
        "sweep_interval_ms": 0,
        "epochs": [{"kind": "step", "duration_ms": 2, "level": -65},
                   {"kind": "step", "duration_ms": 3, "level": float(levels_mv[0]),
                    "level_delta": step}]})


def ttx_sensitive_reversal(ion_overrides, levels_mv):
    """Zero of the TTX-sensitive current (control - 1 uM TTX) 0.5 ms into each step."""
    protocol = na_family(levels_mv)
    control = rig.Rig.from_presets("hh-squid", ion_overrides=ion_overrides).run(protocol)
    blocked = rig.Rig.from_presets("hh-squid", ion_overrides=ion_overrides)
    blocked.apply_drug("TTX", 1e-6, steady_state=True)
    blocked = blocked.run(protocol)
    at = render_sweep(protocol, 0).epoch_starts[1] + int(round(0.5 / SAMPLE_MS))
    currents = np.array([control.sweep("Im", k)[at] - blocked.sweep("Im", k)[at]
                         for k in range(protocol.sweeps)])
    return zero_crossing(levels_mv, currents), currents


def test_ten_percent_bath_na_moves_the_na_current_reversal_by_55_mv():
    expected_shift = physics.thermal_voltage(6.3) * math.log(0.1) * 1e3
    e_control, i_control = ttx_sensitive_reversal([], np.arange(45.0, 56.0, 1.0))
    e_low, i_low = ttx_sensitive_reversal(["out:Na=44"], np.arange(-10.0, 1.0, 1.0))
    print(f"TTX-sensitive current reverses at {e_control:.3f} mV in 440 mM Na and "
          f"{e_low:.3f} mV in 44 mM: shift {e_low - e_control:.3f} mV (RT/F ln 0.1 = "
          f"{expected_shift:.3f} mV); currents 0.5 ms into the steps (nA): "
          f"{(i_control[[0, -1]] * 1e9).round(2).tolist()}, "
          f"{(i_low[[0, -1]] * 1e9).round(2).tolist()}")
    assert expected_shift == pytest.approx(-55.45, abs=0.01)
    assert e_control == pytest.approx(50.08, abs=0.1)
    assert e_low == pytest.approx(50.075 + expected_shift, abs=0.1)
    assert e_low - e_control == pytest.approx(expected_shift, abs=0.2)


def test_raising_bath_k_depolarises_sub_nernstian_until_the_cell_stops_firing():
    """hh-squid: 20 mM (control) fires; at 80 and 160 mM the rest sits so high that h is
    under 5 %: a pulse gets no regenerative Na help (compare with TTX), no spike."""
    rest, e_k, na_boost, h_rest, spikes = {}, {}, {}, {}, {}
    for k in (20, 80, 160):
        setup = rig.Rig.from_presets("hh-squid", ion_overrides=[f"out:K={k}"])
        blocked = rig.Rig.from_presets("hh-squid", ion_overrides=[f"out:K={k}"])
        blocked.apply_drug("TTX", 1e-6, steady_state=True)
        rest[k] = setup.resting_potential() * 1e3
        e_k[k] = setup.reversal_potentials()["K"] * 1e3
        h_rest[k] = float(reference.steady_gates(setup.membrane(), rest[k])[1])
        v = cc_pulse(setup, 1000.0, 1.0, before_ms=1.0, after_ms=20.0)
        v_ttx = cc_pulse(blocked, 1000.0, 1.0, before_ms=1.0, after_ms=20.0)
        na_boost[k] = v.max() - v_ttx.max()
        spikes[k] = spike_count(v)
    print("bath K (mM): rest (mV), E_K (mV), h at rest, Na's addition to the peak of a 1 nA "
          "pulse (mV), spikes:",
          {k: (round(rest[k], 2), round(e_k[k], 2), round(h_rest[k], 3), round(na_boost[k], 1),
               spikes[k]) for k in rest})
    for low, high in ((20, 80), (80, 160)):
        assert 0 < rest[high] - rest[low] < e_k[high] - e_k[low]  # sub-Nernstian
    assert spikes[20] == 1 and na_boost[20] > 50.0
    for k in (80, 160):
        assert h_rest[k] < 0.05
        assert spikes[k] == 0 and na_boost[k] < 10.0


def test_high_k_bath_preset_silences_the_cortical_neuron():
    counts, rests = {}, {}
    for bath in ("acsf", "high-k-bath"):
        setup = rig.Rig.from_presets("cortical-neuron", bath=bath)
        rests[bath] = setup.resting_potential() * 1e3
        counts[bath] = spike_count(cc_pulse(setup, 100.0, 200.0, before_ms=5.0, after_ms=5.0))
    e_k_shift = physics.thermal_voltage(35.0) * math.log(30 / 2.5) * 1e3
    print(f"cortical neuron, 100 pA for 200 ms: {counts} spikes; rest {rests} mV "
          f"(shift {rests['high-k-bath'] - rests['acsf']:.1f} mV, E_K shift {e_k_shift:.1f} mV)")
    assert counts["acsf"] >= 10 and counts["high-k-bath"] == 0
    assert 0 < rests["high-k-bath"] - rests["acsf"] < e_k_shift


# --- temperature -----------------------------------------------------------------------

def conductances(temperature_c, interval_s, n, setup=None):
    setup = setup or rig.Rig.from_presets("hh-squid", temperature_c=temperature_c)
    setup.set_mode("VC")
    setup.set_holding(-0.065)
    setup.settle()
    return setup.advance(np.full(n, -0.020), interval_s)


def test_kinetics_scale_with_q10():
    """In an ideal clamp the gates see a fixed voltage, so raising the temperature by
    10 degC (Q10 = 3) runs the same conductance time course exactly 3 times faster:
    sample k at 10 us and 16.3 degC is sample k at 30 us and 6.3 degC."""
    cold = conductances(6.3, 30e-6, 400)
    warm = conductances(16.3, 10e-6, 400)
    hot = conductances(26.3, 10e-6 / 3, 400)
    peak = {label: int(np.argmax(s["gNa"])) * dt * 1e3 + dt * 1e3 for label, s, dt in
            (("6.3", cold, 30e-6), ("16.3", warm, 10e-6), ("26.3", hot, 10e-6 / 3))}
    print(f"time to peak gNa at -20 mV (ms): {peak}; ratios "
          f"{peak['6.3'] / peak['16.3']:.4f}, {peak['6.3'] / peak['26.3']:.4f}; "
          f"physics.q10_factor(16.3) = {physics.q10_factor(16.3):.6f}")
    for name in ("gNa", "gK", "m", "h", "n"):
        np.testing.assert_allclose(warm[name], cold[name], rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(hot[name], cold[name], rtol=1e-9, atol=1e-15)
    assert peak["6.3"] / peak["16.3"] == pytest.approx(3.0, rel=1e-9)
    assert physics.q10_factor(16.3) == pytest.approx(3.0, rel=1e-12)


def test_set_temperature_on_a_running_rig_matches_a_new_rig():
    setup = rig.Rig.from_presets("hh-squid")
    conductances(6.3, 10e-6, 50, setup)  # compile and use the 6.3 degC membrane first
    setup.set_temperature(16.3)
    changed = conductances(None, 10e-6, 300, setup)
    fresh = conductances(16.3, 10e-6, 300)
    for name in ("gNa", "gK", "Im", "INa"):
        np.testing.assert_allclose(changed[name], fresh[name], rtol=1e-12)
    assert setup.reversal_potentials() == rig.Rig.from_presets(
        "hh-squid", temperature_c=16.3).reversal_potentials()


@pytest.mark.parametrize("temperature_c", [0.0, 20.0, 37.0, 45.0])
def test_reversal_potentials_scale_with_absolute_temperature(temperature_c):
    reference = rig.Rig.from_presets("hh-squid").reversal_potentials()
    other = rig.Rig.from_presets("hh-squid", temperature_c=temperature_c).reversal_potentials()
    factor = (temperature_c + 273.15) / (6.3 + 273.15)
    print(f"{temperature_c:g} degC: "
          + ", ".join(f"E_{ion} {other[ion] * 1e3:.3f} mV" for ion in other)
          + f" (x {factor:.5f} of 6.3 degC)")
    for ion in ("Na", "K", "Cl", "leak"):
        assert other[ion] == pytest.approx(reference[ion] * factor, rel=1e-9)


# --- bad values ------------------------------------------------------------------------

def test_a_bath_without_any_permeant_ion_is_refused():
    base = rig.Rig.from_presets("hh-squid")
    sucrose = Solution("sucrose", {"NMDG": 150.0, "gluconate": 150.0})
    with pytest.raises(VrigError, match="no permeant ion"):
        rig.Rig(base.cell, sucrose, base.pipette)
    with pytest.raises(VrigError, match="no permeant ion"):
        rig.Rig(base.cell, base.bath, Solution("empty", {}))
    with pytest.raises(VrigError, match="no permeant ion"):
        base.set_solutions(bath=sucrose)
    assert base.bath.name == "squid-seawater"  # the rig kept its bath


@pytest.mark.parametrize("ion, mm", [("Na", -10.0), ("Na", 0.0), ("K", 1e6), ("K", math.nan),
                                     ("K", math.inf), ("Xe", 10.0), ("Na", "140"), ("Na", True)])
def test_bad_ion_concentrations_are_refused(ion, mm):
    with pytest.raises(VrigError):
        check_concentration(ion, mm)
    with pytest.raises(VrigError):
        load_solution("acsf").with_ion(ion, mm)


@pytest.mark.parametrize("text", ["out:Na=-44", "out:Na=0", "out:Na=abc", "Na=44", "side:Na=4",
                                  "out:Xe=4", "in:K=1e9"])
def test_bad_ion_overrides_are_refused(text):
    with pytest.raises(VrigError):
        parse_ion_override(text)
    with pytest.raises(VrigError):
        rig.Rig.from_presets("hh-squid", ion_overrides=[text])


@pytest.mark.parametrize("temperature", [-1.0, 46.0, math.nan, "warm", None])
def test_bad_temperatures_are_refused_and_leave_the_rig_alone(temperature):
    setup = rig.Rig.from_presets("hh-squid")
    with pytest.raises(VrigError, match="temperature"):
        setup.set_temperature(temperature)
    assert setup.temperature_c == 6.3
    if temperature is not None:  # None means "the cell's own" when building a rig
        with pytest.raises(VrigError, match="temperature"):
            rig.Rig.from_presets("hh-squid", temperature_c=temperature)
