"""The cell's capacitance can be set from the panel: the membrane time constant follows
and the conductances stay."""

import numpy as np
import pytest

import rig
from rig.amplifier.membrane_test import run_membrane_test


def test_membrane_test_recovers_a_changed_capacitance():
    setup = rig.Rig.from_presets("model-cell")
    setup.set_capacitance(20e-12)
    result = run_membrane_test(setup)
    print(f"model cell at 20 pF: Ra {result.access_resistance / 1e6:.3f} MOhm, "
          f"Rm {result.membrane_resistance / 1e6:.2f} MOhm, Cm {result.capacitance * 1e12:.3f} pF")
    assert result.capacitance == pytest.approx(20e-12, rel=0.01)
    assert result.membrane_resistance == pytest.approx(500e6, rel=0.01)
    assert result.access_resistance == pytest.approx(10e6, rel=0.01)


def test_capacitance_outside_the_allowed_range_is_refused_with_the_range():
    setup = rig.Rig.from_presets("hh-squid")  # 1000 um^2: 1 to 100 pF
    with pytest.raises(rig.VrigError, match="1 to 100 pF"):
        setup.set_capacitance(500e-12)
    with pytest.raises(rig.VrigError):
        setup.set_capacitance(float("nan"))
    assert setup.cell.capacitance_pf == pytest.approx(10.0)
    setup.set_capacitance(20e-12)
    v = setup.advance(np.zeros(10), 20e-6)["Vm"]
    assert np.isfinite(v).all()
