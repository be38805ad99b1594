"""The amplifier against ground truth (issue 5): the access resistance Rs in voltage
clamp, its compensation, the output chain (4-pole Bessel filter, 16-bit digitiser,
noise, hum) and, in current clamp, bridge balance and capacitance neutralisation.

The references are circuit theory, not the code: a passive cell (Rm || Cm) behind Rs
charges with tau = Rs Cm Rm / (Rs + Rm) and sits at an error dV = I Rs (1 - f) when a
fraction f of Rs is compensated; an analog 4-pole Bessel low-pass is 3 dB down at its
corner with a 10-90 % rise of about 0.34-0.35/fc; white noise of density d measured
in a band B has an rms of d sqrt(B). Units below: mV, pA, us and MOhm unless named.
"""

import functools
import json
import math

import numpy as np
import pytest
from scipy import signal

import rig
from rig import units
from rig.amplifier import circuit as amp_mod
from rig.amplifier import current_noise
from rig.amplifier.circuit import input_range
from rig.model.cell import cell_from_dict
from rig.resources import load_preset
from ui import cli as ui_cli

MODEL_RS = 10e6
MODEL_RM = 500e6
MODEL_CM = 33e-12
HOLD_V = -0.065


def passive_cell(rm_ohm, area_um2=3300.0):
    """The model cell's preset with another membrane resistance (1 uF/cm^2)."""
    data = dict(load_preset("cells", "model-cell"))
    data["area_um2"] = area_um2
    data["leak_mS_per_cm2"] = {"nonselective": 1.0 / rm_ohm / (area_um2 * 1e-8) * 1e3}
    return cell_from_dict(data, f"model-cell-{rm_ohm / 1e6:g}M")


def passive_rig(rm_ohm=MODEL_RM, **kwargs):
    base = rig.Rig.from_presets("model-cell")
    return rig.Rig(passive_cell(rm_ohm), base.bath, base.pipette, **kwargs)


def vc_step(setup, step_v, n_before, n_after, interval_s, holding_v=HOLD_V):
    """Settle at holding_v in VC, then step by step_v; returns (command, signals)."""
    setup.set_mode("VC")
    setup.set_holding(holding_v)
    setup.settle()
    command = np.r_[np.full(n_before, holding_v), np.full(n_after, holding_v + step_v)]
    return command, setup.advance(command, interval_s)


def compensate(setup, fraction, rs_setting=None, cm_setting=None):
    """Whole-cell compensation as `vrig run --rs-comp --cm-comp` sets it."""
    a = setup.amplifier
    setup.set_amplifier(whole_cell_capacitance=cm_setting or setup.cell.capacitance_pf * 1e-12,
                        whole_cell_resistance=rs_setting or a.series_resistance,
                        fast_compensation=a.pipette_capacitance,
                        rs_correction=fraction, rs_prediction=fraction)


# --- voltage clamp through Rs ----------------------------------------------------------

@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.8, 0.95])
def test_passive_vc_error_is_i_rs_times_one_minus_compensation(fraction):
    """A 50 MOhm cell behind 10 MOhm stepped to +35 mV: 0.58 nA, errors of 6 mV at f = 0.

    Ground truth: the cell's leak reverses at 0 mV, so at steady state
    I = Vc / (Rm + Rs (1 - f)) and Vc - Vmem = I Rs (1 - f)."""
    rm, rs = 50e6, MODEL_RS
    setup = passive_rig(rm)
    compensate(setup, fraction)
    command, sig = vc_step(setup, 0.100, 200, 3000, 10e-6)  # 30 ms = 100 tau
    error_mv = (command[-1] - sig["Vmem"][-1]) * 1e3
    measured_i = sig["Im"][-1]
    expected_i = command[-1] / (rm + rs * (1 - fraction))
    expected_error_mv = expected_i * rs * (1 - fraction) * 1e3
    print(f"f = {fraction:.2f}: I = {measured_i * 1e12:.2f} pA (theory {expected_i * 1e12:.2f}), "
          f"Vc - Vmem = {error_mv:.4f} mV, "
          f"I Rs (1 - f) = {measured_i * rs * (1 - fraction) * 1e3:.4f}"
          f" mV (theory {expected_error_mv:.4f})")
    assert measured_i == pytest.approx(expected_i, rel=1e-4)
    assert error_mv == pytest.approx(measured_i * rs * (1 - fraction) * 1e3, rel=1e-4, abs=1e-6)
    assert error_mv == pytest.approx(expected_error_mv, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.8])
def test_hh_vc_error_follows_the_ionic_current(fraction):
    """hh-squid behind 2 MOhm, stepped from -65 to -20 mV: a 10 nA Na current and a
    5-9 nA K current, i.e. voltage errors of 10-20 mV uncompensated.

    Ground truth: Vc - Vmem = Im Rs (1 - f). At the end of the step everything is
    steady and the identity must hold closely; at the Na peak the membrane is still
    moving, and the model's gating current (documented as measured but not passed
    through the membrane equation, i.e. not through Rs) adds Igating * Rs, about
    0.15 mV, to the comparison -- so the tolerance there is 1 % + Rs |Igating|."""
    rs = 2e6
    setup = rig.Rig.from_presets("hh-squid", series_resistance=rs, dt=1e-6)
    compensate(setup, fraction)
    command, sig = vc_step(setup, 0.045, 500, 10000, 2e-6)
    error_mv = (command - sig["Vmem"]) * 1e3
    predicted_mv = sig["Im"] * rs * (1 - fraction) * 1e3
    k = int(np.argmin(sig["Im"]))
    gating_mv = abs(sig["Igating"][k]) * rs * 1e3
    print(f"f = {fraction:.1f}: Na peak {sig['Im'][k] * 1e9:.2f} nA at {(k - 500) * 2e-3:.3f} ms, "
          f"Vc - Vmem {error_mv[k]:.3f} mV vs Im Rs (1 - f) {predicted_mv[k]:.3f} mV "
          f"(Rs Igating {gating_mv:.3f} mV); end of step {sig['Im'][-1] * 1e9:.3f} nA, "
          f"{error_mv[-1]:.4f} vs {predicted_mv[-1]:.4f} mV; Vmem peak "
          f"{sig['Vmem'].max() * 1e3:.2f} mV for a -20 mV command")
    assert sig["Im"][k] < -10e-9  # a large current ...
    assert abs(error_mv[k]) > 2.0  # ... makes a visible error, even with 80 % compensation
    assert error_mv[k] == pytest.approx(predicted_mv[k], rel=0.01, abs=gating_mv + 0.01)
    assert error_mv[-1] == pytest.approx(predicted_mv[-1], rel=1e-4)
    assert not setup.saturated


def test_large_na_current_escapes_the_clamp_and_compensation_reins_it_in():
    """hh-squid stepped to -40 mV: with Rs = 0 the membrane is at -40 mV; behind 5 MOhm
    the Na current depolarises it further (an 'escaping', slowly rising spike)."""
    escapes, times = {}, {}
    for rs, fraction in ((0.0, 0.0), (5e6, 0.0), (5e6, 0.8)):
        setup = rig.Rig.from_presets("hh-squid", series_resistance=rs)
        if rs:
            compensate(setup, fraction)
        _, sig = vc_step(setup, 0.025, 100, 1000, 10e-6)
        v = sig["Vmem"][100:] * 1e3
        escapes[(rs, fraction)] = v.max() - (-40.0)
        times[(rs, fraction)] = int(np.argmax(v)) * 0.01
    print("escape above the -40 mV command (mV) and time of the Vmem peak (ms):",
          {k: (round(escapes[k], 2), round(times[k], 2)) for k in escapes})
    assert escapes[(0.0, 0.0)] == pytest.approx(0.0, abs=1e-9)
    assert escapes[(5e6, 0.0)] > 30.0  # the membrane overshoots the command by > 30 mV
    assert times[(5e6, 0.0)] > 0.5  # and slowly: the peak comes after half a millisecond
    assert escapes[(5e6, 0.8)] < escapes[(5e6, 0.0)] / 3


@pytest.mark.parametrize("rm_ohm, rs_ohm", [(500e6, 10e6), (500e6, 20e6), (50e6, 10e6)])
def test_capacitive_transient_decays_with_rs_cm_rm_over_rs_plus_rm(rm_ohm, rs_ohm):
    """Im after a 10 mV step decays as exp(-t/tau), tau = Rs Cm Rm/(Rs + Rm); with
    Rm = 50 MOhm this is 17 % shorter than Rs Cm, so the two are told apart."""
    setup = passive_rig(rm_ohm)
    setup.set_amplifier(series_resistance=rs_ohm)
    interval = 5e-6
    _, sig = vc_step(setup, 0.010, 100, 1200, interval)
    tau_expected = rs_ohm * MODEL_CM * rm_ohm / (rs_ohm + rm_ohm)
    i_ss = 0.010 / (rs_ohm + rm_ohm)  # above the holding current
    baseline = sig["Im"][100]  # the mean over the last interval before the step
    # Im at sample 101 + k is the mean over the step's interval k
    t = (np.arange(1199) + 0.5) * interval
    excess = sig["Im"][101:] - baseline - i_ss
    fit = (t > 3 * interval) & (t < 4 * tau_expected)
    slope, intercept = np.polyfit(t[fit], np.log(excess[fit]), 1)
    tau = -1.0 / slope
    i0 = math.exp(intercept)
    v_excess = 0.010 * rm_ohm / (rm_ohm + rs_ohm) - (sig["Vmem"][101:] - sig["Vmem"][100])
    t_end = np.arange(1, 1200) * interval  # Vmem at sample 100 + k: k intervals into the step
    fit_v = (t_end < 4 * tau_expected)
    tau_v = -1.0 / np.polyfit(t_end[fit_v], np.log(v_excess[fit_v]), 1)[0]
    print(f"Rm {rm_ohm / 1e6:g}, Rs {rs_ohm / 1e6:g} MOhm: tau(Im) {tau * 1e6:.2f} us, "
          f"tau(Vmem) {tau_v * 1e6:.2f} us, expected {tau_expected * 1e6:.2f} us "
          f"(Rs Cm = {rs_ohm * MODEL_CM * 1e6:.1f} us); I(0) {(i0 + i_ss) * 1e12:.1f} pA "
          f"(dV/Rs = {0.010 / rs_ohm * 1e12:.1f})")
    assert tau == pytest.approx(tau_expected, rel=0.005)
    assert tau_v == pytest.approx(tau_expected, rel=0.005)
    assert i0 - 0.010 / rs_ohm + i_ss == pytest.approx(0.0, abs=0.01 * 0.010 / rs_ohm)


def t90_us(setup, interval=2e-6, n_before=100, n_after=1500):
    """Time (us) for Vmem to reach 90 % of a 10 mV step from -65 mV."""
    _, sig = vc_step(setup, 0.010, n_before, n_after, interval)
    v = sig["Vmem"]
    fraction = (v[n_before:] - v[n_before]) / (v[-1] - v[n_before])
    first = int(np.nonzero(fraction >= 0.9)[0][0])  # samples after the onset sample
    return first * interval * 1e6, sig


def test_rs_compensation_speeds_the_clamp_by_one_minus_the_fraction():
    tau = MODEL_RS * MODEL_CM * MODEL_RM / (MODEL_RS + MODEL_RM)
    results = {}
    for fraction in (0.0, 0.5, 0.8, 0.9, 0.95):
        setup = rig.Rig.from_presets("model-cell")
        compensate(setup, fraction)
        results[fraction], sig = t90_us(setup)
        assert not setup.saturated
        assert np.isfinite(sig["Im"]).all()
    ratios = {f: results[f] / results[0.0] for f in results}
    print(f"t90 of Vmem (us) by compensation: {results}; ln(10) tau = "
          f"{math.log(10) * tau * 1e6:.1f} us; t90(f)/t90(0) "
          f"{ {f: round(r, 3) for f, r in ratios.items()} }")
    assert results[0.0] == pytest.approx(math.log(10) * tau * 1e6, rel=0.01)
    for fraction, ratio in ratios.items():
        if fraction:
            assert ratio == pytest.approx(1 - fraction, rel=0.15)
    assert list(results.values()) == sorted(results.values(), reverse=True)


def test_over_compensation_hits_the_rails_stays_finite_and_recovers():
    setup = rig.Rig.from_presets("model-cell")
    compensate(setup, 0.95, rs_setting=2.0 * MODEL_RS)  # the circuit thinks Rs is 20 MOhm
    _, sig = vc_step(setup, 0.010, 100, 1500, 2e-6)
    rails = setup.saturated
    print(f"95 % of a 20 MOhm setting on a 10 MOhm cell: saturated={rails}, "
          f"Im {sig['Im'].min() * 1e9:.1f} to {sig['Im'].max() * 1e9:.1f} nA, Vmem "
          f"{sig['Vmem'].min() * 1e3:.0f} to {sig['Vmem'].max() * 1e3:.0f} mV")
    assert rails
    for values in sig.values():
        assert np.isfinite(values).all()
    assert np.abs(sig["Vmem"]).max() > 0.1  # it really oscillated, beyond the command
    # sane settings and settle(): the flag clears and the clamp behaves again
    compensate(setup, 0.8)
    setup.settle()
    assert not setup.saturated
    t90, sig = t90_us(setup)
    tau = MODEL_RS * MODEL_CM * MODEL_RM / (MODEL_RS + MODEL_RM)
    print(f"after settle() at 80 %: t90 {t90:.0f} us (0.2 ln10 tau = "
          f"{0.2 * math.log(10) * tau * 1e6:.0f} us), saturated={setup.saturated}")
    assert not setup.saturated
    assert t90 == pytest.approx(0.2 * math.log(10) * tau * 1e6, rel=0.15)
    assert sig["Vmem"][-1] * 1e3 == pytest.approx(-55.0 * 500 / (500 + 10 * 0.2), abs=0.05)


# --- output chain ----------------------------------------------------------------------

def ideal_vc(**amplifier):
    """The model cell clamped ideally (Rs = 0): 'Vm' in VC is then the command itself,
    so what comes out is what the output chain did to it."""
    setup = rig.Rig.from_presets("model-cell", series_resistance=0.0, dt=5e-6)
    setup.set_amplifier(**amplifier)
    setup.set_mode("VC")
    setup.set_holding(0.0)
    setup.settle()
    return setup


def analog_bessel():
    """The analog 4-pole Bessel low-pass normalised to -3 dB at 1 Hz (b, a)."""
    return signal.bessel(4, 2 * np.pi, btype="low", analog=True, norm="mag")


@functools.cache
def analog_bessel_rise_time():
    """10-90 % rise time (s) of the analog prototype with a 1 Hz corner: 0.3501 s."""
    b, a = analog_bessel()
    t, y = signal.step((b, a), T=np.linspace(0, 1.5, 30001))
    top = int(np.argmax(y))
    return np.interp(0.9, y[:top], t[:top]) - np.interp(0.1, y[:top], t[:top])


@pytest.mark.parametrize("corner_hz", [1e3, 2e3, 10e3])
def test_bessel_filter_is_3_db_down_at_the_corner(corner_hz):
    fs = 200e3
    setup = ideal_vc(filter_hz=corner_hz)
    n = int(fs * 0.02)
    t = np.arange(n) / fs
    gains = {}
    b, a = analog_bessel()
    for ratio in (0.5, 1.0, 2.0):
        f = corner_hz * ratio
        out = setup.advance(0.010 * np.sin(2 * np.pi * f * t), 1 / fs)["Vm"]
        half = slice(n // 2, None)  # after the start-up transient
        basis = np.c_[np.sin(2 * np.pi * f * t[half]), np.cos(2 * np.pi * f * t[half])]
        coef = np.linalg.lstsq(basis, out[half], rcond=None)[0]
        gains[ratio] = np.hypot(*coef) / 0.010
    analog = {r: abs(signal.freqs(b, a, [2 * np.pi * r])[1][0]) for r in gains}
    print(f"fc {corner_hz:g} Hz: gain at 0.5, 1, 2 fc = "
          f"{ {r: round(20 * math.log10(g), 3) for r, g in gains.items()} } dB; analog "
          f"{ {r: round(20 * math.log10(g), 3) for r, g in analog.items()} } dB")
    assert 20 * math.log10(gains[1.0]) == pytest.approx(-3.0103, abs=0.01)
    # The analog response is the reference; the digital (bilinear) filter's stopband
    # falls faster as 2 fc nears the 100 kHz Nyquist (7 % lower at 2 x 10 kHz).
    assert gains[0.5] == pytest.approx(analog[0.5], rel=0.005)
    assert gains[2.0] == pytest.approx(analog[2.0], rel=0.02 if corner_hz <= 2e3 else 0.1)


@pytest.mark.parametrize("corner_hz", [1e3, 2e3, 5e3])
def test_bessel_step_rise_time_is_about_0_34_over_fc(corner_hz):
    fs = 200e3
    setup = ideal_vc(filter_hz=corner_hz)
    out = setup.advance(np.r_[np.zeros(100), np.full(3000, 0.010)], 1 / fs)["Vm"] / 0.010
    t = np.arange(out.size) / fs

    def crossing(level):
        i = int(np.nonzero(out >= level)[0][0])
        return t[i - 1] + (level - out[i - 1]) / (out[i] - out[i - 1]) / fs

    rise = crossing(0.9) - crossing(0.1)
    analog_rise = analog_bessel_rise_time()
    print(f"fc {corner_hz:g} Hz: 10-90 % rise {rise * 1e6:.2f} us = {rise * corner_hz:.4f}/fc "
          f"(analog 4-pole Bessel {analog_rise:.4f}/fc); overshoot {(out.max() - 1) * 100:.2f} %")
    assert rise * corner_hz == pytest.approx(analog_rise, rel=0.01)
    assert rise * corner_hz == pytest.approx(0.34, rel=0.04)  # the rule of thumb
    assert 0.0 < out.max() - 1 < 0.02  # a Bessel barely overshoots (0.9 % analog)


def test_digitiser_clips_at_the_input_range_and_quantises_at_one_lsb():
    """Gain 5 in VC on the 500 MOhm range: +/-10 V over 0.5 mV/pA x 5 is +/-4 nA, in
    steps of 20 V / 2**16 / (2.5 V/nA) = 0.122 pA. A 20 mV step through 10 MOhm peaks
    below 2 nA; a 60 mV step peaks near 6 nA and clips -- with the digitiser's
    quantisation on or off, since the amplifier's output itself saturates at +/-10 V."""
    gain = 5
    lsb_a = 20.0 / 2 ** 16 / (0.5e9 * gain)
    lsb_v = 20.0 / 2 ** 16 / 10.0  # VC voltage output at 10 mV/mV, gain 1
    for step, clips in ((0.020, False), (0.060, True)):
        raw = rig.Rig.from_presets("model-cell")
        raw.set_amplifier(pipette_capacitance=0.0, gain=gain, feedback_resistance=500e6)
        digital = rig.Rig.from_presets("model-cell")
        digital.set_amplifier(pipette_capacitance=0.0, gain=gain, digitizer=True,
                              feedback_resistance=500e6)
        _, true = vc_step(raw, step, 50, 300, 10e-6)
        _, rec = vc_step(digital, step, 50, 300, 10e-6)
        limit = input_range(digital.amplifier, "VC")[1]
        inside = np.abs(true["Im"]) < limit
        counts = rec["Im"] / lsb_a
        print(f"step {step * 1e3:g} mV: range +/-{limit * 1e9:g} nA, LSB {lsb_a * 1e12:.4f} pA; "
              f"true peak {true['Im'].max() * 1e9:.3f} nA, "
              f"recorded {rec['Im'].max() * 1e9:.4f} nA, "
              f"overloaded={digital.overloaded}; worst in-range error "
              f"{np.abs(rec['Im'] - true['Im'])[inside].max() / lsb_a:.3f} LSB")
        assert limit == pytest.approx(4e-9, rel=1e-12)
        assert digital.overloaded is clips
        # the output clips, and the lamp says so, with or without the digitiser
        assert raw.overloaded is clips
        if clips:
            assert np.abs(true["Im"]).max() == pytest.approx(limit, rel=1e-12)
        else:
            assert np.abs(true["Im"]).max() < limit
        np.testing.assert_allclose(counts, np.round(counts), atol=1e-6)
        np.testing.assert_allclose(rec["Vm"] / lsb_v, np.round(rec["Vm"] / lsb_v), atol=1e-6)
        assert np.abs(rec["Im"] - true["Im"])[inside].max() <= 0.5 * lsb_a * (1 + 1e-9)
        assert np.abs(rec["Vm"] - true["Vm"]).max() <= 0.5 * lsb_v * (1 + 1e-9)
        if clips:
            assert not inside.all()
            np.testing.assert_allclose(rec["Im"][~inside], (2 ** 15 - 1) * lsb_a, rtol=1e-12)
            # the lamp stays lit until the next settle()
            digital.advance(np.full(10, HOLD_V), 10e-6)
            assert digital.overloaded
            digital.settle()
            assert not digital.overloaded
    assert input_range(digital.amplifier, "CC")[0] == pytest.approx(1.0 / gain)


def noise_trace(seed, fs, corner_hz=None, seconds=0.5, with_rig=False, **extra):
    setup = rig.Rig.from_presets("model-cell", series_resistance=0.0, seed=seed)
    setup.set_amplifier(noise=True, filter_hz=corner_hz, **extra)
    setup.set_mode("VC")
    setup.set_holding(0.0)  # the leak reverses at 0 mV: no current but the noise
    setup.settle()
    result = setup.advance(np.zeros(int(fs * seconds)), 1 / fs)
    return (result, setup) if with_rig else result


def test_noise_is_deterministic_per_seed_and_differs_between_seeds():
    a = noise_trace(7, 20e3, seconds=0.1)
    b = noise_trace(7, 20e3, seconds=0.1)
    c = noise_trace(8, 20e3, seconds=0.1)
    r = np.corrcoef(a["Im"], c["Im"])[0, 1]
    print(f"seed 7 twice identical: {np.array_equal(a['Im'], b['Im'])}; seed 7 vs 8: "
          f"correlation {r:.4f}, rms {a['Im'].std() * 1e12:.3f} vs {c['Im'].std() * 1e12:.3f} pA")
    np.testing.assert_array_equal(a["Im"], b["Im"])
    np.testing.assert_array_equal(a["Vm"], b["Vm"])
    assert not np.array_equal(a["Im"], c["Im"])
    assert abs(r) < 0.1  # 2000 samples: independent draws correlate by ~0.02
    assert c["Im"].std() == pytest.approx(a["Im"].std(), rel=0.1)


@pytest.mark.parametrize("fs, corner_hz", [(20e3, None), (50e3, None), (100e3, 2e3),
                                            (100e3, 10e3)])
def test_noise_rms_is_density_times_root_bandwidth(fs, corner_hz):
    """Voltage: 0.5 uV/rtHz (50 uV in 10 kHz). Current: the density of its sources
    (rig.amplifier.current_noise) for this cell and amplifier, integrated over the
    band through the filter's response (the digital Bessel the chain applies).
    Unfiltered, the band is fs/2; through the Bessel the voltage's is its
    noise-equivalent bandwidth, 1.046 fc for the analog 4-pole prototype."""
    if corner_hz is None:
        band = fs / 2
    else:
        b, a = analog_bessel()
        w = np.linspace(0, 2 * np.pi * 100, 400001)
        band = np.trapezoid(np.abs(signal.freqs(b, a, w)[1]) ** 2, w) / (2 * np.pi) * corner_hz
    sig, setup = noise_trace(3, fs, corner_hz, with_rig=True)
    i_rms = sig["Im"][500:].std()
    v_rms = (sig["Vm"][500:]).std()
    f = np.linspace(0, fs / 2, 20001)
    gain = np.ones_like(f)
    if corner_hz is not None:
        sos = signal.bessel(4, corner_hz, btype="low", norm="mag", fs=fs, output="sos")
        gain = np.abs(signal.sosfreqz(sos, worN=f, fs=fs)[1])
    a = setup.amplifier
    density = current_noise.density(
        f, a.feedback_resistance, a.seal_resistance, a.pipette_capacitance,
        a.series_resistance, setup.cell.capacitance_pf * 1e-12)
    expected_i = math.sqrt(np.trapezoid(density * gain ** 2, f))
    expected_v = amp_mod.VOLTAGE_NOISE_V_PER_RTHZ * math.sqrt(band)
    print(f"fs {fs / 1e3:g} kHz, filter {corner_hz}: band {band:.0f} Hz; Im rms "
          f"{i_rms * 1e12:.3f} pA (expected {expected_i * 1e12:.3f}), Vm rms {v_rms * 1e6:.2f} uV "
          f"(expected {expected_v * 1e6:.2f}); Im mean {sig['Im'].mean() * 1e12:.4f} pA")
    # The sample rms of N correlated samples scatters by ~1/sqrt(2 N_eff); N_eff >= 4000.
    assert i_rms == pytest.approx(expected_i, rel=0.05)
    assert v_rms == pytest.approx(expected_v, rel=0.05)
    assert abs(sig["Im"].mean()) < 0.1 * expected_i


@pytest.mark.parametrize(("cell", "fs", "corner_hz", "low_pa", "high_pa"), [
    ("patch-na", 10e3, 2e3, 0.05, 0.2), ("cortical-neuron", 50e3, 10e3, 2.0, 8.0)])
def test_a_patch_is_quieter_than_a_whole_cell_by_its_sources(cell, fs, corner_hz, low_pa,
                                                             high_pa):
    """A patch on the 50 GOhm feedback resistor at 2 kHz: 0.05-0.2 pA rms (an
    Axopatch 200B with a good pipette: about 0.1-0.2 pA; Levis & Rae 1998); a whole
    cell (500 MOhm, Rs 10 MOhm, 30 pF) at 10 kHz: several pA, mostly the access
    path's thermal noise."""
    setup = rig.Rig.from_presets(cell, seed=4)
    setup.set_amplifier(noise=True, filter_hz=corner_hz)
    setup.set_mode("VC")
    setup.set_holding(units.mv_to_v(-100) if cell.startswith("patch") else units.mv_to_v(-70))
    setup.settle()
    trace = setup.advance(np.full(int(fs * 0.5), setup.holding["VC"]), 1 / fs)["Im"]
    rms_pa = trace[1000:].std() * 1e12
    print(f"{cell} at {corner_hz / 1e3:g} kHz: {rms_pa:.3f} pA rms")
    assert low_pa < rms_pa < high_pa


@pytest.mark.parametrize("hum_hz", [50, 60])
def test_hum_shows_at_the_mains_frequency(hum_hz):
    fs, seconds = 10e3, 1.0  # 1 Hz bins, so 50 and 60 Hz fall on bins exactly
    sig = noise_trace(5, fs, 2e3, seconds, hum_hz=hum_hz)
    spectrum = 2 * np.abs(np.fft.rfft(sig["Im"])) / sig["Im"].size
    freqs = np.fft.rfftfreq(sig["Im"].size, 1 / fs)
    other = 60 if hum_hz == 50 else 50
    at = {f: spectrum[np.argmin(np.abs(freqs - f))] * 1e12 for f in (hum_hz, 3 * hum_hz, other)}
    floor = np.median(spectrum[(freqs > 10) & (freqs < 1000)]) * 1e12
    peak_hz = freqs[np.argmax(spectrum[1:]) + 1]
    print(f"hum {hum_hz} Hz: largest line at {peak_hz:g} Hz; amplitude (pA) at "
          f"{ {f: round(a, 3) for f, a in at.items()} }, noise floor {floor:.4f} pA/bin")
    assert peak_hz == hum_hz
    assert at[hum_hz] == pytest.approx(amp_mod.HUM_CURRENT_A * 1e12, rel=0.1)
    assert at[3 * hum_hz] == pytest.approx(0.3 * amp_mod.HUM_CURRENT_A * 1e12, rel=0.2)
    assert at[hum_hz] > 20 * floor
    assert at[other] < 3 * floor


# --- current clamp ---------------------------------------------------------------------

def cc_step(amplifier, amplitude_a, dt=0.5e-6, fs=1e6, n_before=50, n_after=400):
    setup = rig.Rig.from_presets("model-cell", dt=dt)
    setup.set_amplifier(**amplifier)
    setup.set_mode("CC")
    setup.set_holding(0.0)
    setup.settle()
    command = np.r_[np.zeros(n_before), np.full(n_after, amplitude_a)]
    return setup, setup.advance(command, 1 / fs)


def test_bridge_balance_removes_the_i_rs_drop():
    """-1 nA through 10 MOhm (no pipette capacitance): without bridge balance 'Vm' jumps
    by I Rs = -10 mV at once and then reads Vmem + I Rs; balanced, Vm = Vmem."""
    amplitude = -1e-9
    _, off = cc_step({"pipette_capacitance": 0.0}, amplitude)
    _, on = cc_step({"pipette_capacitance": 0.0, "bridge": MODEL_RS}, amplitude)
    drop_off = (off["Vm"] - off["Vmem"]) * 1e3
    drop_on = (on["Vm"] - on["Vmem"]) * 1e3
    # the step is commanded at sample 50 and read from sample 51 on
    jump_off = (off["Vm"][51] - off["Vm"][50]) * 1e3
    jump_on = (on["Vm"][51] - on["Vm"][50]) * 1e3
    jump_mem = (off["Vmem"][51] - off["Vmem"][50]) * 1e3
    print(f"Vm - Vmem without bridge {drop_off[-1]:.4f} mV (I Rs = {amplitude * MODEL_RS * 1e3:g}),"
          f" with bridge {drop_on[-1]:.2e} mV; first-sample jump of Vm {jump_off:.4f} vs "
          f"{jump_on:.4f} mV (membrane {jump_mem:.4f} mV)")
    np.testing.assert_allclose(drop_off[51:], amplitude * MODEL_RS * 1e3, rtol=1e-9)
    np.testing.assert_allclose(drop_on, 0.0, atol=1e-9)
    assert jump_off == pytest.approx(amplitude * MODEL_RS * 1e3 + jump_mem, rel=1e-9)
    assert jump_on == pytest.approx(jump_mem, rel=1e-9)
    np.testing.assert_allclose(on["Vmem"], off["Vmem"], rtol=1e-12)  # the cell is untouched


def t63_of_pipette_charging(amplifier):
    """Time (us) for Vm - Vmem to reach 63 % of its early plateau
    I Rs Cm / (Cm + Cp) after a -500 pA step, and the run's signals."""
    amplitude = -500e-12
    setup, sig = cc_step(amplifier, amplitude)
    plateau = amplitude * MODEL_RS * MODEL_CM / (MODEL_CM + 4e-12)
    drop = sig["Vm"] - sig["Vmem"]
    reached = np.nonzero(drop[50:] / plateau >= 1 - math.exp(-1))[0]  # 1 us samples from the onset
    return (reached[0] if reached.size else np.inf), setup, sig


def test_capacitance_neutralisation_speeds_the_cc_response():
    """The model cell's 4 pF pipette behind 10 MOhm filters the electrode drop with
    tau = Rs Cp Cm/(Cp + Cm) = 35.7 us; neutralising Cn of it leaves Cp - Cn. With a
    fast (1 us) feedback the times follow that formula; with the default 10 us lag the
    first microseconds go unneutralised, so the speed-up is smaller but still there."""
    def theory_us(cn):
        cp = 4e-12 - cn
        return MODEL_RS * cp * MODEL_CM / (cp + MODEL_CM) * 1e6

    fast, default = {}, {}
    for cn in (0.0, 1e-12, 2e-12, 3e-12):
        fast[cn], setup, _ = t63_of_pipette_charging({"neutralization": cn, "lag": 1e-6})
        assert not setup.saturated
        default[cn], setup, _ = t63_of_pipette_charging({"neutralization": cn})
        assert not setup.saturated
    print("t63 of the electrode drop (us) by neutralisation (pF): 1 us lag "
          f"{ {k * 1e12: int(v) for k, v in fast.items()} }, 10 us lag "
          f"{ {k * 1e12: int(v) for k, v in default.items()} }, theory "
          f"{ {k * 1e12: round(theory_us(k), 1) for k in fast} }")
    for cn, t in fast.items():
        assert t == pytest.approx(theory_us(cn), rel=0.05, abs=1.5)  # 1 us samples
    values = list(default.values())
    assert values == sorted(values, reverse=True) and len(set(values)) == len(values)
    assert default[3e-12] < 0.6 * default[0.0]


def test_over_neutralisation_saturates_without_crashing():
    _, setup, sig = t63_of_pipette_charging({"neutralization": 10e-12})
    print(f"10 pF neutralisation of a 4 pF pipette: saturated={setup.saturated}, Vm "
          f"{sig['Vm'].min() * 1e3:.0f} to {sig['Vm'].max() * 1e3:.0f} mV")
    assert setup.saturated
    for values in sig.values():
        assert np.isfinite(values).all()
    assert np.abs(sig["Vm"]).max() == pytest.approx(amp_mod.HEADSTAGE_RAIL_V, rel=1e-9)
    setup.set_amplifier(neutralization=0.0)
    setup.settle()
    assert not setup.saturated
    after = setup.advance(np.zeros(200), 1e-6)
    assert not setup.saturated
    np.testing.assert_allclose(after["Vm"], setup.resting_potential(), atol=1e-9)


# --- the command line ------------------------------------------------------------------

TINY = {"format": "vrig-protocol", "version": 1, "name": "tiny", "mode": "VC",
        "holding": -65, "sample_rate_khz": 20, "sweeps": 1, "sweep_interval_ms": 0,
        "epochs": [{"kind": "step", "duration_ms": 2, "level": -65},
                   {"kind": "step", "duration_ms": 3, "level": -55}]}


def test_vrig_run_noise_is_reproducible_from_the_seed(tmp_path, capsys):
    protocol = tmp_path / "tiny.json"
    protocol.write_text(json.dumps(TINY), encoding="utf-8")
    outputs = {}
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        path = tmp_path / f"{name}.csv"
        status = ui_cli.main(["run", str(protocol), "-o", str(path), "--cell", "model-cell",
                              "--noise", "on", "--hum", "60", "--filter-khz", "2",
                              "--digitizer", "on", "--gain", "10", "--seed", str(seed)])
        assert status == 0
        outputs[name] = path.read_bytes()
    capsys.readouterr()
    header = [line for line in outputs["a"].decode().splitlines() if line.startswith("# amplifier")]
    print(header[0])
    assert outputs["a"] == outputs["b"]
    assert outputs["a"] != outputs["c"]
    for setting in ("noise=on", "hum=60Hz", "filter=2kHz", "gain=10", "digitizer=on", "Rs=10MOhm"):
        assert setting in header[0]


def test_rs_correction_settles_the_pipette_where_the_clamp_holds_it():
    """With Rs correction and an uncancelled pipette capacitance the electrode must start
    at command + correction x Rs x I; a wrong start makes the clamp swing between rails."""
    setup = rig.Rig.from_presets("model-cell")  # Rs 10 MOhm, Cp 4 pF left uncancelled
    setup.set_amplifier(whole_cell_capacitance=33e-12, whole_cell_resistance=10e6,
                        rs_correction=0.8, rs_prediction=0.8)
    setup.set_mode("VC")
    setup.set_holding(-0.065)
    setup.settle()
    im = setup.advance(np.full(2000, -0.065), 10e-6)["Im"]
    print(f"holding with 80 % correction: Im {im.min() * 1e12:.2f} to {im.max() * 1e12:.2f} pA")
    assert np.ptp(im) < 1e-12 and not setup.saturated
    # 80 % of 10 MOhm corrected: 2 MOhm left in series with the 500 MOhm membrane
    assert im.mean() == pytest.approx(-0.065 / 502e6, rel=1e-3)
