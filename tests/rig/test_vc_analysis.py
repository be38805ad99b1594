"""Voltage-clamp analysis of the shipped families on hh-squid against an exact
solution: under an ideal clamp each HH gate relaxes exponentially to its steady state
at every step, so the membrane current of every sample is known in closed form (the
mean of the ionic current over the sample's two 10 us steps plus the m-gate's gating
current Q dm/dt). Peaks, reversals and Boltzmann fits are then computed here with numpy
and scipy, independently of rig.analysis.measurements and rig.analysis.fits.

Figures measured (sample k at k x 20 us, Im the mean over the interval ending there):
the peak (inward) membrane current of the I-V family reverses at 43.56 mV, 6.5 mV below
E_Na = 50.07 mV: at the time of the smallest current the K, leak and gating currents are
outward and cancel some Na current, so the total current reverses below E_Na. Its G-V
Boltzmann is V1/2 -16.52 mV, k 12.53 mV, 381 nS; the peak I_Na alone reverses within
0.1 mV of E_Na. h-infinity from I_Na: V1/2 -61.78 mV, k -7.25 mV (HH's h_inf is
half-maximal at -62.31 mV). (Before the kernel's samples were put at their true times,
one sample later, E_rev was 43.44 mV and V1/2 -15.87 mV: near E_Na the window's first
sample is the smallest current, and it held the current 20 us later than its label.)
"""

import itertools
import math

import numpy as np
import pytest
from helpers import SAMPLE_MS
from scipy.optimize import brentq, curve_fit
from test_hh_published import HH_RATES, reference_parameters

import rig
from rig import resources
from rig.analysis.report import AnalysisSettings, analyze
from rig.analysis.sweep_family import SweepFamily
from rig.protocols.protocol import render_sweep

AREA_CM2 = 1e-5  # 1000 um^2
PA = 10.0  # pA per uA/cm^2 on this patch
STEPS = 2  # 10 us steps per 20 us sample


@pytest.fixture(scope="module")
def squid():
    return rig.Rig.from_presets("hh-squid")


@pytest.fixture(scope="module")
def iv_recording(squid):
    return squid.run(rig.load_protocol("vc-iv-family"))


def nernst_mv(c_out, c_in, temperature_c):
    return 1e3 * 8.314462618 * (temperature_c + 273.15) / 96485.33212 * math.log(c_out / c_in)


def gating_charge_fc():
    gate = resources.load_preset("channels", "hh-na")["gates"][0]
    return gate["gating_charge_nC_per_cm2"] * AREA_CM2 * 1e6


def steady_and_tau(alpha, beta, v):
    """x_inf and tau (ms) of a gate at v (mV); at the removable singularities of the
    linoid rates (-40 mV for m, -55 mV for n) the limit, as the mean of v +/- 1 uV."""
    with np.errstate(invalid="ignore", divide="ignore"):
        a, b = alpha(v), beta(v)
    if not np.isfinite(a):
        a = (alpha(v - 1e-3) + alpha(v + 1e-3)) / 2
    return a / (a + b), 1.0 / (a + b)


def analytic_sweep(protocol, sweep, only_na=False):
    """Exact ideal-clamp current (pA) of every sample of a sweep, each the mean over the
    interval ending at it (so an epoch's interval j is read at sample first + j + 1); NaN
    where the capacitive transient of an epoch's first interval is, and at sample 0."""
    p = reference_parameters()
    render = render_sweep(protocol, sweep)
    v_cmd = render.command * 1e3
    x = {name: steady_and_tau(a, b, protocol.holding)[0] for name, (a, b) in HH_RATES.items()}
    q = gating_charge_fc()
    current = np.full(v_cmd.size, np.nan)
    bounds = list(render.epoch_starts) + [v_cmd.size]
    for first, last in itertools.pairwise(bounds):
        v = v_cmd[first]
        n_samples = last - first
        ends = (np.arange(n_samples * STEPS) + 1) * SAMPLE_MS / STEPS  # each step's end
        gates = {}
        for name, (a, b) in HH_RATES.items():
            inf, tau = steady_and_tau(a, b, v)
            gates[name] = inf + (x[name] - inf) * np.exp(-ends / tau)
            start = x[name]
            x[name] = gates[name][-1]
            if name == "m":
                m_edges = np.concatenate([[start], gates["m"][STEPS - 1::STEPS]])
        i_na = 120 * gates["m"] ** 3 * gates["h"] * (v - p["E_Na"])
        i_ion = i_na if only_na else (i_na + 36 * gates["n"] ** 4 * (v - p["E_K"])
                                      + p["g_L"] * (v - p["E_L"]))
        sample = i_ion.reshape(n_samples, STEPS).mean(axis=1) * PA
        if not only_na:
            sample = sample + q * np.diff(m_edges) / SAMPLE_MS
        sample[0] = np.nan
        current[first + 1: last + 1] = sample[: v_cmd.size - first - 1]
    return current


def window_peak(current, window_s, inward=True):
    """The most inward (or the largest) sample in a window given in s (inclusive)."""
    k = np.arange(current.size) * SAMPLE_MS * 1e-3
    inside = current[(k >= window_s[0] - 1e-12) & (k <= window_s[1] + 1e-12)]
    return np.nanmin(inside) if inward else inside[np.nanargmax(np.abs(inside))]


def zero_crossing_highest(v, i):
    """The highest-voltage sign change of i along v, interpolated linearly."""
    k = np.nonzero(np.sign(i[:-1]) != np.sign(i[1:]))[0][-1]
    return v[k] - i[k] * (v[k + 1] - v[k]) / (i[k + 1] - i[k])


def boltzmann(v, v_half, k, amplitude):
    return amplitude / (1 + np.exp(-(v - v_half) / k))


# --- the I-V family ----------------------------------------------------------------------

def test_iv_reversal_is_the_exact_reversal_of_the_peak_current(squid, iv_recording):
    protocol = rig.load_protocol("vc-iv-family")
    result = analyze(SweepFamily.from_recording(iv_recording))
    assert result.kind == "I-V"
    window = (0.0102, 0.015)  # the default window 1: 0.2 to 5 ms into the step
    levels = np.arange(-80.0, 61.0, 10.0)
    peaks = np.array([window_peak(analytic_sweep(protocol, k), window) for k in range(15)])
    np.testing.assert_allclose([r["peak_pA"] for r in result.rows], peaks, rtol=2e-4, atol=0.05)
    expected = zero_crossing_highest(levels, peaks)
    e_na = nernst_mv(440.0, 55.0, 6.3)  # squid sea water over axoplasm, HH 1952's +50 mV
    print(f"E_rev {result.fact('E_rev'):.4f} mV, exact {expected:.4f} mV, E_Na {e_na:.4f} mV")
    assert squid.reversal_potentials()["Na"] * 1e3 == pytest.approx(e_na, abs=1e-9)
    assert result.fact("E_rev") == pytest.approx(expected, abs=0.01)
    # K, leak and gating currents are outward at the Na peak: the total reverses below E_Na
    assert e_na - 8.0 < expected < e_na - 5.0
    # the sodium current alone reverses at E_Na, measured by its largest peak: above E_Na
    # the inward-peak (min) polarity would take the outward current's early value, and the
    # interpolation would land 4 mV too high
    na_only = analyze(SweepFamily.from_recording(iv_recording),
                      AnalysisSettings(signal="INa", polarity="abs"))
    na_peaks = np.array([window_peak(analytic_sweep(protocol, k, only_na=True), window, False)
                         for k in range(15)])
    assert na_only.fact("E_rev") == pytest.approx(zero_crossing_highest(levels, na_peaks), abs=0.01)
    assert na_only.fact("E_rev") == pytest.approx(e_na, abs=0.1)


def test_g_v_fit_matches_an_independent_fit_and_sits_right_of_m_inf_cubed(iv_recording):
    protocol = rig.load_protocol("vc-iv-family")
    result = analyze(SweepFamily.from_recording(iv_recording))
    levels = np.arange(-80.0, 61.0, 10.0)
    peaks = np.array([window_peak(analytic_sweep(protocol, k), (0.0102, 0.015))
                      for k in range(15)])
    e_rev = zero_crossing_highest(levels, peaks)
    below = levels < e_rev
    g = peaks[below] / (levels[below] - e_rev)  # nS
    (v_half, k, g_max), _ = curve_fit(boltzmann, levels[below], g, p0=(-20.0, 10.0, 400.0))
    print(f"G-V V1/2 {result.fact('GV_V_half'):.3f} mV (independent {v_half:.3f}), k "
          f"{result.fact('GV_slope'):.3f} ({k:.3f}), Gmax {result.fact('GV_Gmax'):.2f} nS "
          f"({g_max:.2f})")
    assert result.fact("GV_V_half") == pytest.approx(v_half, abs=0.05)
    assert result.fact("GV_slope") == pytest.approx(k, abs=0.05)
    assert result.fact("GV_Gmax") == pytest.approx(g_max, rel=2e-3)
    # HH's steady-state activation m_inf^3 (published rates) is half-maximal at -26.6 mV;
    # the peak G-V sits 10-20 mV to its right because h falls while m rises
    alpha, beta = HH_RATES["m"]
    m3_half = brentq(lambda v: (alpha(v) / (alpha(v) + beta(v))) ** 3 - 0.5, -80.0, 20.0)
    assert 8.0 < result.fact("GV_V_half") - m3_half < 20.0
    second = result.plots[1]
    assert (second.x_unit, second.y_unit) == ("V", "S")
    assert [s.name for s in second.series] == ["G", "Boltzmann fit"]


def test_axis_units_of_the_iv_plots(iv_recording):
    result = analyze(SweepFamily.from_recording(iv_recording))
    iv, gv = result.plots
    assert (iv.x_label, iv.x_unit, iv.y_label, iv.y_unit) == ("command V", "V", "current", "A")
    assert (gv.y_label, gv.y_unit) == ("conductance", "S")
    assert [text for _, text in iv.markers] == ["E_rev"]
    assert iv.markers[0][0] == pytest.approx(result.fact("E_rev") * 1e-3)


# --- fits that are not there ---------------------------------------------------------------

@pytest.mark.parametrize("noise", [False, True])
def test_after_ttx_no_inward_current_is_fitted(noise):
    setup = rig.Rig.from_presets("hh-squid")
    setup.set_amplifier(noise=noise)
    setup.apply_drug("TTX", 300e-9, steady_state=True)
    result = analyze(SweepFamily.from_recording(setup.run(rig.load_protocol("vc-iv-family"))))
    names = {f.name for f in result.facts}
    assert not names & {"E_rev", "GV_V_half", "GV_slope", "GV_Gmax"}
    assert any(n.startswith("no inward current to fit") for n in result.notes)
    gv = result.plots[1]
    assert not gv.has_data and gv.empty_text.startswith("no inward current to fit")
    assert all(s.name != "Boltzmann fit" for s in gv.series)


def test_with_noise_the_fits_stay_where_they_were(iv_recording):
    setup = rig.Rig.from_presets("hh-squid")
    setup.set_amplifier(noise=True)
    noisy = analyze(SweepFamily.from_recording(setup.run(rig.load_protocol("vc-iv-family"))))
    clean = analyze(SweepFamily.from_recording(iv_recording))
    assert noisy.fact("E_rev") == pytest.approx(clean.fact("E_rev"), abs=0.3)
    assert noisy.fact("GV_V_half") == pytest.approx(clean.fact("GV_V_half"), abs=0.5)


def test_outward_peaks_are_not_fitted_as_inward(iv_recording):
    """Measuring outward peaks (max) of the I-V family: the outward K current has no
    reversal in this range, which is said, and nothing is fitted."""
    result = analyze(SweepFamily.from_recording(iv_recording), AnalysisSettings(polarity="max"))
    assert result.fact("E_rev") is None and result.fact("GV_V_half") is None
    assert any("does not reverse" in n for n in result.notes)


# --- h-infinity and tail currents ----------------------------------------------------------

def test_h_infinity_from_the_sodium_current(squid):
    protocol = rig.load_protocol("vc-inactivation")
    recording = squid.run(protocol)
    result = analyze(SweepFamily.from_recording(recording), AnalysisSettings(signal="INa"))
    assert result.kind == "h-inf"
    window = (0.0552, 0.060)  # 0.2 to 5 ms into the test step to 0 mV
    pre = np.arange(-120.0, -29.0, 5.0)
    peaks = np.array([window_peak(analytic_sweep(protocol, k, only_na=True), window)
                      for k in range(pre.size)])
    h = peaks / peaks.min()
    # the engine interpolates its rate tables: h differs by up to 2.2e-4 (at -70 mV)
    np.testing.assert_allclose([r["h"] for r in result.rows], h, atol=5e-4)
    (v_half, k), _ = curve_fit(lambda v, vh, kk: 1 / (1 + np.exp(-(v - vh) / kk)), pre, h,
                               p0=(-60.0, -7.0))
    assert result.fact("hinf_V_half") == pytest.approx(v_half, abs=0.05)
    assert result.fact("hinf_slope") == pytest.approx(k, abs=0.05)
    alpha, beta = HH_RATES["h"]
    published = brentq(lambda v: alpha(v) / (alpha(v) + beta(v)) - 0.5, -100.0, 0.0)
    assert result.fact("hinf_V_half") == pytest.approx(published, abs=1.0)
    assert result.plots[0].y_unit == "" and result.plots[0].x_label == "prepulse V"


def test_h_infinity_from_the_total_current_says_why_it_is_not_fitted(squid):
    result = analyze(SweepFamily.from_recording(squid.run(rig.load_protocol("vc-inactivation"))))
    assert result.fact("hinf_V_half") is None
    assert any("turns outward" in n and "INa" in n for n in result.notes)


def test_tail_currents_reverse_where_the_exact_tails_do(squid):
    protocol = rig.load_protocol("vc-tail-currents")
    result = analyze(SweepFamily.from_recording(squid.run(protocol)))
    assert result.kind == "tails" and result.extra["polarity"] == "abs"
    window = (0.0152, 0.020)
    levels = np.arange(-110.0, 1.0, 10.0)
    peaks = np.array([window_peak(analytic_sweep(protocol, k), window, inward=False)
                      for k in range(levels.size)])
    assert result.fact("E_rev") == pytest.approx(zero_crossing_highest(levels, peaks), abs=0.02)
    e_k = nernst_mv(20.0, 490.0, 6.3)
    assert e_k < result.fact("E_rev") < e_k + 3.0  # K tails, pulled toward E_leak
    assert result.fact("GV_V_half") is None


# --- recovery from inactivation ----------------------------------------------------------

def test_recovery_from_inactivation_follows_tau_h_at_holding(squid):
    protocol = rig.load_protocol("vc-recovery")
    recording = squid.run(protocol)
    result = analyze(SweepFamily.from_recording(recording), AnalysisSettings(signal="INa"))
    assert result.kind == "recovery"
    np.testing.assert_allclose([r["interval_ms"] for r in result.rows], np.arange(1.0, 35.0, 3.0))
    ratios = []
    for k in range(protocol.sweeps):
        current = analytic_sweep(protocol, k, only_na=True)
        starts = render_sweep(protocol, k).epoch_starts
        on1, on2 = starts[1] * SAMPLE_MS * 1e-3, starts[3] * SAMPLE_MS * 1e-3
        first = window_peak(current, (on1 + 2e-4, on1 + 4e-3))  # window 1: 0.2 ms in, 40 %
        ratios.append(window_peak(current, (on2 + 2e-4, on2 + 4e-3)) / first)
    np.testing.assert_allclose([r["ratio"] for r in result.rows], ratios, atol=5e-4)
    # once m has relaxed (0.2 ms) the second peak follows h: it recovers with tau_h at
    # the -65 mV holding potential, 8.516 ms from HH's rates
    alpha, beta = HH_RATES["h"]
    tau_h = 1.0 / (alpha(-65.0) + beta(-65.0))
    assert result.fact("tau_recovery") == pytest.approx(tau_h, rel=0.01)
    assert result.fact("recovered_fraction") == pytest.approx(1.0, abs=0.01)
    curve = result.plots[0]
    assert (curve.x_unit, curve.y_unit) == ("s", "") and len(curve.series) == 2


def test_recovery_from_the_total_current_says_why_it_is_not_fitted(squid):
    result = analyze(SweepFamily.from_recording(squid.run(rig.load_protocol("vc-recovery"))))
    assert result.kind == "recovery" and result.fact("tau_recovery") is None
    assert any("turns outward" in n for n in result.notes)
