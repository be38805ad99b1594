"""The cable kernel against ground truth: one compartment is the patch kernel (to
rounding), and a passive fibre under a steady current decays along its length as cable
theory says (sealed-end cosh form, input resistance r_a lambda coth(L / lambda)) and
charges as the semi-infinite cable (erfc form).

Passive fibre: the squid axon's geometry (d = 476 um, Ri = 35.4 ohm*cm) with only a
0.3 mS/cm^2 leak (Rm = 3333 ohm*cm^2), so lambda = sqrt(Rm d / (4 Ri)) = 10.586 mm;
the cable is 2 lambda long, cut into 400 compartments (dx = lambda / 200), whose
second-order discretisation error is (dx / lambda)^2 / 24 ~ 1e-6 of the shape.
"""

import math
from dataclasses import replace

import numpy as np
import pytest

from rig.model.cell import cell_from_dict, load_cell
from rig.model.geometry import CableGeometry
from rig.simulation import cable_kernel, kernel, layout
from rig.simulation.cable import cable_output_rows
from rig.simulation.fibre import Fibre

DT = 25e-6


def one_compartment_squid():
    """hh-squid's 1000 um^2 membrane as a fibre of one compartment (L = d)."""
    side = math.sqrt(1000 / math.pi)
    cell = load_cell("hh-squid")
    return replace(cell, geometry=CableGeometry(side, side, 35.4, 1))


def test_one_compartment_is_the_patch_kernel_to_rounding():
    """A 1 ms, 100 pA pulse (one spike) then 20 ms of a 30 pA step: the cable kernel on
    one compartment and the patch kernel's advance_cc agree to 1e-9 mV in V and to
    1e-12 in every gate, sample by sample, at dt = 25 us (and on to 10 us)."""
    for dt in (25e-6, 10e-6):
        fibre = Fibre(one_compartment_squid(), dt=dt, record_at=(0.0,))
        m = fibre.membrane
        patch = tuple(m.kernel_model(m.chan_g_ns, np.zeros(len(m.gates))))
        n = round(25e-3 / dt)
        command = np.zeros(n)
        command[round(1e-3 / dt): round(2e-3 / dt)] = 100e-12
        command[round(4e-3 / dt):] = 30e-12
        outs = []
        for step, record in ((cable_kernel.advance_cable_cc, fibre.record),
                             (kernel.advance_cc, patch)):
            fibre.settle()
            sim = fibre.sim
            rows = cable_output_rows(m, 1) if step is cable_kernel.advance_cable_cc else (
                layout.output_rows(len(m.labels), m.gate_channel.size))
            out = np.empty((rows, n))
            ok, _, _ = step(record, fibre.amp, (sim.v_mv, sim.gates, sim.electrode), command,
                            1, out)
            assert ok
            outs.append(out)
        cable, point = outs
        assert cable[layout.OUT_VMEM].max() > 0.02  # it fired
        assert np.abs(cable[layout.OUT_VMEM] - point[layout.OUT_VMEM]).max() < 1e-12  # V
        assert np.abs(cable[-1] - point[layout.OUT_VMEM]).max() < 1e-12  # the site row
        assert np.abs(cable[layout.FIRST_LABEL_ROW:-1] - point[layout.FIRST_LABEL_ROW:]
                      ).max() < 1e-12 * np.abs(point[layout.FIRST_LABEL_ROW:]).max()


def passive_fibre(length_um, compartments):
    data = {"specific_capacitance_uF_per_cm2": 1.0, "temperature_C": 18.5,
            "leak_mS_per_cm2": {"nonselective": 0.3},
            "cable": {"length_mm": length_um / 1000, "diameter_um": 476,
                      "axial_resistivity_ohm_cm": 35.4, "compartments": compartments}}
    return cell_from_dict(data, "passive")


def test_a_passive_fibre_decays_as_the_sealed_end_cable():
    lam_um = math.sqrt(3333.33 * 476e-4 / (4 * 35.4)) * 1e4
    length = 2 * lam_um
    cell = passive_fibre(length, 400)
    assert cell.geometry.length_constant_um(1 / 0.3e-3) == pytest.approx(lam_um, rel=1e-5)
    sites = np.linspace(0, length, 9)
    fibre = Fibre(cell, dt=DT, record_at=tuple(sites * 1e-6))
    current = 1e-6  # 1 uA
    trace = fibre.run(np.full(round(0.06 / DT), current), DT)  # 18 time constants
    x = cell.geometry.centres_um()[fibre.sites]
    v = np.array([trace[name][-1] for name in fibre.signal_names()])  # V, from rest 0
    expected_shape = np.cosh((length - x) / lam_um) / np.cosh((length - x[0]) / lam_um)
    assert v / v[0] == pytest.approx(expected_shape, rel=2e-5)
    # input resistance of a sealed cable seen from x0 = dx/2
    r_a = 4 * 35.4 / (math.pi * 476e-4 ** 2) * 1e-4  # ohm per um
    r_in = r_a * lam_um * np.cosh((length - x[0]) / lam_um) / np.sinh(length / lam_um)
    assert v[0] == pytest.approx(current * r_in, rel=1e-4)
    assert v[0] > 0.01  # a 10 mV signal: the comparison is not of noise


def test_a_long_passive_fibre_decays_as_exp_minus_x_over_lambda():
    """10 lambda long: far from the sealed end V(x) = V(0) exp(-x / lambda) within
    the end's correction exp(-2 (L - x) / lambda) < 1e-6 over the first 3 lambda."""
    lam_um = math.sqrt(3333.33 * 476e-4 / (4 * 35.4)) * 1e4
    cell = passive_fibre(10 * lam_um, 1000)
    sites = np.array([0.0, 0.5, 1.0, 2.0, 3.0]) * lam_um
    fibre = Fibre(cell, dt=DT, record_at=tuple(sites * 1e-6))
    trace = fibre.run(np.full(round(0.06 / DT), 1e-6), DT)
    x = cell.geometry.centres_um()[fibre.sites]
    v = np.array([trace[name][-1] for name in fibre.signal_names()])
    assert v / v[0] == pytest.approx(np.exp(-(x - x[0]) / lam_um), rel=1e-4)


def test_a_passive_fibre_charges_as_the_analytic_semi_infinite_cable():
    """A 1 uA step into the sealed end of a 10 lambda fibre (2000 compartments) against
    the semi-infinite cable's charging (Jack, Noble & Tsien 1975):

        V(X, T) = r_a lambda I / 2 [e^-X erfc(X / 2 sqrt(T) - sqrt(T))
                                    - e^X erfc(X / 2 sqrt(T) + sqrt(T))]

    with X = x / lambda and T = t / tau (tau = Rm Cm = 3.33 ms). At dt = 5 us, measured:
    at the end (X = 0.0025) within 5e-4 for T = 0.3 and 1e-4 for T >= 1; one lambda
    away within 1.4e-3 at T = 0.3 and 1.3e-4 at T >= 1 (the error is first order in
    dt: five times as large at 25 us)."""
    from scipy.special import erfc

    lam_um = math.sqrt(3333.33 * 476e-4 / (4 * 35.4)) * 1e4
    tau_s = 3.33333e-3
    dt = 5e-6
    cell = passive_fibre(10 * lam_um, 2000)
    fibre = Fibre(cell, dt=dt, record_at=(0.0, lam_um * 1e-6))
    trace = fibre.run(np.full(round(0.012 / dt), 1e-6), dt)
    r_inf_ohm = 4 * 35.4 / (math.pi * 476e-4 ** 2) * 1e-4 * lam_um
    x = cell.geometry.centres_um()[fibre.sites] / lam_um
    for t_over_tau, tolerance in ((0.3, (1e-3, 3e-3)), (1.0, (2e-4, 3e-4)),
                                  (3.0, (2e-4, 3e-4))):
        k = round(t_over_tau * tau_s / dt) - 1
        big_t = trace["t"][k] / tau_s
        for big_x, name, rel in zip(x, fibre.signal_names(), tolerance):
            root = math.sqrt(big_t)
            exact = r_inf_ohm * 1e-6 / 2 * (
                math.exp(-big_x) * erfc(big_x / (2 * root) - root)
                - math.exp(big_x) * erfc(big_x / (2 * root) + root))
            assert trace[name][k] == pytest.approx(exact, rel=rel), (t_over_tau, big_x)


def test_one_compartment_in_ideal_vc_is_the_patch_kernel_to_rounding():
    """Steps -65 -> 0 -> -80 mV on one compartment: the cable's ideal clamp and the
    patch's advance_vc_ideal give the same current (capacitive jumps included, to
    1e-9 relative) and the same gates (to 1e-12). The patch's gating current is left
    out: the cable kernel does not compute it (it is 0.03 pA at rest and nA at a step
    on hh-squid's 1000 um^2)."""
    fibre = Fibre(one_compartment_squid(), dt=10e-6, record_at=(0.0,))
    m = fibre.membrane
    patch = tuple(m.kernel_model(m.chan_g_ns, np.zeros(len(m.gates)))._replace(
        gate_charge_fc=np.zeros(len(m.gates)), has_charge=False))
    amp = fibre.amp.copy()
    amp[layout.AMP_COMMAND_SCALE] = 1e3  # mV per V
    amp[layout.AMP_COMMAND_LIMIT] = 1e3
    command = np.full(1500, -0.065)
    command[200:1000] = 0.0
    command[1000:] = -0.080
    outs = []
    for step, record, rows in ((cable_kernel.advance_cable_vc_ideal, fibre.record,
                                cable_output_rows(m, 1)),
                               (kernel.advance_vc_ideal, patch,
                                layout.output_rows(len(m.labels), m.gate_channel.size))):
        fibre.settle()
        sim = fibre.sim
        out = np.empty((rows, command.size))
        ok, _, _ = step(record, amp, (sim.v_mv, sim.gates, sim.electrode), command, 2, out)
        assert ok
        outs.append(out)
    cable, point = outs
    im = point[layout.OUT_IM]
    assert np.abs(im).max() > 1e-9  # nA of Na and capacitive current: not a null test
    assert np.abs(cable[layout.OUT_IM] - im).max() < 1e-9 * np.abs(im).max()
    n_gates = len(m.gates)
    assert np.abs(cable[-1 - n_gates:-1] - point[-n_gates:]).max() < 1e-12


def test_the_membrane_rows_series_is_b_over_expm1_to_rounding():
    """ce = B / expm1(B dt / C) by its series, below SERIES_LIMIT (1.0): within 2 ulp of
    the closed form at 2001 rates; the row says which rates are beyond it."""
    from rig.simulation.cable_step import SERIES_LIMIT, _membrane_row

    for x in np.linspace(1e-9, SERIES_LIMIT, 2001):
        b, v = np.array([x * 50.0]), np.array([-65.0])
        cm_dt, dt_cm = np.array([50.0]), np.array([0.02])  # C / dt (nS) and its reciprocal
        a, r, d, axial = np.array([3.0]), np.empty(1), np.empty(1), np.zeros((2, 1))
        beyond = _membrane_row(0, a, b, v, cm_dt, dt_cm, r, d, axial)
        ce = b[0] / math.expm1(b[0] * dt_cm[0])
        assert d[0] - b[0] == pytest.approx(ce, rel=5e-16, abs=1e-12)
        assert r[0] == pytest.approx(ce * v[0] + a[0], rel=5e-16)
        assert beyond == (x >= SERIES_LIMIT)
