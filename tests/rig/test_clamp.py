"""rig.clamp.Mode: one type for the clamp modes, with its units, limits and conversions."""

import json

import numpy as np
import pytest

from rig.clamp import Mode
from rig.errors import VrigError
from rig.protocols.protocol import load_protocol


def test_a_mode_is_its_name_as_text():
    assert Mode.VC == "VC" and Mode("CC") is Mode.CC
    assert f"{Mode.I0}" == "I0" and str(Mode.VC) == "VC"
    assert json.dumps({"mode": Mode.CC}) == '{"mode": "CC"}'
    assert {"VC": 1}[Mode.VC] == 1
    assert [m.label for m in Mode] == ["VC", "CC", "I=0"]


@pytest.mark.parametrize(("mode", "unit", "level_unit", "measured", "limit"), [
    (Mode.VC, "V", "mV", "Im", 500.0),
    (Mode.CC, "A", "pA", "Vm", 1e9),
    (Mode.I0, "A", "pA", "Vm", 1e9),
])
def test_units_and_limits(mode, unit, level_unit, measured, limit):
    assert (mode.command_unit, mode.level_unit, mode.measured, mode.level_limit) == \
        (unit, level_unit, measured, limit)
    assert mode.is_voltage_clamp == (mode is Mode.VC)


def test_conversions_are_exact_inverses():
    assert Mode.VC.to_si(-65.0) == pytest.approx(-0.065, rel=1e-15)
    assert Mode.CC.to_si(100.0) == pytest.approx(1e-10, rel=1e-15)
    levels = np.array([-120.0, 0.0, 37.5])
    for mode in Mode:
        np.testing.assert_allclose(mode.from_si(mode.to_si(levels)), levels, rtol=1e-15)


@pytest.mark.parametrize("bad", ["vc", "I=0", "", None, 3, "VCC"])
def test_parse_names_what_is_wrong(bad):
    with pytest.raises(VrigError, match="mode must be one of VC, CC, I0"):
        Mode.parse(bad)


def test_protocols_hold_a_mode():
    protocol = load_protocol("cc-threshold")
    assert protocol.mode is Mode.CC and protocol.units == "pA"
    assert json.loads(json.dumps(protocol.to_dict()))["mode"] == "CC"
