"""rig.dynamics against the published bifurcation landmarks of the HH equations at
6.3 degC, and against direct simulation (an independent check of the same equations
by an ODE integrator that knows nothing of Hopf points or collocation).

Published values (Rinzel & Miller 1980 Math Biosci 49:27-59; Guckenheimer & Labouriau
1993 Bull Math Biol 55:937-952), for HH's own parameters: E_Na = +50, E_K = -77,
E_L = -54.387 mV (rest at -65), gNa 120, gK 36, gL 0.3 mS/cm^2, Cm 1 uF/cm^2:
lower Hopf 9.78, fold of cycles 6.26, upper Hopf 154.5 uA/cm^2.
vRig's hh-squid preset has the same channels and conductances, but its reversal
potentials are Nernst potentials of its squid solutions (E_Na +50.075, E_K -77.028 mV)
and its 0.3 mS/cm^2 leak is split into K, Na and Cl parts whose chord reversal is
-54.389 mV; ``CLASSIC`` sets the published reversals to compare like with like.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from rig.dynamics import cycles
from rig.dynamics.equilibria import V_GRID_MV, equilibria_at, parameter_branch
from rig.dynamics.landmarks import landmarks
from rig.dynamics.system import point_system
from rig.errors import VrigError
from rig.simulation import reference
from ui import cli as ui_cli

CLASSIC = {"Na": 50.0, "K": -77.0, "leak": -54.387}


@pytest.fixture(scope="module")
def classic():
    return point_system("hh-squid", reversal_mv=CLASSIC)


@pytest.fixture(scope="module")
def classic_landmarks(classic):
    return landmarks(classic)


def test_published_landmarks_of_the_classic_hh_equations(classic, classic_landmarks):
    found = classic_landmarks
    # each is stated to the published precision (two or three digits)
    assert classic.density_ua_per_cm2(found.hopf_lower_pa) == pytest.approx(9.78, abs=0.01)
    assert classic.density_ua_per_cm2(found.fold_of_cycles_pa) == pytest.approx(6.26, abs=0.01)
    assert classic.density_ua_per_cm2(found.hopf_upper_pa) == pytest.approx(154.5, abs=0.1)


def test_rest_is_stable_below_the_lower_hopf_and_above_the_upper(classic, classic_landmarks):
    for density, stable in ((9.7, True), (9.9, False), (154, False), (155, True)):
        (eq,) = equilibria_at(classic, classic.current_pa(density))
        assert eq.stable == stable, density


def test_cycles_from_the_lower_hopf_are_unstable_until_the_fold(classic, classic_landmarks):
    hopf = classic_landmarks.hopf[0]
    family, fold = classic_landmarks.cycles, classic_landmarks.fold
    small = family[1]
    large = next(c for c in family if c.v_peak_mv > fold.v_peak_mv + 2)
    assert small.period_ms == pytest.approx(hopf.period_ms, rel=0.05)
    assert not cycles.is_stable(classic, small)
    assert cycles.is_stable(classic, large)
    # at the fold a second multiplier reaches 1 beside the trivial one
    multipliers = np.sort(np.abs(cycles.floquet_multipliers(classic, fold)))
    assert multipliers[-2:] == pytest.approx([1.0, 1.0], abs=0.02)
    assert np.all(multipliers[:-2] < 1e-3)


def _spikes_late(current_density, start, duration_ms=300.0, late_ms=100.0):
    """Spikes (upward crossings of 0 mV) in the last late_ms of a direct integration
    of the classic equations (rig.simulation.reference) from start."""
    system = point_system("hh-squid", reversal_mv=CLASSIC)
    m = system.membrane
    current = system.current_pa(current_density)
    sol = solve_ivp(lambda t, y: reference.derivatives(m, y, current), (0, duration_ms),
                    start, method="LSODA", rtol=1e-7, atol=1e-9, max_step=0.5,
                    t_eval=np.arange(duration_ms - late_ms, duration_ms, 0.05))
    v = sol.y[0]
    return int(np.sum((v[:-1] < 0) & (v[1:] >= 0)))


def _rest(current_density, kick_mv):
    system = point_system("hh-squid", reversal_mv=CLASSIC)
    (eq,) = equilibria_at(system, system.current_pa(current_density))
    return eq.state + np.concatenate(([kick_mv], np.zeros(system.size - 1)))


def test_simulation_brackets_the_fold_by_bistability(classic, classic_landmarks):
    fold = classic.density_ua_per_cm2(classic_landmarks.fold_of_cycles_pa)
    hopf = classic.density_ua_per_cm2(classic_landmarks.hopf_lower_pa)
    assert 6.0 < fold < 6.5 < 9.5 < hopf < 10.5
    # between the fold and the Hopf: rest and firing both persist
    assert _spikes_late(6.5, _rest(6.5, 0.5)) == 0
    assert _spikes_late(6.5, _rest(6.5, 30.0)) >= 4
    # below the fold the same kick fires a few spikes, then the cell rests
    assert _spikes_late(6.0, _rest(6.0, 30.0)) == 0
    # the Hopf: just below it rest survives a small kick, just above it the cell fires
    assert _spikes_late(9.5, _rest(9.5, 0.5)) == 0
    assert _spikes_late(10.5, _rest(10.5, 0.5)) >= 4


def test_vrig_bifurcation_prints_the_preset_landmarks(capsys):
    assert ui_cli.main(["bifurcation", "--cell", "hh-squid"]) == 0
    lines = dict(line.split(": ") for line in capsys.readouterr().out.splitlines())
    assert list(lines) == ["hopf_lower", "hopf_lower_density", "hopf_upper",
                           "hopf_upper_density", "fold_of_cycles", "fold_of_cycles_density",
                           "saddle_node", "saddle_node_density"]
    # HH's I-V is monotonic: no saddle-node at the currents that hold it from -120 to 80 mV
    assert lines["saddle_node"].startswith("none in -") and lines["saddle_node"].endswith(" pA")
    # the preset (Nernst reversals of its solutions) moves them by under 0.2 %
    value, unit = lines["hopf_lower"].split()
    assert unit == "pA" and float(value) == pytest.approx(97.8, rel=2e-3)
    value, unit = lines["fold_of_cycles_density"].split()
    assert unit == "uA/cm2" and float(value) == pytest.approx(6.26, rel=2e-3)
    assert float(lines["hopf_upper_density"].split()[0]) == pytest.approx(154.5, rel=2e-3)


@pytest.mark.parametrize("argv, message", [
    (["--cell", "no-such-cell"], "unknown cell preset"),
    (["--cell", "squid-axon"], "point cell"),
    (["--param", "gCa"], "takes current, gNa, gK, gleak, bath.Na"),
    (["--param", "gK", "--range", "80:20"], "HIGH must be above LOW"),
    (["--param", "bath.K", "--range", "1:x"], "give LOW:HIGH in mM"),
    (["--range", "1:2"], "go with --param other than current"),
    (["--temperature", "nan"], "--temperature"),
])
def test_bad_bifurcation_input_is_one_error_line(capsys, argv, message):
    assert ui_cli.main(["bifurcation", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vrig: error:") and message in err[0]


def test_equilibria_against_another_parameter_and_bad_names():
    # halving gK moves rest up; any scale keeps a single equilibrium in HH at I = 0
    branch = parameter_branch(lambda k: point_system("hh-squid", conductance_scale={"K": k}),
                              [0.5, 1.0])
    assert [len(b) for b in branch] == [1, 1]
    assert branch[0][0].v_mv > branch[1][0].v_mv
    assert branch[1][0].v_mv == pytest.approx(-65.0, abs=0.1)
    with pytest.raises(VrigError, match="no channel 'Ca'"):
        point_system("hh-squid", conductance_scale={"Ca": 2})


def test_fi_curve_up_and_down_shows_the_bistable_band_on_the_rigs_engine():
    from rig.dynamics.fi_curve import fi_hysteresis
    from rig.simulation.engine import Rig

    # the rig's compiled engine (not the equations above): hh-squid's fold of cycles
    # is at 62.59 pA and its lower Hopf at 97.81 pA (vrig bifurcation)
    curve = fi_hysteresis(Rig.from_presets("hh-squid"), np.arange(50.0, 125.0, 5.0))
    band = curve.bistable()
    assert band.min() - 5 < 62.59 < band.min()
    assert band.max() < 97.81 < band.max() + 5
    assert np.all(curve.rate_up_hz[curve.currents_pa < 97.81] == 0)
    assert np.all(curve.rate_down_hz[curve.currents_pa > 62.59] > 0)
    assert curve.rate_down_hz[curve.currents_pa == 120][0] == pytest.approx(75, abs=10)


def test_hopf_against_a_conductance_agrees_with_hopf_against_current():
    from rig.dynamics.equilibria import hopf_points, parameter_hopf_points

    def scaled(k):
        return point_system("hh-squid", conductance_scale={"K": k})

    (found,) = parameter_hopf_points(scaled, np.linspace(0.5, 2.0, 7), current_pa=200.0)
    assert 1.0 < found.parameter < 1.5
    # with gK scaled so, the rest loses stability exactly at the 200 pA injected
    lower = hopf_points(scaled(found.parameter))[0]
    assert lower.parameter == pytest.approx(200.0, abs=1e-3)


def test_a_type_one_cell_starts_firing_at_its_saddle_node(capsys):
    from rig.dynamics.fi_curve import fi_hysteresis
    from rig.simulation.engine import Rig

    assert ui_cli.main(["bifurcation", "--cell", "cortical-neuron"]) == 0
    lines = dict(line.split(": ") for line in capsys.readouterr().out.splitlines())
    # its rest vanishes instead of losing stability
    assert lines["hopf_lower"] == "none in -150..27834.8 pA"
    saddle = float(lines["saddle_node"].split()[0])
    # the rig's engine: silent 4 pA below the saddle-node, firing 4 pA above it
    curve = fi_hysteresis(Rig.from_presets("cortical-neuron"), [saddle - 4, saddle + 4],
                          measure_ms=500.0)
    assert curve.rate_up_hz[0] == 0 and curve.rate_up_hz[1] > 0


def test_a_cell_without_landmarks_prints_none_with_the_range_searched(capsys):
    assert ui_cli.main(["bifurcation", "--cell", "model-cell"]) == 0  # a passive cell
    lines = dict(line.split(": ") for line in capsys.readouterr().out.splitlines())
    assert len(lines) == 8 and "nan" not in "".join(lines.values())
    system = point_system("model-cell")
    # the currents that hold it at the ends of the potentials searched (-120 to 79.75
    # mV), in pA and over its 3300 um2
    low, high = system.steady_current_pa(V_GRID_MV[[0, -1]])
    for name in ("hopf_lower", "hopf_upper", "fold_of_cycles", "saddle_node"):
        assert lines[name] == f"none in {low:.6g}..{high:.6g} pA"
        density = system.density_ua_per_cm2(np.array([low, high]))
        assert lines[f"{name}_density"] == f"none in {density[0]:.6g}..{density[1]:.6g} uA/cm2"


def _fires_at_gk(gk_ms_per_cm2, current_pa, kick_mv=0.5, duration_ms=400.0):
    """Spikes in the last 100 ms of a direct integration (solve_ivp) of hh-squid with
    gK set, from its rest kicked by kick_mv: an independent check of a Hopf point."""
    system = point_system("hh-squid", conductance_scale={"K": gk_ms_per_cm2 / 36.0})
    (eq,) = equilibria_at(system, current_pa)
    start = eq.state + np.concatenate(([kick_mv], np.zeros(system.size - 1)))
    sol = solve_ivp(lambda t, y: system.rhs(y, current_pa), (0, duration_ms), start,
                    method="LSODA", rtol=1e-7, atol=1e-9, max_step=0.5,
                    t_eval=np.arange(duration_ms - 100.0, duration_ms, 0.05))
    v = sol.y[0]
    return int(np.sum((v[:-1] < 0) & (v[1:] >= 0)))


def test_bifurcation_against_gk_is_bracketed_by_direct_simulation(capsys):
    argv = ["bifurcation", "--param", "gK", "--current", "200", "--range", "20:80"]
    assert ui_cli.main(argv) == 0
    (line,) = capsys.readouterr().out.splitlines()
    name, text = line.split(": ", 1)
    value, unit = text.split()[:2]
    assert name == "hopf" and unit == "mS/cm2" and "rest stable above" in text
    gk = float(value)
    assert gk == pytest.approx(43.6689, abs=1e-3)
    # 200 pA (20 uA/cm2): with gK 5 % below the Hopf point rest is unstable and the
    # cell fires; 5 % above, a small kick dies away
    assert _fires_at_gk(0.95 * gk, 200.0) >= 3
    assert _fires_at_gk(1.05 * gk, 200.0) == 0


@pytest.mark.parametrize("argv, first", [
    (["--param", "bath.K"], "hopf: 28.6009 mM (rest stable below"),
    (["--param", "temperature", "--current", "100"], "hopf: 6.66092 degC (rest stable above"),
    (["--param", "gNa", "--range", "0:100"], "hopf: none in 0..100 mS/cm2"),
])
def test_bifurcation_against_a_concentration_and_temperature(capsys, argv, first):
    assert ui_cli.main(["bifurcation", *argv]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith(first)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_range_text_is_a_range_or_one_clear_error(text):
    from rig.cli.dynamics_cli import _range

    try:
        low, high = _range(text, (0.0, 1.0), "mS/cm2")
    except VrigError as exc:
        assert str(exc).startswith("--range") and "\n" not in str(exc)
    else:
        assert np.isfinite(low) and np.isfinite(high) and low < high
