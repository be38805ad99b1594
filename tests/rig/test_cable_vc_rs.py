"""Voltage clamp through the access resistance on a fibre, against ground truth: in the
steady state the clamp's error is I*Rs, and the current is the step over Rs plus the
input resistance the electrode sees (with the seal's beside it): a sealed-end cable's
r_a lambda cosh((L - x0) / lambda) / sinh(L / lambda) from the first compartment's centre
x0 (point clamp), or the whole fibre's membrane resistance with the axial wire (one node).

Passive fibre: 10 um across, Ri 35.4 ohm*cm, a 0.3 mS/cm^2 leak (Rm 3333 ohm*cm^2), so
lambda = sqrt(Rm d / (4 Ri)) = 1.534 mm and r_a lambda = 6.92 MOhm; 2 lambda long in
400 compartments (the discretisation error is ~1e-6 of the input resistance).
"""

import math

import numpy as np
import pytest

import rig
from rig.model.cell import cell_from_dict

DT = 25e-6
DIAMETER_UM = 10.0
RI_OHM_CM = 35.4
RM_OHM_CM2 = 1 / 0.3e-3
LAMBDA_UM = math.sqrt(RM_OHM_CM2 * DIAMETER_UM * 1e-4 / (4 * RI_OHM_CM)) * 1e4
LENGTH_UM = 2 * LAMBDA_UM
RS_OHM = 5e6
STEP_V = -0.010


def passive_thin_fibre():
    data = {"specific_capacitance_uF_per_cm2": 1.0, "temperature_C": 18.5,
            "leak_mS_per_cm2": {"nonselective": 0.3},
            "cable": {"length_mm": LENGTH_UM / 1000, "diameter_um": DIAMETER_UM,
                      "axial_resistivity_ohm_cm": RI_OHM_CM, "compartments": 400}}
    return cell_from_dict(data, "passive")


def steady_change(axial_wire):
    """(change of Im (A), change of Vcmd - Vm at the electrode (V), the change of Vm at
    the sites at 0, L/2 and L (V), the seal's resistance (ohm)) between the steady
    states at the holding potential and 10 mV below it, the electrode at the first end,
    Rs 5 MOhm, no compensation, the outputs exact (no digitiser, noise or filter)."""
    setup = rig.Rig.from_presets(passive_thin_fibre(), dt=DT, series_resistance=RS_OHM,
                                 record_at=(0.0, LENGTH_UM / 2e6, LENGTH_UM / 1e6),
                                 axial_wire=axial_wire)
    setup.set_amplifier(digitizer=False, noise=False, hum_hz=0.0, filter_hz=None)  # exact
    setup.set_mode("VC")
    setup.set_holding(-0.060)
    setup.settle()
    n = round(60e-3 / DT)  # 18 membrane time constants
    held = setup.advance(np.full(n, -0.060), DT)
    stepped = setup.advance(np.full(n, -0.060 + STEP_V), DT)
    d_i = stepped["Im"][-1] - held["Im"][-1]
    error = (-0.060 + STEP_V - stepped["Vmem"][-1]) - (-0.060 - held["Vmem"][-1])
    names = ("Vm@0mm", f"Vm@{LENGTH_UM / 2000:g}mm", f"Vm@{LENGTH_UM / 1000:g}mm")
    return (d_i, error, np.array([stepped[name][-1] - held[name][-1] for name in names]),
            setup.amplifier.seal_resistance)


def parallel(*resistances):
    return 1 / sum(1 / r for r in resistances)


def test_a_point_clamp_through_rs_sees_the_cables_input_resistance():
    r_a = 4 * RI_OHM_CM / (math.pi * (DIAMETER_UM * 1e-4) ** 2)  # ohm/cm
    x0 = LENGTH_UM / 400 / 2  # the electrode's compartment's centre (um)
    r_in = (r_a * LAMBDA_UM * 1e-4 * math.cosh((LENGTH_UM - x0) / LAMBDA_UM)
            / math.sinh(LENGTH_UM / LAMBDA_UM))  # 7.16 MOhm
    d_i, error, d_sites, seal = steady_change(axial_wire=False)
    r_in = parallel(r_in, seal)  # the seal leaks beside the electrode
    assert d_i == pytest.approx(STEP_V / (RS_OHM + r_in), rel=1e-4)
    assert d_sites[0] == pytest.approx(STEP_V * r_in / (RS_OHM + r_in), rel=1e-4)
    assert error == pytest.approx(d_i * RS_OHM, rel=1e-9)  # the clamp error is I*Rs
    # beyond the electrode the change decays as cosh((L - x) / lambda) (the sites are
    # the nearest compartments' centres, within lambda / 400 of L/2 and L)
    x = np.array([x0, LENGTH_UM / 2, LENGTH_UM - x0])
    shape = np.cosh((LENGTH_UM - x) / LAMBDA_UM) / math.cosh((LENGTH_UM - x0) / LAMBDA_UM)
    assert d_sites / d_sites[0] == pytest.approx(shape, rel=3e-3)


def test_the_axial_wire_through_rs_holds_the_fibre_as_one_node():
    area_cm2 = math.pi * DIAMETER_UM * 1e-4 * LENGTH_UM * 1e-4
    r_membrane = RM_OHM_CM2 / area_cm2  # the whole fibre's leak, 11.4 MOhm
    d_i, error, d_sites, seal = steady_change(axial_wire=True)
    r_membrane = parallel(r_membrane, seal)
    assert d_i == pytest.approx(STEP_V / (RS_OHM + r_membrane), rel=1e-6)
    assert error == pytest.approx(d_i * RS_OHM, rel=1e-9)
    assert d_sites == pytest.approx(np.full(3, d_sites[0]), abs=1e-12)  # V: one node
