"""P/N leak subtraction against ground truth (issue 5).

A passive cell is linear, so the scaled sub-sweeps predict its response exactly: the
subtracted current is flat at the holding current, and with instrument noise on,
only noise is left, with the rms sqrt(1 + N) times a single sweep's (the N
sub-sweeps' noise adds up at full weight). With TTX outside and TEA inside, the
hh-squid membrane's ionic currents are mostly gone and a step from -65 to 0 mV leaves
the gating current: an outward ON transient carrying Q = Qmax A dm, with
Qmax = 25 nC/cm^2 carried by m (Armstrong & Bezanilla 1974; Keynes & Rojas 1974) and
A = 1000 um^2, i.e. 250 fC per unit of m, and an equal inward OFF transient.
"""

import math

import numpy as np
import pytest

import rig
from rig.protocols.protocol import protocol_from_dict, render_sweep

SUBSWEEPS = 4
Q_PER_M_FC = 25e-9 * 1000e-8 * 1e15  # 25 nC/cm^2 x 1000 um^2 = 250 fC per unit of m


def step_protocol(levels_mv, rate_khz=50, before_ms=5, step_ms=10, after_ms=10):
    first, *rest = levels_mv
    delta = rest[0] - first if rest else 0
    return protocol_from_dict({
        "format": "vrig-protocol", "version": 1, "name": "P/N test", "mode": "VC",
        "holding": -65, "sample_rate_khz": rate_khz, "sweeps": len(levels_mv),
        "sweep_interval_ms": 0,
        "epochs": [{"kind": "step", "duration_ms": before_ms, "level": -65},
                   {"kind": "step", "duration_ms": step_ms, "level": first,
                    "level_delta": delta},
                   {"kind": "step", "duration_ms": after_ms, "level": -65}]})


PASSIVE = step_protocol([-45.0, -5.0, 35.0])


def model_cell_recording(seed=3, **amplifier):
    setup = rig.Rig.from_presets("model-cell", seed=seed)
    setup.set_amplifier(**amplifier)
    return setup.run(PASSIVE, leak_subtraction=SUBSWEEPS)


@pytest.mark.parametrize("amplifier", [
    {}, {"pipette_capacitance": 0.0, "series_resistance": 0.0},
    {"whole_cell_capacitance": 33e-12, "whole_cell_resistance": 10e6, "fast_compensation": 4e-12,
     "rs_correction": 0.8, "rs_prediction": 0.8}],
    ids=["Rs 10 MOhm, Cp 4 pF", "ideal clamp", "80 % Rs compensation"])
def test_pn_of_the_passive_model_cell_is_flat_at_the_holding_current(amplifier):
    rec = model_cell_recording(**amplifier)
    assert rec.metadata["leak_subtraction"] == "P/N 4 opposite from -120 mV"
    for k in range(rec.n_sweeps):
        im = rec.sweep("Im", k) * 1e12
        raw = rec.sweep("Im_raw", k) * 1e12
        starts = render_sweep(PASSIVE, k).epoch_starts
        holding = raw[: starts[1]].mean()
        residual = im - holding
        print(f"{amplifier or 'default'} sweep {k + 1}: raw {raw.min():.1f} to {raw.max():.1f} pA, "
              f"holding {holding:.3f} pA; "
              f"subtracted - holding: max |{np.abs(residual).max():.2e}| pA")
        # holding current at -65 mV through 510 MOhm (500 MOhm with Rs = 0)
        rin = 500e6 + (10e6 if amplifier.get("series_resistance", 10e6) else 0.0)
        expected_holding = -65e-3 / (rin - 0.8 * 10e6 if amplifier.get("rs_correction") else rin)
        assert holding == pytest.approx(expected_holding * 1e12, rel=1e-6)
        assert np.ptp(raw) > 40.0  # there was a response to subtract
        np.testing.assert_allclose(residual, 0.0, atol=1e-6 * np.ptp(raw))


@pytest.mark.parametrize("filter_hz", [None, 10e3])
def test_pn_of_a_noisy_passive_cell_leaves_only_noise(filter_hz):
    """The raw noise before the pulse (its sources: rig.amplifier.current_noise) gives
    the raw rms; P/N adds N sub-sweeps' noise at full weight, so sqrt(1 + N) times
    that is left."""
    amplifier = {"noise": True, "filter_hz": filter_hz}
    if filter_hz:  # filtered, the transients stay inside the 500 MOhm range (+/-20 nA),
        # whose 16-bit step (0.3 pA) is small beside the noise
        amplifier.update(digitizer=True, feedback_resistance=500e6)
    rec = model_cell_recording(seed=21, **amplifier)
    for k in range(rec.n_sweeps):
        im = rec.sweep("Im", k) * 1e12
        raw = rec.sweep("Im_raw", k) * 1e12
        starts = render_sweep(PASSIVE, k).epoch_starts
        baseline = slice(0, starts[1])
        residual = im - raw[baseline].mean()
        sigma = residual.std()
        sigma_raw_doc = raw[baseline].std()
        expected = sigma_raw_doc * math.sqrt(1 + SUBSWEEPS)
        # 2 ms window means over the sweep, and the 10 samples after each edge
        windows = residual[: residual.size // 100 * 100].reshape(-1, 100).mean(axis=1)
        edges = np.array([residual[s: s + 10].mean() for s in starts[1:]])
        print(f"filter {filter_hz}, sweep {k + 1}: raw noise {raw[baseline].std():.3f} pA "
              f"(documented {sigma_raw_doc:.3f}), residual rms {sigma:.3f} pA (sqrt(1 + N) x "
              f"documented = {expected:.3f}), mean {residual.mean():.3f} pA, largest 2 ms mean "
              f"{np.abs(windows).max():.3f} pA, at the edges {edges.round(2).tolist()} pA; "
              f"raw transient {np.abs(raw).max():.0f} pA")
        # the raw rms is measured on the short stretch before the pulse, and the noise
        # has more power at low frequencies (the access path): 20 % either way
        assert sigma == pytest.approx(expected, rel=0.2)
        # No structure: each mean of n samples scatters by sigma/sqrt(n) (by up to ~3x
        # more for filtered noise, which is correlated over a few samples).
        correlated = 3 if filter_hz else 1
        assert np.abs(windows).max() < 5 * sigma / math.sqrt(100) * correlated
        assert np.abs(edges).max() < 5 * sigma / math.sqrt(10) * correlated
        assert np.abs(raw).max() > 100 * sigma  # the capacitive transient was huge


def test_pn_cannot_subtract_a_clipped_sweep_and_the_overload_lamp_says_so():
    """A 100 mV step on the unfiltered model cell in the 500 MOhm range: the 4 pF pipette
    spike plus 10 nA through Rs exceed its +/-20 nA, so the sweep is clipped but its 1/4
    sub-sweeps are not; the subtraction leaves a transient and Rig.overloaded is set."""
    setup = rig.Rig.from_presets("model-cell", seed=21)
    setup.set_amplifier(digitizer=True, feedback_resistance=500e6)
    protocol = step_protocol([35.0])
    rec = setup.run(protocol, leak_subtraction=SUBSWEEPS)
    starts = render_sweep(protocol, 0).epoch_starts
    raw = rec.sweep("Im_raw", 0) * 1e12
    residual = (rec.sweep("Im", 0) - rec.sweep("Im_raw", 0)[: starts[1]].mean()) * 1e12
    print(f"raw peak {raw.max():.1f} pA (range 20000 pA), residual at the ON edge "
          f"{residual[starts[1] + 1]:.0f} pA, overloaded={setup.overloaded}")
    assert setup.overloaded
    assert raw.max() == pytest.approx(20000.0, rel=1e-3)
    # the ON edge's interval is read at the sample after the step is written
    assert abs(residual[starts[1] + 1]) > 1000.0


@pytest.fixture(scope="module")
def gating():
    """hh-squid, 1 uM TTX outside and 10 mM TEA inside, a 5 ms step to 0 mV with P/N 4
    from -120 mV, sampled at 100 kHz."""
    protocol = step_protocol([0.0], rate_khz=100, before_ms=2, step_ms=5, after_ms=5)
    setup = rig.Rig.from_presets("hh-squid")
    setup.apply_drug("TTX", 1e-6, "outside", steady_state=True)
    setup.apply_drug("TEA", 10e-3, "inside", steady_state=True)
    rec = setup.run(protocol, leak_subtraction=SUBSWEEPS)
    starts = render_sweep(protocol, 0).epoch_starts
    return rec, starts


def test_pn_with_ttx_and_tea_leaves_the_gating_current(gating):
    rec, (_, on, off) = gating
    dt_ms = rec.sample_interval_s * 1e3
    s = {name: rec.sweep(name, 0) for name in rec.signals}
    holding = s["Im"][:on].mean()
    sub = (s["Im"] - holding) * 1e12  # pA
    # the ionic currents that TTX (99.5 %) and TEA (96 %) leave, from their baselines
    ionic = (s["INa"] - s["INa"][on - 1] + s["IK"] - s["IK"][on - 1]) * 1e12
    gate = s["Igating"] * 1e12
    m = s["m"]
    # m at the step's edges (samples on and off); the currents of the step's intervals
    # are read one sample later (each sample is the mean over the interval ending there)
    dm_on, dm_off = m[off] - m[on], m[-1] - m[off]
    q = {}
    for name, window in (("on", slice(on + 1, off + 1)), ("off", slice(off + 1, None))):
        first_ms = slice(window.start, window.start + int(round(1.0 / dt_ms)))
        q[name] = {"Igating": gate[window].sum() * dt_ms,  # pA ms = fC
                   "Im": sub[window].sum() * dt_ms,
                   "Im - ionic": (sub - ionic)[window].sum() * dt_ms,
                   "Im, first ms": sub[first_ms].sum() * dt_ms,
                   "peak Im": sub[window][np.argmax(np.abs(sub[window]))]}
    expected_on, expected_off = Q_PER_M_FC * dm_on, Q_PER_M_FC * dm_off
    print(f"m {m[on]:.4f} -> {m[off]:.4f} -> {m[-1]:.4f}; expected charge ON "
          f"{expected_on:.1f} fC, OFF {expected_off:.1f} fC (250 fC x dm)")
    for name in q:
        print(f"  {name}: " + ", ".join(f"{k} {v:.1f} {'pA' if k.startswith('peak') else 'fC'}"
                                        for k, v in q[name].items()))
    # the rig's own gating current carries exactly Qmax A dm
    assert q["on"]["Igating"] == pytest.approx(expected_on, rel=1e-6)
    assert q["off"]["Igating"] == pytest.approx(expected_off, rel=1e-6)
    assert expected_on == pytest.approx(250 * (0.9742 - 0.0529), rel=0.01)
    # what the experimenter sees: P/N removed leak and capacitance; what remains is
    # gating charge plus the small ionic currents the blockers leave
    assert q["on"]["Im - ionic"] == pytest.approx(expected_on, rel=0.02)
    assert q["off"]["Im - ionic"] == pytest.approx(expected_off, rel=0.02)
    # an outward ON transient and an inward OFF transient, each about 1 nA at its peak
    assert q["on"]["peak Im"] > 500.0 and q["off"]["peak Im"] < -500.0
    # in the first millisecond the gating current dominates the raw subtracted trace
    assert q["on"]["Im, first ms"] == pytest.approx(expected_on, rel=0.15)
    assert q["off"]["Im, first ms"] < 0.0
    assert q["off"]["Im - ionic"] == pytest.approx(-q["on"]["Im - ionic"], rel=0.02)


def test_pn_removes_the_capacitive_transient_of_the_gating_sweep(gating):
    """Without P/N the raw current's capacitive spike is tens of nA (10 pF x 65 mV in
    one 10 us step); after subtraction the largest current is the ~1 nA gating peak."""
    rec, (_, on, _off) = gating
    raw = rec.sweep("Im_raw", 0) * 1e12
    sub = (rec.sweep("Im", 0) - rec.sweep("Im", 0)[:on].mean()) * 1e12
    gate = rec.sweep("Igating", 0) * 1e12
    print(f"raw current at the ON edge {raw[on + 1]:.0f} pA; subtracted peak {sub.max():.0f} pA, "
          f"gating peak {gate.max():.0f} pA")
    assert raw[on + 1] > 20_000.0  # the ON edge's interval, read at the next sample
    assert sub.max() == pytest.approx(gate.max(), rel=0.05)
    assert np.abs(sub).max() < 2_000.0


def test_pn_is_flat_at_the_holding_current_when_the_sweep_starts_with_the_step():
    """A protocol whose first epoch is already the test step (no baseline at the
    holding level): the subtracted current of a passive cell must still be flat at the
    holding current, -65 mV / 510 MOhm = -127.45 pA, not at the first sample's
    capacitive transient."""
    protocol = protocol_from_dict({
        "format": "vrig-protocol", "version": 1, "name": "step first", "mode": "VC",
        "holding": -65, "sample_rate_khz": 50, "sweeps": 1,
        "epochs": [{"kind": "step", "duration_ms": 10, "level": -45},
                   {"kind": "step", "duration_ms": 10, "level": -65}]})
    setup = rig.Rig.from_presets("model-cell")
    rec = setup.run(protocol, leak_subtraction=SUBSWEEPS)
    im = rec.sweep("Im", 0) * 1e12
    raw = rec.sweep("Im_raw", 0) * 1e12
    holding = -65e-3 / 510e6 * 1e12
    print(f"sweep starting with a 20 mV step: subtracted Im {im.min():.2f} to {im.max():.2f} pA "
          f"(holding current {holding:.2f} pA); raw first sample {raw[0]:.1f} pA")
    np.testing.assert_allclose(im, holding, atol=1e-6 * np.ptp(raw))
