"""The simulation core's structure: the state shaped for compartments, the kernel
registry, the compiled step per clamp configuration, a refused command stepping
nothing, and the kernel's SI output equal to its kernel-unit values scaled."""

import numpy as np
import pytest

import rig
from rig.errors import VrigError
from rig.simulation import layout, reference, registry
from rig.simulation.state import SimulationState


def test_the_state_holds_v_per_compartment_and_gates_per_gate_and_compartment():
    state = SimulationState.zeros(n_gates=3, n_compartments=4)
    assert state.v_mv.shape == (4,) and state.gates.shape == (3, 4)
    assert state.electrode.shape == (layout.N_EL,) and state.extra == {}
    state.set_uniform(-65.0, [0.1, 0.6, 0.3])
    np.testing.assert_array_equal(state.v_mv, np.full(4, -65.0))
    np.testing.assert_array_equal(state.gates[:, 2], [0.1, 0.6, 0.3])
    np.testing.assert_array_equal(state.vector(3), [-65.0, 0.1, 0.6, 0.3])
    state.extra["markov"] = np.ones((2, 4))
    copy = state.copy()
    copy.v_mv[0] = 0.0
    copy.gates[0, 0] = 1.0
    copy.extra["markov"][0, 0] = 5.0
    assert state.v_mv[0] == -65.0 and state.gates[0, 0] == 0.1
    assert state.extra["markov"][0, 0] == 1.0


def test_a_rig_is_one_compartment_with_its_gates_at_rest():
    setup = rig.Rig.from_presets("hh-squid")
    assert setup.sim.n_compartments == 1
    assert setup.sim.gates.shape == (3, 1)  # m, h, n
    assert setup.membrane_potential == pytest.approx(setup.sim.soma_v_mv * 1e-3)


def test_every_clamp_configuration_has_a_compiled_step():
    for clamp in (layout.CLAMP_VC_IDEAL, layout.CLAMP_VC, layout.CLAMP_CC,
                  layout.CLAMP_CC_PIPETTE):
        step = registry.advance_function(layout.HH_DETERMINISTIC, 1, clamp)
        assert step.py_func.__name__ == f"advance_{clamp}"


def test_a_model_without_a_kernel_is_refused_by_name():
    with pytest.raises(VrigError, match="no kernel simulates a 'markov' model "
                                        "with 5 compartments"):
        registry.advance_function("markov", 5, layout.CLAMP_CC)


def test_a_fibre_steps_in_cc_and_vc_and_refuses_the_pipette_capacitance_in_cc_for_now():
    step = registry.advance_function(layout.HH_DETERMINISTIC, 5, layout.CLAMP_CC)
    assert step.py_func.__name__ == "advance_cable_cc"
    step = registry.advance_function(layout.HH_DETERMINISTIC, 5, layout.CLAMP_VC_IDEAL)
    assert step.py_func.__name__ == "advance_cable_vc_ideal"
    step = registry.advance_function(layout.HH_DETERMINISTIC, 5, layout.CLAMP_VC)
    assert step.py_func.__name__ == "advance_cable_vc"
    with pytest.raises(VrigError, match="set the pipette capacitance to 0"):
        registry.advance_function(layout.HH_DETERMINISTIC, 5, layout.CLAMP_CC_PIPETTE)


@pytest.mark.parametrize(("mode", "series_ohm", "cp_f", "clamp"), [
    ("VC", 0.0, 0.0, "advance_vc_ideal"), ("VC", 5e6, 0.0, "advance_vc"),
    ("CC", 5e6, 0.0, "advance_cc"), ("CC", 5e6, 4e-12, "advance_cc_pipette"),
    ("I0", 5e6, 4e-12, "advance_cc_pipette"), ("I0", 0.0, 0.0, "advance_cc")])
def test_the_engine_picks_the_step_of_its_clamp(mode, series_ohm, cp_f, clamp):
    setup = rig.Rig.from_presets("hh-squid")
    setup.set_amplifier(series_resistance=series_ohm, pipette_capacitance=cp_f)
    setup.set_mode(mode)
    setup.settle()
    assert setup.kernel_inputs(setup.membrane()).advance.py_func.__name__ == clamp


@pytest.mark.parametrize(("mode", "bad"), [("VC", 2.0), ("VC", np.nan), ("CC", 1e-6)])
def test_a_refused_command_steps_nothing(mode, bad):
    setup = rig.Rig.from_presets("hh-squid")
    setup.set_mode(mode)
    setup.settle()
    before, clock = setup.sim.copy(), setup.time_s
    command = np.zeros(100)
    command[50] = bad
    with pytest.raises(VrigError, match="command out of range"):
        setup.advance(command, 20e-6)
    np.testing.assert_array_equal(setup.sim.v_mv, before.v_mv)
    np.testing.assert_array_equal(setup.sim.gates, before.gates)
    np.testing.assert_array_equal(setup.sim.electrode, before.electrode)
    assert setup.time_s == clock


def test_signals_are_the_kernel_values_in_si():
    setup = rig.Rig.from_presets("hh-squid")
    setup.set_mode("VC")
    setup.settle()
    sig = setup.advance(np.full(50, -0.020), 20e-6)
    gates = np.array([sig[name] for name in ("m", "h", "n")])
    m = setup.membrane(0.01)
    # sample 0 is the state at the step's onset, still at the -65 mV holding level
    v_mv = np.r_[-65.0, np.full(49, -20.0)]
    ionic_pa = reference.ionic_current_pa(m, v_mv, gates)
    np.testing.assert_allclose(sig["INa"] + sig["IK"] + sig["Ileak"], ionic_pa * 1e-12,
                               rtol=1e-12)
    np.testing.assert_array_equal(sig["Vmem"], v_mv * 1e-3)
    np.testing.assert_allclose(sig["gleak"], 3e-9, rtol=1e-12)  # 0.3 mS/cm^2 on 1000 um^2
