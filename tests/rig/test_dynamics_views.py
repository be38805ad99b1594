"""The Qt-free parts behind the Dynamics tab: the 2-D reduction against the full
model's own trajectory, the diagram's cancel, and a sweep folded into a grid."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from rig.dynamics import reduction
from rig.dynamics.diagram import Cancelled, compute_diagram
from rig.dynamics.equilibria import equilibria_at
from rig.dynamics.sweep_grid import result_array
from rig.dynamics.sweep_spec import Vary
from rig.dynamics.system import point_system


def test_the_reduction_holds_along_the_full_models_firing():
    system = point_system("hh-squid")
    current = system.current_pa(10.0)  # above the lower Hopf: repetitive firing
    (eq,) = equilibria_at(system, current)
    sol = solve_ivp(lambda t, y: system.rhs(y, current), (0, 200),
                    eq.state + np.array([10.0, 0, 0, 0]), method="LSODA", rtol=1e-7,
                    atol=1e-9, max_step=0.2, t_eval=np.arange(100, 200, 0.05))
    v, _, h, n = sol.y
    assert v.max() > 20  # it fires
    miss = h - (reduction.H_INTERCEPT - reduction.H_SLOPE * n)
    assert np.abs(miss).max() < 0.07 and np.sqrt(np.mean(miss**2)) < 0.02
    assert reduction.valid_for(system, ("hh-na", "hh-k")) == ""
    assert "no 2-D reduction" in reduction.valid_for(system, ("cortical-na", "cortical-kdr"))
    # the reduced nullclines cross within 0.3 mV of the full model's rest at 0 pA
    plane = reduction.phase_plane(system, 0.0)
    v_null, n_null = reduction.v_nullcline(plane)
    near = v_null < -55
    k = np.argmin(np.abs(n_null[near] - np.interp(v_null[near], plane.v_mv, plane.n_inf)))
    (rest,) = equilibria_at(system, 0.0)
    assert v_null[near][k] == pytest.approx(rest.v_mv, abs=0.3)


def test_a_cancelled_diagram_stops_after_its_equilibria():
    seen = []
    with pytest.raises(Cancelled):
        compute_diagram(point_system("hh-squid"), cancelled=lambda: bool(seen),
                        on_equilibria=seen.append)
    (diagram,) = seen
    assert not diagram.cycles_done
    assert diagram.hopf_of("onset").current_pa == pytest.approx(97.8087, abs=1e-3)
    assert diagram.hopf_of("block").current_pa == pytest.approx(1548.04, abs=0.01)
    assert diagram.rest_stable_at(50.0) and not diagram.rest_stable_at(120.0)


def test_sweep_rows_fold_into_a_grid_with_nan_for_missing():
    varies = [Vary("a", (1.0, 2.0)), Vary("b", (10.0, 20.0, 30.0))]
    results = [[{"sweep": 1, "x": float(k)}] for k in range(6)]
    results[4] = [{"sweep": 1, "x": ""}]
    grid = result_array(varies, results, "x")
    assert grid.shape == (2, 3) and grid[0, 2] == 2 and grid[1, 0] == 3
    assert np.isnan(grid[1, 1])
