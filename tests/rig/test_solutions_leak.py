"""Solutions and the ionic leak: bath K sets the rest (sub-Nernstian, because the leak
also carries Na and Cl), bath Na sets E_Na and the reversal of I_Na, and the cortical
neuron preset has the passive properties its description promises."""

import math

import numpy as np
import pytest
from helpers import (
    SAMPLE_INTERVAL_S,
    SAMPLE_MS,
    cc_pulse,
    crossing_time_ms,
    spike_indices,
    zero_crossing,
)

import rig
from rig.model import physics
from rig.model.solutions import Solution, load_solution
from rig.protocols.protocol import protocol_from_dict, render_sweep

BATH_K_MM = (2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0)


@pytest.fixture(scope="module")
def k_series():
    """{bath K (mM): Rig} for hh-squid with the bath K replaced."""
    return {k: rig.Rig.from_presets("hh-squid", ion_overrides=[f"out:K={k:g}"])
            for k in BATH_K_MM}


def test_bath_k_moves_e_k_by_the_nernst_slope(k_series):
    nernst_slope = physics.thermal_voltage(6.3) * math.log(10.0) * 1e3  # 55.45 mV/decade
    e_k = np.array([k_series[k].reversal_potentials()["K"] * 1e3 for k in BATH_K_MM])
    slopes = np.diff(e_k) / np.diff(np.log10(BATH_K_MM))
    np.testing.assert_allclose(slopes, nernst_slope, rtol=1e-9)
    assert e_k[BATH_K_MM.index(20.0)] == pytest.approx(-77.03, abs=0.01)


def test_bath_k_depolarises_the_rest_sub_nernstian_and_monotonically(k_series):
    nernst_slope = physics.thermal_voltage(6.3) * math.log(10.0) * 1e3
    rest = np.array([k_series[k].resting_potential() * 1e3 for k in BATH_K_MM])
    slopes = np.diff(rest) / np.diff(np.log10(BATH_K_MM))
    print("rest (mV) by bath K (mM):", dict(zip(BATH_K_MM, rest.round(2).tolist())))
    print("slope (mV/decade) per interval:", slopes.round(1).tolist(),
          f"Nernst {nernst_slope:.2f}")
    assert np.all(slopes > 0)  # monotonic depolarisation
    assert np.all(slopes < nernst_slope)  # sub-Nernstian everywhere
    # shallow at low K where Na and Cl leak dominate, steeper (but < Nernst) at high K
    assert slopes[0] < 0.5 * nernst_slope
    assert slopes[-1] > 0.7 * nernst_slope
    assert rest[BATH_K_MM.index(20.0)] == pytest.approx(-65.0, abs=0.1)


def test_resting_potential_is_where_the_membrane_settles(k_series):
    """Where the rest is stable, 100 ms in I=0 from the settled state keeps it there."""
    stable, firing = [], []
    for k, setup in k_series.items():
        setup.set_mode("I0")
        setup.settle()
        v = setup.advance(np.zeros(5000), SAMPLE_INTERVAL_S)["Vm"] * 1e3
        drift = np.max(np.abs(v - setup.resting_potential() * 1e3))
        (stable if drift < 1e-3 else firing).append(k)
        if spike_indices(v).size:
            print(f"bath K {k:g} mM: the steady state at "
                  f"{setup.resting_potential() * 1e3:.2f} mV is unstable; "
                  f"{spike_indices(v).size} spikes in 100 ms")
    print("stable rest at bath K (mM):", stable)
    assert {2.5, 5.0, 10.0, 20.0, 80.0, 160.0, 320.0} <= set(stable)


@pytest.fixture(scope="module")
def cortical():
    return rig.Rig.from_presets("cortical-neuron")


def cc_step(setup, amplitude_pa, before_ms, duration_ms):
    """Signals (SI) for a current step from the settled rest."""
    setup.set_mode("CC")
    setup.set_holding(0.0)
    setup.settle()
    n0, n1 = int(round(before_ms / SAMPLE_MS)), int(round(duration_ms / SAMPLE_MS))
    command = np.r_[np.zeros(n0), np.full(n1, amplitude_pa * 1e-12)]
    return setup.advance(command, SAMPLE_INTERVAL_S)


def test_cortical_neuron_passive_properties(cortical):
    assert cortical.cell.capacitance_pf == pytest.approx(30.0, rel=1e-12)
    rest = cortical.resting_potential() * 1e3
    step_pa, before_ms = -10.0, 10.0
    sig = cc_step(cortical, step_pa, before_ms, 200.0)  # 20 membrane time constants
    v = sig["Vmem"] * 1e3  # the membrane itself, behind the electrode
    t = np.arange(v.size) * SAMPLE_MS
    n0 = int(round(before_ms / SAMPLE_MS))
    baseline, settled = v[n0 - 1], v[-1]
    r_in_mohm = (settled - baseline) * 1e-3 / (step_pa * 1e-12) / 1e6
    # time to 63.2 % of the deflection, from the step onset
    target = baseline + (1 - math.exp(-1)) * (settled - baseline)
    tau_ms = crossing_time_ms(t, -v, -target) - before_ms
    g_leak_ns = sum(cortical.cell.leak_ms_per_cm2.values()) * cortical.cell.area_um2 * 1e-2
    # the amplifier's Vm adds the unbalanced drop across the 10 MOhm access resistance
    rs_ohm = cortical.series_resistance
    drop_mv = (sig["Vm"] - sig["Vmem"]) * 1e3
    print(f"cortical neuron: Cm {cortical.cell.capacitance_pf:g} pF, rest {rest:.3f} mV, "
          f"R_in {r_in_mohm:.1f} MOhm (1/g_leak = {1e3 / g_leak_ns:.1f}), tau {tau_ms:.2f} ms; "
          f"Vm - Vmem during the step {drop_mv[-1]:.4f} mV with Rs {rs_ohm / 1e6:g} MOhm")
    assert rest == pytest.approx(-70.0, abs=0.5)
    assert baseline == pytest.approx(rest, abs=0.01)
    # "about 300 MOhm"; the leak alone gives 333 MOhm and the gated channels are shut
    assert 280.0 < r_in_mohm < 360.0
    assert r_in_mohm == pytest.approx(1e3 / g_leak_ns, rel=0.02)
    assert tau_ms == pytest.approx(r_in_mohm * 1e6 * 30e-12 * 1e3, rel=0.02)
    # the step is commanded at sample n0 and read from the next sample on
    np.testing.assert_allclose(drop_mv[:n0 + 1], 0.0, atol=1e-9)
    np.testing.assert_allclose(drop_mv[n0 + 1:], step_pa * 1e-12 * rs_ohm * 1e3, rtol=1e-6)


def test_cortical_neuron_fires_repetitively_at_100_pa(cortical):
    v = cc_pulse(cortical, 100.0, 500.0, before_ms=10.0, after_ms=0.0)
    t = np.arange(v.size) * SAMPLE_MS
    spikes = spike_indices(v)
    times = spikes * SAMPLE_MS - 10.0
    k = spikes[1]
    window = slice(k - 100, k + 200)
    peak = int(np.argmax(v[window])) + k - 100
    width = (crossing_time_ms(t[peak:], -v[peak:], 0.0)
             - crossing_time_ms(t[window], v[window], 0.0))
    rate_hz = (spikes.size - 1) / (times[-1] - times[0]) * 1e3
    print(f"cortical neuron, 100 pA for 500 ms: {spikes.size} spikes ({rate_hz:.1f} Hz), "
          f"first at {times[0]:.2f} ms, peak {v.max():.1f} mV, width at 0 mV {width:.3f} ms")
    assert spikes.size >= 20 and times[-1] > 450.0  # sustained for the whole step
    assert v.max() > 20.0  # overshooting
    assert 0.4 < width < 1.5  # "about 1 ms wide"


def iv_family(levels_mv):
    """A VC family from -65 mV, 20 ms steps to each level (one level per sweep)."""
    step = levels_mv[1] - levels_mv[0]
    return protocol_from_dict({
        "format": "vrig-protocol", "version": 1, "name": "fine I-V", "mode": "VC",
        "holding": -65, "sample_rate_khz": 50, "sweeps": len(levels_mv),
        "sweep_interval_ms": 100,
        "epochs": [{"kind": "step", "duration_ms": 5, "level": -65},
                   {"kind": "step", "duration_ms": 20, "level": levels_mv[0], "level_delta": step},
                   {"kind": "step", "duration_ms": 5, "level": -65}]})


def na_reversal(setup, protocol):
    """Interpolated zero of the peak I_Na (largest |I_Na| in the step) against level."""
    rec = setup.run(protocol)
    levels, peaks = [], []
    for k in range(rec.n_sweeps):
        starts = render_sweep(protocol, k).epoch_starts
        i_na = rec.sweep("INa", k)[starts[1]:starts[2]]
        levels.append(protocol.epochs[1].value("level", k))
        peaks.append(i_na[np.argmax(np.abs(i_na))] * 1e12)
    levels, peaks = np.array(levels), np.array(peaks)
    active = levels >= -50.0  # where the Na channels open
    return zero_crossing(levels[active], peaks[active])


def test_low_bath_na_moves_e_na_and_the_na_current_reversal():
    control = rig.Rig.from_presets("hh-squid")
    bath_na = control.bath.mm("Na")
    low = rig.Rig.from_presets("hh-squid", ion_overrides=[f"out:Na={0.1 * bath_na:g}"])
    shift_expected = physics.thermal_voltage(6.3) * math.log(0.1) * 1e3  # -55.45 mV
    e_control = control.reversal_potentials()["Na"] * 1e3
    e_low = low.reversal_potentials()["Na"] * 1e3
    assert e_low - e_control == pytest.approx(shift_expected, abs=1e-9)
    assert shift_expected == pytest.approx(-55.45, abs=0.01)

    shipped = rig.load_protocol("vc-iv-family")
    rev_control = na_reversal(control, shipped)
    rev_low = na_reversal(low, shipped)
    # a 1 mV family around the new E_Na pins the reversal down
    rev_fine = na_reversal(low, iv_family(np.arange(-9.0, -1.0 + 0.5, 1.0)))
    print(f"E_Na {e_control:.2f} -> {e_low:.2f} mV (expected shift {shift_expected:.2f}); "
          f"I_Na reversal from vc-iv-family {rev_control:.2f} -> {rev_low:.2f} mV "
          f"(shift {rev_low - rev_control:.2f}); from a 1 mV family {rev_fine:.3f} mV")
    # The 10 mV family interpolates linearly between -10 and 0 mV, where the peak Na
    # conductance still changes with voltage: that costs about half a millivolt.
    assert rev_low - rev_control == pytest.approx(shift_expected, abs=1.0)
    assert rev_fine == pytest.approx(e_low, abs=0.1)


def test_removing_an_ion_while_running_rebuilds_the_kernel_inputs():
    """Changing the solutions so that a leak component disappears changes the number
    of kernel channels; the next block must use the new arrays (a stale cache once
    made the kernel write past its output)."""
    setup = rig.Rig.from_presets("hh-squid")
    setup.set_mode("I0")
    before = setup.advance(np.zeros(100), 20e-6)
    for _ in range(20):  # new membranes, possibly at recycled addresses
        no_cl = {ion: mm for ion, mm in setup.bath.concentrations_mm.items() if ion != "Cl"}
        setup.set_solutions(bath=Solution("no Cl", no_cl))
        after = setup.advance(np.zeros(100), 20e-6)
        setup.set_solutions(bath=load_solution("squid-seawater"))
        setup.advance(np.zeros(100), 20e-6)
    assert len(setup.membrane().channel_labels) == 5
    assert np.isfinite(after["Vm"]).all() and np.isfinite(before["Vm"]).all()
