"""The cursor measurements and fits against ground truth: synthetic curves with known
parameters, and the Hodgkin-Huxley gates of the hh-squid cell measured through the engine
with the analysis the window uses (a SweepFamily measured by rig.analysis.voltage_clamp;
spike measures are tested in test_spike_analysis, the tab's whole analysis in
test_vc_analysis and test_cc_analysis).

Figures measured when these tests were written (hh-squid, 6.3 degC, ideal clamp):
peak I_Na reverses at 50.073 mV (E_Na 50.075 mV); m_inf^3 is half-maximal at
-26.56 mV and a Boltzmann fitted to it on the I-V voltages puts V1/2 at -25.86 mV
(m_inf^3 is not a Boltzmann); with inactivation removed (pronase) the measured G-V
gives -25.93 mV; with inactivation intact the peak G-V gives -10.6 mV, k = 15.9 mV
(h inactivates while m rises); h_inf is half-maximal at -62.31 mV and the measured
curve fits to -61.87 mV, k = -7.32 mV; the I_Na decay at 0 mV gives tau = 1.0290 ms
against tau_h(0 mV) = 1.0273 ms.
"""

import numpy as np
import pytest
from helpers import spike_count
from scipy.optimize import brentq

import rig
from rig import units
from rig.analysis.fits import boltzmann, fit_boltzmann, fit_exponential
from rig.analysis.measurements import conductance, reversal_by_interpolation, window_measure
from rig.analysis.spikes import find_spikes
from rig.analysis.sweep_family import SweepFamily
from rig.analysis.voltage_clamp import analyze_vc, measure_vc
from rig.model.channels import load_channel

MV = 1e-3


# --- synthetic ground truth --------------------------------------------------------------

@pytest.mark.parametrize("slope_mv", [7.0, -7.0])
def test_boltzmann_recovers_known_midpoint_and_slope(slope_mv):
    v = np.arange(-100.0, 21.0, 5.0) * MV
    y = boltzmann(v, -40 * MV, slope_mv * MV)
    fit = fit_boltzmann(v, y)
    assert fit.v_half == pytest.approx(-40 * MV, abs=1e-3 * MV)
    assert fit.slope == pytest.approx(slope_mv * MV, abs=1e-3 * MV)
    assert fit.amplitude == pytest.approx(1.0, abs=1e-6)


def test_boltzmann_with_si_amplitude_and_fixed_amplitude():
    v = np.arange(-90.0, 31.0, 10.0) * MV
    fit = fit_boltzmann(v, boltzmann(v, -40 * MV, 7 * MV, 1.2e-6))  # siemens
    assert fit.amplitude == pytest.approx(1.2e-6, rel=1e-6)
    assert fit.v_half == pytest.approx(-40 * MV, abs=1e-3 * MV)
    fixed = fit_boltzmann(v, boltzmann(v, -62 * MV, -7 * MV), amplitude=1.0)
    assert fixed.v_half == pytest.approx(-62 * MV, abs=1e-3 * MV)
    assert fixed.slope == pytest.approx(-7 * MV, abs=1e-3 * MV)
    assert fixed(np.array([-62 * MV]))[0] == pytest.approx(0.5)


def test_boltzmann_ignores_nan_and_refuses_too_few_points():
    v = np.array([-60, -50, -40, -30, -20, 50.0]) * MV
    y = boltzmann(v, -40 * MV, 7 * MV)
    y[-1] = np.nan
    assert fit_boltzmann(v, y).v_half == pytest.approx(-40 * MV, abs=1e-3 * MV)
    with pytest.raises(rig.VrigError, match="at least 4 finite points"):
        fit_boltzmann(v[:3], y[:3])
    with pytest.raises(rig.VrigError, match="all zero"):
        fit_boltzmann(v, np.zeros(v.size))
    with pytest.raises(rig.VrigError, match="same length"):
        fit_boltzmann(v, y[:4])


@pytest.mark.parametrize("amplitude", [3e-9, -2.0])
def test_exponential_recovers_tau_for_decays_and_rises(amplitude):
    t = np.arange(0, 0.05, 20e-6)
    y = amplitude * np.exp(-t / 4e-3) + 0.1 * abs(amplitude)
    fit = fit_exponential(t, y, t0=1e-3, t1=0.04)
    assert fit.tau == pytest.approx(4e-3, rel=1e-6)
    assert fit.t_start == pytest.approx(1e-3)
    assert fit.offset == pytest.approx(0.1 * abs(amplitude), rel=1e-6)
    assert fit(np.array([2e-3]))[0] == pytest.approx(y[100], rel=1e-6)


def test_exponential_refuses_too_few_points():
    with pytest.raises(rig.VrigError, match="at least 4"):
        fit_exponential(np.arange(3.0), np.ones(3))


def test_reversal_of_a_line_is_exact():
    v = np.arange(-80.0, 61.0, 10.0) * MV
    e_rev = 12.3 * MV
    i = 2e-9 * (v - e_rev) / MV
    assert reversal_by_interpolation(v[::-1], i[::-1]) == pytest.approx(e_rev, abs=1e-15)
    assert np.isnan(reversal_by_interpolation(v, np.abs(i) + 1e-12))
    assert reversal_by_interpolation([-0.01, 0.0, 0.01], [-1.0, 0.0, 2.0]) == 0.0


def test_conductance_is_nan_near_the_reversal():
    g = conductance(np.array([-1e-9, 0.0, 2e-9]), np.array([-0.05, 0.0502, 0.07]), 0.05)
    assert g[0] == pytest.approx(1e-8)
    assert np.isnan(g[1])
    assert g[2] == pytest.approx(1e-7)


def test_window_measure_peak_mean_and_time_to_peak():
    t = np.arange(0, 0.01, 1e-4)
    y = np.where(t < 0.004, 0.0, -3.0 * np.exp(-(t - 0.004) / 1e-3))
    y[80] = 1.0
    m = window_measure(t, y, 0.002, 0.009)
    assert m.peak == -3.0
    assert m.time_to_peak == pytest.approx(0.002)
    inside = (t >= 0.002) & (t <= 0.009)
    assert m.mean == pytest.approx(y[inside].mean())
    assert window_measure(t, y, 0.002, 0.009, "max").peak == 1.0
    with pytest.raises(rig.VrigError, match="no samples"):
        window_measure(t, y, 0.5, 0.6)
    with pytest.raises(rig.VrigError, match="polarity"):
        window_measure(t, y, 0.0, 0.01, "biggest")


# --- the HH model through the engine ---------------------------------------------------

@pytest.fixture(scope="module")
def squid():
    return rig.Rig.from_presets("hh-squid")


@pytest.fixture(scope="module")
def iv_family(squid):
    return SweepFamily.from_recording(squid.run(rig.load_protocol("vc-iv-family")))


@pytest.fixture(scope="module")
def na_gates():
    m, h = load_channel("hh-na").gates
    return m, h


def iv_curve(family, window_s, kind="peak", signal="Im"):
    """(command V, current A) per sweep: the window's 'peak' (largest magnitude) or
    'steady' (mean) measurement in window_s, s from the start of the test epoch."""
    start = family.epoch_span(0, family.test_epoch())[0]
    window = (start + window_s[0], start + window_s[1])
    rows = measure_vc(family, (window, window, window), signal, "abs")
    column = "peak_pA" if kind == "peak" else "steady_pA"
    return (units.mv_to_v(np.array([r["V_mV"] for r in rows])),
            units.pa_to_a(np.array([r[column] for r in rows])))


def test_iv_curve_voltages_come_from_the_command(iv_family):
    v, i = iv_curve(iv_family, (0.015, 0.0199), kind="steady")
    np.testing.assert_allclose(v, np.arange(-80.0, 61.0, 10.0) * MV, atol=1e-12)
    assert i[-1] == pytest.approx(45.42e-9, rel=1e-3)  # outward K current at +60 mV (measured)
    assert iv_family.test_epoch() == 1
    late = measure_vc(iv_family, ((0.5, 0.6),) * 3, "Im", "abs")  # past the sweeps' end
    assert late == [{"sweep": k + 1} for k in range(iv_family.n_sweeps)]


def test_peak_sodium_current_reverses_at_e_na(squid, iv_family):
    v, i = iv_curve(iv_family, (0, 0.010), signal="INa")
    e_na = squid.reversal_potentials()["Na"]
    assert reversal_by_interpolation(v, i) == pytest.approx(e_na, abs=0.01 * MV)


def _m3_midpoint(m):
    return brentq(lambda v_mv: m.steady_state(v_mv) ** 3 - 0.5, -80.0, 20.0) * MV


def test_boltzmann_fit_of_m_inf_cubed_is_near_its_true_midpoint(iv_family, na_gates):
    m, _ = na_gates
    v, _ = iv_curve(iv_family, (0, 0.01))
    fit = fit_boltzmann(v, m.steady_state(v / MV) ** 3)
    # m_inf^3 is not a Boltzmann: the best Boltzmann sits 0.70 mV above its midpoint
    assert fit.v_half == pytest.approx(_m3_midpoint(m), abs=1.0 * MV)
    assert 7 * MV < fit.slope < 9 * MV


def test_measured_g_v_without_inactivation_recovers_m_inf_cubed(na_gates):
    """Pronase removes h, so the late Na conductance is g_max m_inf^3 exactly."""
    m, _ = na_gates
    setup = rig.Rig.from_presets("hh-squid")
    setup.apply_drug("pronase", 0.1, side="inside", steady_state=True)  # 99.5 % of h removed
    family = SweepFamily.from_recording(setup.run(rig.load_protocol("vc-iv-family")))
    v, i = iv_curve(family, (0.015, 0.0199), kind="steady", signal="INa")
    g = conductance(i, v, setup.reversal_potentials()["Na"])
    measured = fit_boltzmann(v, g / np.nanmax(g))
    of_gate = fit_boltzmann(v, m.steady_state(v / MV) ** 3)
    assert measured.v_half == pytest.approx(of_gate.v_half, abs=0.2 * MV)
    assert measured.v_half == pytest.approx(_m3_midpoint(m), abs=1.0 * MV)


def test_peak_g_v_with_inactivation_is_shifted_by_h(squid, iv_family, na_gates):
    """Peak G is m^3 h at the peak, not m_inf^3: h falls while m rises, most at the
    foot of the curve, so the Boltzmann of peak G sits 10-20 mV right of m_inf^3's."""
    m, _ = na_gates
    v, i = iv_curve(iv_family, (0, 0.010), signal="INa")
    g = conductance(i, v, squid.reversal_potentials()["Na"])
    assert np.isnan(g[13])  # +50 mV is within 1 mV of E_Na
    fit = fit_boltzmann(v, g / np.nanmax(g))
    shift = fit.v_half - _m3_midpoint(m)
    assert 10 * MV < shift < 20 * MV
    assert 12 * MV < fit.slope < 20 * MV


def test_steady_state_inactivation_recovers_h_inf(squid, na_gates):
    _, h = na_gates
    family = SweepFamily.from_recording(squid.run(rig.load_protocol("vc-inactivation")))
    assert family.test_epoch() == 2  # the step after the prepulse
    start = family.epoch_span(0, 2)[0]
    window = (start, start + 0.005)
    result = analyze_vc(family, (window, window, window), "INa", "abs")
    assert result.kind == "h-inf"
    v = units.mv_to_v(np.array([r["prepulse_mV"] for r in result.rows]))
    fraction = np.array([r["h"] for r in result.rows])
    np.testing.assert_allclose(v, np.arange(-120.0, -29.0, 5.0) * MV, atol=1e-12)
    fit = fit_boltzmann(v, fraction)
    true_mid = brentq(lambda v_mv: h.steady_state(v_mv) - 0.5, -100.0, 0.0) * MV
    assert fit.v_half == pytest.approx(true_mid, abs=1.0 * MV)
    assert -8 * MV < fit.slope < -6.5 * MV
    of_gate = fit_boltzmann(v, h.steady_state(v / MV))
    assert fit.slope == pytest.approx(of_gate.slope, abs=0.5 * MV)


def test_inactivation_time_constant_at_0_mv_is_tau_h(iv_family, na_gates):
    _, h = na_gates
    sweep = 8  # the step to 0 mV
    t = iv_family.time
    start = iv_family.epoch_span(sweep, 1)[0]
    current = iv_family.data["INa"][sweep]
    peak = window_measure(t, current, start, start + 0.01)
    # from 1 ms after the peak, when m^3 has settled to within 1 %
    fit = fit_exponential(t, current, start + peak.time_to_peak + 1e-3, start + 0.0199)
    tau_h = h.time_constant_ms(0.0, phi=1.0) * 1e-3  # 6.3 degC is HH's reference
    assert fit.tau == pytest.approx(tau_h, rel=0.02)


def test_spike_counts_on_current_clamp_runs(squid):
    rec = squid.run(rig.load_protocol("cc-threshold"))  # 20..130 pA, 1 ms
    t = rec.time()
    counts = [len(find_spikes(t, rec.signals["Vm"][k])) for k in range(rec.n_sweeps)]
    assert counts == [0] * 5 + [1] * 7  # all or none above ~70 pA
    family = squid.run(rig.load_protocol("cc-step-family"))
    t = family.time()
    for k in range(family.n_sweeps):
        v = family.signals["Vm"][k]
        spikes = find_spikes(t, v)
        assert len(spikes) == spike_count(v / MV)
        assert all(s.trough_v < -0.070 for s in spikes[:-1])
        assert all(1e-3 < s.half_width < 2e-3 for s in spikes)
    assert spike_count(family.sweep("Vm", 0) / MV) == 0
    assert spike_count(family.sweep("Vm", 15) / MV) >= 12
