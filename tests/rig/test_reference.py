"""The compiled kernel against the Python reference right-hand side
(rig.simulation.reference) integrated by scipy's solve_ivp at tight tolerances: an
HH action potential in current clamp and a voltage-clamp step on hh-squid, 6.3 degC.

The kernel steps with exact exponential (Rush-Larsen) gates from interpolated tables
and an exact linear membrane update at dt = 10 us; the reference is the same ODE
solved to 1e-10. Sample k of a kernel block holds the state k sample intervals after
the block starts (before that interval is stepped), so the reference is evaluated there.
Units: mV, ms, pA.
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import rig
from rig.simulation import reference

DT_S = 10e-6  # one kernel step per sample
DT_MS = DT_S * 1e3
TOL = {"rtol": 1e-10, "atol": 1e-10}


def _reference_run(rhs, y0, segments, n_per_segment):
    """Integrate rhs(t, y, level) through constant-level segments (a list of levels, each
    n_per_segment samples), each restarted at its discontinuity; returns y at the start
    of every sample, shape (n_vars, n_samples)."""
    y, columns = np.asarray(y0, dtype=float), []
    for level, n in zip(segments, n_per_segment):
        t_eval = np.arange(n + 1) * DT_MS
        solution = solve_ivp(lambda t, state, level=level: rhs(t, state, level),
                             (0.0, t_eval[-1]), y, method="LSODA", t_eval=t_eval, **TOL)
        assert solution.success, solution.message
        columns.append(solution.y[:, :-1])
        y = solution.y[:, -1]
    return np.concatenate(columns, axis=1)


def _upward_crossing_ms(v_mv, level_mv=0.0):
    """Time (ms from the block's start) of the first upward crossing of level_mv, with
    sample k at k DT_MS and linear interpolation between samples."""
    k = np.nonzero((v_mv[1:] > level_mv) & (v_mv[:-1] <= level_mv))[0][0]
    fraction = (level_mv - v_mv[k]) / (v_mv[k + 1] - v_mv[k])
    return (k + fraction) * DT_MS


def test_current_clamp_action_potential_matches_the_reference_ode():
    setup = rig.Rig.from_presets("hh-squid", dt=DT_S)
    setup.set_mode("CC")
    setup.set_holding(0.0)
    setup.settle()
    m = setup.membrane()
    y0 = setup.sim.vector()
    levels_pa, n = (0.0, 500.0, 0.0), (100, 50, 1000)  # 1 ms rest, 0.5 ms pulse, 10 ms
    command = np.concatenate([np.full(k, level * 1e-12) for level, k in zip(levels_pa, n)])
    v_kernel = setup.advance(command, DT_S)["Vmem"] * 1e3

    expected = _reference_run(lambda t, y, level: reference.derivatives(m, y, level),
                              y0, levels_pa, n)
    v_ref = expected[0]
    assert v_ref.max() > 20.0, "the pulse must fire an action potential"
    print(f"peak {v_kernel.max():.3f} mV (reference {v_ref.max():.3f}); 0 mV crossing "
          f"{_upward_crossing_ms(v_kernel):.4f} ms (reference {_upward_crossing_ms(v_ref):.4f})")
    # measured: 1 uV and 0.02 dt apart; the bounds leave room for a change of tables
    assert abs(v_kernel.max() - v_ref.max()) < 0.05
    assert abs(_upward_crossing_ms(v_kernel) - _upward_crossing_ms(v_ref)) < 0.5 * DT_MS
    assert abs(np.argmax(v_kernel) - np.argmax(v_ref)) <= 2
    # the whole trace, outside the upstroke where a shift of a fraction of dt is many mV
    assert np.max(np.abs(v_kernel - v_ref)[:150]) < 0.05
    assert np.max(np.abs(v_kernel - v_ref)[-300:]) < 0.5


@pytest.mark.parametrize("step_mv", [0.0, -20.0])
def test_voltage_clamp_step_currents_match_the_reference_ode(step_mv):
    setup = rig.Rig.from_presets("hh-squid", dt=DT_S)
    setup.set_mode("VC")
    setup.set_holding(-0.065)
    setup.settle()
    m = setup.membrane()
    n = 500  # 5 ms
    sig = setup.advance(np.full(n, step_mv * 1e-3), DT_S)
    gates = _reference_run(lambda t, x, v: reference.clamped_derivatives(m, x, v),
                           reference.steady_gates(m, -65.0), (step_mv,), (n,))
    v_mv = np.r_[-65.0, np.full(n - 1, step_mv)]  # sample 0: the onset, at holding
    ionic_ref = reference.ionic_current_pa(m, v_mv, gates)
    ionic_kernel = (sig["INa"] + sig["IK"] + sig["Ileak"]) * 1e12
    peak_ref = ionic_ref.min()
    peak_kernel = ionic_kernel.min()
    print(f"{step_mv} mV: peak inward {peak_kernel:.2f} pA (reference {peak_ref:.2f}), "
          f"at {np.argmin(ionic_kernel)} / {np.argmin(ionic_ref)} samples")
    assert peak_ref < -100.0, "the step must open the sodium channels"
    assert peak_kernel == pytest.approx(peak_ref, rel=0.002)  # measured: < 1e-6
    assert abs(np.argmin(ionic_kernel) - np.argmin(ionic_ref)) <= 2
    assert ionic_kernel[-1] == pytest.approx(ionic_ref[-1], rel=0.01)
    # each gate too, and the ideal clamp holds the membrane exactly at the command
    for row, name in enumerate(m.gate_names):
        np.testing.assert_allclose(sig[name], gates[row], atol=2e-3)
    np.testing.assert_array_equal(sig["Vmem"], v_mv * 1e-3)


def test_the_reference_rest_is_a_fixed_point_the_kernel_keeps():
    setup = rig.Rig.from_presets("hh-squid", dt=DT_S)
    setup.set_mode("I0")
    setup.settle()
    m = setup.membrane()
    y = setup.sim.vector()
    rates = reference.derivatives(m, y)
    assert np.max(np.abs(rates)) < 1e-9
    v = setup.advance(np.zeros(1000), DT_S)["Vmem"] * 1e3
    assert np.max(np.abs(v - y[0])) < 1e-3
