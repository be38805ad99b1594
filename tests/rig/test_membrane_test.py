"""The membrane test against the model cell (issue 5): a passive cell of known
Rs, Rm and Cm (the MultiClamp MCB-1 'CELL' position: 10 MOhm, 500 MOhm, 33 pF, with
4 pF of pipette capacitance) must be read back within 5 %, through the filter, the
noise and the digitiser too, and `vrig membrane-test` must print the same figures."""

import math
import re

import numpy as np
import pytest

import rig
from rig.amplifier.membrane_test import clamp_time_constant, run_membrane_test
from rig.model.cell import cell_from_dict
from rig.resources import load_preset
from ui import cli as ui_cli

TOLERANCE = 0.05  # issue 5: "within 5 %"


def model_cell(area_um2=3300.0, rm_ohm=500e6):
    """The model-cell preset, optionally with another area (Cm = 1 uF/cm^2) and Rm."""
    data = dict(load_preset("cells", "model-cell"))
    data["area_um2"] = area_um2
    data["leak_mS_per_cm2"] = {"nonselective": 1.0 / rm_ohm / (area_um2 * 1e-8) * 1e3}
    return cell_from_dict(data, f"model-cell-{area_um2:g}")


def bench_for(cell, **amplifier):
    base = rig.Rig.from_presets("model-cell")
    setup = rig.Rig(cell, base.bath, base.pipette, seed=11)
    setup.set_amplifier(**amplifier)
    return setup


def report(label, result, rs, rm, cm):
    print(f"{label}: Ra {result.access_resistance / 1e6:.3f} MOhm (true {rs / 1e6:g}), "
          f"Rm {result.membrane_resistance / 1e6:.2f} MOhm (true {rm / 1e6:g}), "
          f"Cm {result.capacitance * 1e12:.3f} pF (true {cm * 1e12:g}), "
          f"Rt {result.total_resistance / 1e6:.2f} MOhm, tau {result.time_constant * 1e6:.1f} us, "
          f"holding {result.holding_current * 1e12:.2f} pA")


CASES = {
    "33 pF, ideal outputs": (3300.0, {}),
    "30 pF, ideal outputs": (3000.0, {}),
    "33 pF, 10 kHz filter, noise, 60 Hz hum, digitiser": (
        3300.0, {"filter_hz": 10e3, "noise": True, "hum_hz": 60, "digitizer": True}),
    "30 pF, 5 kHz filter and noise": (3000.0, {"filter_hz": 5e3, "noise": True}),
    "33 pF, 2 kHz filter": (3300.0, {"filter_hz": 2e3}),
}


@pytest.mark.parametrize("label", list(CASES))
def test_membrane_test_recovers_the_model_cell(label):
    area, amplifier = CASES[label]
    rs, rm, cm = 10e6, 500e6, area * 1e-8 * 1e-6
    result = run_membrane_test(bench_for(model_cell(area), **amplifier))
    report(label, result, rs, rm, cm)
    assert result.access_resistance == pytest.approx(rs, rel=TOLERANCE)
    assert result.membrane_resistance == pytest.approx(rm, rel=TOLERANCE)
    assert result.capacitance == pytest.approx(cm, rel=TOLERANCE)
    assert result.total_resistance == pytest.approx(rs + rm, rel=TOLERANCE)
    assert result.time_constant == pytest.approx(rs * rm * cm / (rs + rm), rel=TOLERANCE)
    # holding at -65 mV through 510 MOhm to a leak reversing at 0 mV
    assert result.holding_current == pytest.approx(-0.065 / (rs + rm), rel=0.01)
    if not amplifier:  # without any output artefacts the fit is essentially exact
        assert result.access_resistance == pytest.approx(rs, rel=1e-3)
        assert result.capacitance == pytest.approx(cm, rel=1e-3)


@pytest.mark.parametrize("rs_mohm", [5.0, 20.0])
def test_membrane_test_follows_the_access_resistance(rs_mohm):
    rs, rm, cm = rs_mohm * 1e6, 500e6, 33e-12
    result = run_membrane_test(bench_for(model_cell(), series_resistance=rs))
    report(f"Rs {rs_mohm:g} MOhm", result, rs, rm, cm)
    assert result.access_resistance == pytest.approx(rs, rel=0.01)
    assert result.membrane_resistance == pytest.approx(rm, rel=0.01)
    assert result.capacitance == pytest.approx(cm, rel=0.01)


def test_a_leaky_seal_shows_as_lower_membrane_resistance():
    """A 2 GOhm seal in parallel with 500 MOhm reads as 400 MOhm (what a real test sees)."""
    result = run_membrane_test(bench_for(model_cell(), seal_resistance=2e9))
    report("2 GOhm seal", result, 10e6, 400e6, 33e-12)
    assert result.membrane_resistance == pytest.approx(1 / (1 / 500e6 + 1 / 2e9), rel=0.01)
    assert result.capacitance == pytest.approx(33e-12, rel=0.01)


def test_vrig_membrane_test_prints_the_model_cell(capsys):
    status = ui_cli.main(["membrane-test", "--cell", "model-cell", "--filter-khz", "10",
                          "--noise", "on"])
    out, err = capsys.readouterr()
    print(out)
    assert status == 0 and err == ""
    values = {name: float(value) for name, value in
              re.findall(r"^(\w+): ([-0-9.eE+]+) \w+$", out, flags=re.MULTILINE)}
    assert set(values) == {"total_resistance", "access_resistance", "membrane_resistance",
                           "capacitance", "holding_current", "time_constant"}
    assert values["access_resistance"] == pytest.approx(10.0, rel=TOLERANCE)  # MOhm
    assert values["membrane_resistance"] == pytest.approx(500.0, rel=TOLERANCE)
    assert values["capacitance"] == pytest.approx(33.0, rel=TOLERANCE)  # pF
    assert values["time_constant"] == pytest.approx(323.5, rel=TOLERANCE)  # us


@pytest.mark.parametrize(("tau_s", "rel"), [(2e-4, 1e-9), (2.05e-4, 1e-3), (4.3e-5, 1e-2)])
def test_clamp_time_constant_of_an_exact_exponential(tau_s, rel):
    """Sample onset + k holds the potential k dt after the onset; the 1 - 1/e crossing
    is interpolated linearly (exact when it falls on a sample; the chord error of an
    exponential, about (dt/tau)^2 / 8, between samples)."""
    dt = 1e-5
    t = np.arange(1000) * dt
    v = np.concatenate([np.full(1000, -0.065), -0.065 + 0.01 * (1 - np.exp(-t / tau_s))])
    assert clamp_time_constant(v, 1000, dt) == pytest.approx(tau_s, rel=rel)


def test_clamp_time_constant_without_a_step_is_nan():
    assert math.isnan(clamp_time_constant(np.full(100, -0.065), 50, 1e-5))
