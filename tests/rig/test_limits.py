"""Impossible physics and the instrument's limits (issue 8 item 9, issue 9 items 11-12).

* The overload lamp means a clipped trace: the output saturates at +/-10 V, i.e. at
  10 V / (Rf x gain) of current (Rf 50 MOhm: +/-200 nA; 500 MOhm: +/-20 nA), and
  ``overloaded`` is set exactly when a sample is at that limit. Every shipped protocol
  on every shipped cell stays inside its cell's range at gain 1.
* The ideal clamp's capacitive current is one sample of Cm dV / dt, carrying Cm dV.
* A membrane driven beyond +/-400 mV breaks down: the engine raises and the cell stays
  lost until it is settled again; currents beyond the headstage's range are refused.
* Edges: 0 and 45 degC, 1 M of a drug, a 10 S/cm^2 channel density run and stay
  finite; a zero capacitance is refused; every amplifier range accepts its own limits.
"""

import json
import math

import numpy as np
import pytest
from helpers import SAMPLE_INTERVAL_S
from hypothesis import given, settings
from hypothesis import strategies as st

import rig
from rig.amplifier import circuit as amp_mod
from rig.amplifier.circuit import RANGES, Amplifier, input_range
from rig.errors import VrigError
from rig.model.cell import cell_from_dict
from rig.resources import load_preset, preset_names
from ui import cli as ui_cli


def cc_protocol(level_pa, name="big step"):
    return rig.protocols.protocol.protocol_from_dict({
        "format": "vrig-protocol", "version": 1, "name": name, "mode": "CC", "holding": 0,
        "sample_rate_khz": 50, "sweeps": 1, "sweep_interval_ms": 0,
        "epochs": [{"kind": "step", "duration_ms": 2, "level": 0},
                   {"kind": "step", "duration_ms": 20, "level": level_pa},
                   {"kind": "step", "duration_ms": 5, "level": 0}]})


# --- the overload lamp means a clipped trace -------------------------------------------

@pytest.mark.parametrize("cell", [name for name in preset_names("cells")
                                  if "cable" not in load_preset("cells", name)])
def test_no_shipped_protocol_overloads_any_shipped_cell_at_gain_1(cell):
    worst = {}
    # a patch (a cell with a recording configuration) is recorded with the patch
    # protocols: a whole-cell current step would break its 0.05 pF membrane; the axon
    # protocols pass tens of uA, for the squid-axon's giant-axon headstage
    patch = "configuration" in load_preset("cells", cell)
    for name in [n for n in preset_names("protocols") if not n.startswith("axon-")]:
        if patch and not name.startswith("vc-patch"):
            continue
        setup = rig.Rig.from_presets(cell)
        recording = setup.run(rig.load_protocol(name))
        im = recording.signals["Im"]
        worst[name] = np.nanmax(np.abs(im))
        limit = input_range(setup.amplifier, recording.metadata["mode"])[1]
        assert not setup.overloaded, (cell, name)
        assert worst[name] < limit
        assert "overload" not in recording.metadata
    rf = rig.Rig.from_presets(cell).amplifier.feedback_resistance
    print(f"{cell}: Rf {rf / 1e6:g} MOhm, range +/-{10 / rf * 1e9:g} nA; largest |Im| "
          + ", ".join(f"{n} {v * 1e9:.1f} nA" for n, v in worst.items()))


def test_the_lamp_lights_exactly_when_the_trace_is_clipped():
    """vc-iv-family on hh-squid: the largest sample is 65.6 nA, inside the 50 MOhm
    range (+/-200 nA); on the 500 MOhm range (+/-20 nA) the same run clips, the
    recording shows the flat top at exactly 20 nA, and the header says so."""
    protocol = rig.load_protocol("vc-iv-family")
    wide = rig.Rig.from_presets("hh-squid")
    narrow = rig.Rig.from_presets("hh-squid")
    narrow.set_amplifier(feedback_resistance=500e6)
    im_wide = wide.run(protocol).signals["Im"]
    rec = narrow.run(protocol)
    im = rec.signals["Im"]
    clipped = np.abs(im_wide) >= 20e-9
    print(f"hh-squid vc-iv-family: max |Im| {np.nanmax(np.abs(im_wide)) * 1e9:.2f} nA "
          f"(overloaded={wide.overloaded}); on 500 MOhm {clipped.sum()} samples clip, "
          f"max {np.nanmax(np.abs(im)) * 1e9:.4f} nA (overloaded={narrow.overloaded}); "
          f"header: {rec.metadata.get('overload')}")
    assert not wide.overloaded and np.nanmax(np.abs(im_wide)) == pytest.approx(65.6e-9, rel=0.01)
    assert narrow.overloaded and clipped.any()
    np.testing.assert_allclose(np.abs(im[clipped]), 20e-9, rtol=1e-12)
    np.testing.assert_array_equal(im[~clipped & ~np.isnan(im)], im_wide[~clipped & ~np.isnan(im)])
    assert rec.metadata["overload"].startswith("the recorded output clipped at +/-20 nA")
    assert "Rf=500MOhm range=+/-20nA" in rec.metadata["amplifier"]


@pytest.mark.parametrize("rf, gain, expected_a", [(50e6, 1, 200e-9), (500e6, 1, 20e-9),
                                                  (5e9, 1, 2e-9), (50e9, 1, 200e-12),
                                                  (500e6, 10, 2e-9), (50e6, 500, 0.4e-9)])
def test_the_current_range_is_ten_volts_over_rf_times_gain(rf, gain, expected_a):
    amplifier = Amplifier(feedback_resistance=rf, gain=gain)
    assert input_range(amplifier, "VC")[1] == pytest.approx(expected_a, rel=1e-12)
    assert input_range(amplifier, "CC")[0] == pytest.approx(1.0 / gain, rel=1e-12)
    assert amplifier.current_range == pytest.approx(10.0 / rf, rel=1e-12)


def test_the_ideal_clamp_capacitive_current_is_one_sample_of_cm_dv_over_dt():
    """Model cell clamped ideally (no Rs, no Cp): a 100 mV step moves 33 pF x 100 mV =
    3.3 pC within the first sample, i.e. 165 nA for one 20 us sample, and nothing after."""
    setup = rig.Rig.from_presets("model-cell", series_resistance=0.0)
    setup.set_amplifier(pipette_capacitance=0.0)
    setup.set_mode("VC")
    setup.set_holding(-0.050)
    setup.settle()
    command = np.r_[np.full(10, -0.050), np.full(10, 0.050)]
    im = setup.advance(command, SAMPLE_INTERVAL_S)["Im"]
    # sample k is the mean over the interval ending at it: the step's first interval
    # (from sample 10) is read at sample 11
    leak = im[12]  # the resistive current at +50 mV
    charge = (im[11] - leak) * SAMPLE_INTERVAL_S
    print(f"ideal clamp, 100 mV step on 33 pF: first sample {im[11] * 1e9:.3f} nA, then "
          f"{im[12] * 1e12:.3f} pA; capacitive charge {charge * 1e12:.6f} pC (Cm dV = 3.3 pC)")
    assert charge == pytest.approx(33e-12 * 0.100, rel=1e-9)
    np.testing.assert_allclose(im[13:], leak, rtol=1e-12)
    np.testing.assert_allclose(im[:11], im[0], rtol=1e-12)  # the holding current
    assert not setup.overloaded  # 165 nA is inside the model cell's +/-200 nA


# --- impossible physics ------------------------------------------------------------------

def test_minus_100_na_breaks_the_squid_membrane_and_the_cell_is_lost():
    """The issue's case: -100 nA into the squid patch, whose only conductance at
    hyperpolarised potentials is the 3 nS leak, gave a membrane at tens of volts. It
    now breaks down at -400 mV; the cell stays lost until it is settled. (+100 nA
    opens the 360 nS of K channels: the membrane peaks at +393 mV before they open, just
    short of breakdown, and then settles near E_K + 100 nA / 360 nS, about +200 mV.)"""
    setup = rig.Rig.from_presets("hh-squid")
    positive = setup.run(cc_protocol(100_000.0)).signals["Vmem"][0]
    assert 0.35 < np.nanmax(positive) < 0.4
    plateau = positive[100 + 1000 - 1]  # the end of the 20 ms step
    assert 0.15 < plateau < 0.25
    with pytest.raises(VrigError, match=r"membrane broke down: it reached -4\d\d mV, beyond "
                                        r"the \+/-400 mV") as info:
        setup.run(cc_protocol(-100_000.0))
    print(f"+100 nA: Vmem peaks at {np.nanmax(positive) * 1e3:.1f} mV; -100 nA: {info.value}")
    assert setup.lost == str(info.value)
    with pytest.raises(VrigError, match="broke down"):
        setup.advance(np.zeros(10), SAMPLE_INTERVAL_S)
    with pytest.raises(VrigError, match="broke down"):
        setup.hold(0.01)
    setup.set_mode("I0")
    setup.settle()
    assert setup.lost == ""
    v = setup.advance(np.zeros(100), SAMPLE_INTERVAL_S)["Vm"]
    np.testing.assert_allclose(v, setup.resting_potential(), atol=1e-6)


def test_the_command_line_says_the_membrane_broke_down_and_writes_nothing(tmp_path, capsys):
    protocol = tmp_path / "big.json"
    protocol.write_text(json.dumps(cc_protocol(-100_000.0).to_dict()), encoding="utf-8")
    output = tmp_path / "out.csv"
    status = ui_cli.main(["run", str(protocol), "-o", str(output)])
    _, err = capsys.readouterr()
    print(err)
    assert status == 2
    assert len(err.splitlines()) == 1 and err.startswith("vrig: error: the membrane broke down")
    assert not output.exists()


def test_currents_beyond_the_headstage_range_are_refused_with_the_range():
    cortical = rig.Rig.from_presets("cortical-neuron")  # 500 MOhm: +/-20 nA
    with pytest.raises(VrigError, match=r"within \+/-20000 pA \(the headstage's range with "
                                        r"its 500 MOhm feedback resistor\)"):
        cortical.run(cc_protocol(25_000.0))
    with pytest.raises(VrigError, match=r"holding in CC must be within \+/-20000 pA"):
        cortical.set_holding(25e-9, "CC")
    cortical.set_holding(15e-9, "CC")
    with pytest.raises(VrigError, match=r"\+/-2000 pA"):
        cortical.set_amplifier(feedback_resistance=5e9)  # the holding would not fit
    assert cortical.amplifier.feedback_resistance == 500e6
    squid = rig.Rig.from_presets("hh-squid")
    squid.set_mode("CC")
    with pytest.raises(VrigError, match=r"within \+/-200000 pA"):
        squid.advance(np.full(5, 250e-9), SAMPLE_INTERVAL_S)
    for bad in (math.nan, math.inf):
        with pytest.raises(VrigError, match="command out of range"):
            squid.advance(np.full(5, bad), SAMPLE_INTERVAL_S)


def test_a_voltage_clamp_beyond_breakdown_loses_a_cell_but_not_the_model_cell():
    squid = rig.Rig.from_presets("hh-squid")
    squid.set_mode("VC")
    with pytest.raises(VrigError, match=r"reached \+450 mV"):
        squid.advance(np.full(10, 0.450), SAMPLE_INTERVAL_S)
    with pytest.raises(VrigError, match="at this holding level"):
        squid.set_holding(0.45)
        squid.settle()
        squid.advance(np.zeros(1), SAMPLE_INTERVAL_S)
    model = rig.Rig.from_presets("model-cell")  # resistors and capacitors
    model.set_mode("VC")
    model.set_holding(0.0)
    model.settle()
    out = model.advance(np.full(1000, 0.5), SAMPLE_INTERVAL_S)
    assert np.isfinite(out["Vmem"]).all() and out["Vmem"][-1] == pytest.approx(0.5 * 500 / 510,
                                                                              rel=1e-3)


@pytest.mark.parametrize("temperature", [0.0, 45.0])
def test_the_temperature_edges_run_and_stay_finite(temperature):
    setup = rig.Rig.from_presets("hh-squid", temperature_c=temperature)
    rec = setup.run(rig.load_protocol("cc-threshold"))
    vm = rec.signals["Vm"][~np.isnan(rec.signals["Vm"])]
    print(f"{temperature:g} degC: Vm {vm.min() * 1e3:.1f} to {vm.max() * 1e3:.1f} mV")
    assert np.isfinite(vm).all() and np.abs(vm).max() < 0.2


def test_a_molar_drug_and_a_huge_conductance_stay_finite():
    setup = rig.Rig.from_presets("hh-squid")
    setup.apply_drug("TTX", 1.0, steady_state=True)
    setup.apply_drug("TEA", 1.0, "inside", steady_state=True)
    assert setup.perfusion.effects().conductance_scale["Na"] == pytest.approx(5.1e-9, rel=1e-3)
    rec = setup.run(rig.load_protocol("vc-iv-family"))
    assert np.isfinite(rec.signals["Im"][~np.isnan(rec.signals["Im"])]).all()
    with pytest.raises(VrigError, match="use 0 to 1 M"):
        setup.apply_drug("TTX", 1.5)
    data = load_preset("cells", "hh-squid")
    data["channels_mS_per_cm2"] = {"hh-na": 10000, "hh-k": 10000}
    huge = rig.Rig(cell_from_dict(data, "huge"), setup.bath, setup.pipette)
    rec = huge.run(rig.load_protocol("cc-threshold"))
    vm = rec.signals["Vm"][~np.isnan(rec.signals["Vm"])]
    print(f"10 S/cm^2 of Na and K: Vm {vm.min() * 1e3:.2f} to {vm.max() * 1e3:.2f} mV")
    assert np.isfinite(vm).all() and np.abs(vm).max() < 0.1


def test_a_zero_capacitance_is_refused_with_the_range():
    setup = rig.Rig.from_presets("hh-squid")
    with pytest.raises(VrigError, match="cell capacitance must be 1 to 100 pF"):
        setup.set_capacitance(0.0)
    data = load_preset("cells", "hh-squid")
    data["specific_capacitance_uF_per_cm2"] = 0
    with pytest.raises(VrigError, match="specific_capacitance_uF_per_cm2"):
        cell_from_dict(data, "no-cm")


# --- one range per setting, compared in the unit shown ------------------------------------

def test_whole_cell_capacitance_accepts_1000_pf_as_typed():
    """The issue: 1000e-12 F is 1000.0000000000001 pF in floating point and was refused."""
    assert 1000e-12 * 1e12 != 1000.0
    assert Amplifier(whole_cell_capacitance=1000e-12).whole_cell_capacitance == 1000e-12
    with pytest.raises(VrigError, match="must be 0 to 1000 pF, got 1000.001 pF"):
        Amplifier(whole_cell_capacitance=1000.001e-12)


@pytest.mark.parametrize("name", sorted(RANGES))
def test_every_range_accepts_its_limits_and_refuses_beyond(name):
    allowed = RANGES[name]
    for shown in (allowed.low, allowed.high):
        if math.isfinite(shown):
            Amplifier(**{name: shown * allowed.si_per_unit})
    for shown in (allowed.low - 1e-6 * max(1.0, abs(allowed.low)),
                  allowed.high * (1 + 1e-6) if math.isfinite(allowed.high) else math.nan):
        with pytest.raises(VrigError, match=f"{allowed.label} must be"):
            Amplifier(**{name: shown * allowed.si_per_unit})


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(n for n in RANGES if math.isfinite(RANGES[n].high))),
       fraction=st.floats(min_value=0.0, max_value=1.0))
def test_any_value_typed_within_a_range_is_accepted(name, fraction):
    allowed = RANGES[name]
    shown = float(f"{allowed.low + fraction * (allowed.high - allowed.low):.6g}")
    shown = min(max(shown, allowed.low), allowed.high)
    Amplifier(**{name: shown * allowed.si_per_unit})


def test_the_rails_are_the_amplifier_stated_range():
    assert amp_mod.OUTPUT_RANGE_V == 10.0 and amp_mod.DIGITIZER_RANGE_V == 10.0
    assert amp_mod.FEEDBACK_RESISTORS_OHM == (50e6, 500e6, 5e9, 50e9, 10e3)
    with pytest.raises(VrigError, match="feedback resistor must be one of 50 MOhm, 500 MOhm"):
        Amplifier(feedback_resistance=1e8)
