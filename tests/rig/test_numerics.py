"""The kernel's numbers against analytic solutions.

* A passive membrane is linear, and the kernel advances the membrane node with the
  exact solution of C dV/dt = A - B V over each step, so RC charging in current clamp
  and the Rs-Cm relaxation in voltage clamp must match the closed forms to rounding.
* At a fixed voltage the Rush-Larsen gate update is exact, so m, h and n relax as pure
  exponentials with the x_inf and tau of rig.model.channels.Gate at the Q10 factor; the only
  approximation is the linear interpolation of the tables in V (0.025 mV grid).
"""

import math

import numpy as np
import pytest
from helpers import SAMPLE_INTERVAL_S, SAMPLE_MS, cc_pulse, crossing_time_ms

import rig
from rig.amplifier.circuit import Amplifier
from rig.model import physics
from rig.model.cell import Cell, load_cell
from rig.model.channels import TABLE_STEP_MV
from rig.model.solutions import load_solution

AREA_UM2 = 1000.0
CM_PF = 10.0  # 1 uF/cm^2 over 1000 um^2
G_LEAK_NS = 3.0  # 0.3 mS/cm^2 over 1000 um^2
R_M_OHM = 1e9 / G_LEAK_NS  # 333 MOhm
TAU_M_MS = CM_PF / G_LEAK_NS  # 3.333 ms


@pytest.fixture(scope="module")
def passive_cell():
    """A membrane with no voltage-gated channels and a pure K leak."""
    return Cell(name="passive", area_um2=AREA_UM2, specific_capacitance_uf_per_cm2=1.0,
                channels=(), leak_ms_per_cm2={"K": 0.3})


def passive_rig(cell, **kwargs):
    return rig.Rig(cell, load_solution("squid-seawater"), load_solution("squid-axoplasm"),
                   **kwargs)


@pytest.fixture(scope="module")
def hh():
    return rig.Rig.from_presets("hh-squid")


def sample_times_ms(n):
    """Vm and gates are reported as a digitiser reads them: sample k at k intervals
    after the block starts, before that interval is stepped."""
    return np.arange(n) * SAMPLE_MS


def test_passive_membrane_parameters(passive_cell):
    setup = passive_rig(passive_cell)
    assert setup.cell.capacitance_pf == pytest.approx(CM_PF, rel=1e-12)
    e_k = physics.nernst(1, 20.0, 490.0, 6.3)
    assert setup.resting_potential() == pytest.approx(e_k, abs=1e-9)


def test_rc_charging_in_current_clamp_is_exact(passive_cell):
    setup = passive_rig(passive_cell)
    setup.set_mode("CC")
    setup.set_holding(0.0)
    setup.settle()
    v0 = setup.membrane_potential
    i_a = 30e-12
    n_on, n_off = 1000, 1000  # 20 ms on, 20 ms off (6 time constants each)
    command = np.r_[np.full(n_on, i_a), np.zeros(n_off)]
    v = setup.advance(command, SAMPLE_INTERVAL_S)["Vm"]
    t = sample_times_ms(n_on + n_off)
    amplitude = i_a * R_M_OHM  # 10 mV
    # the pulse is on from sample 0 to sample n_on, where it ends
    on = v0 + amplitude * (1.0 - np.exp(-t[:n_on + 1] / TAU_M_MS))
    v_end = on[-1]
    off = v0 + (v_end - v0) * np.exp(-(t[n_on + 1:] - t[n_on]) / TAU_M_MS)
    expected = np.r_[on, off]
    error = np.max(np.abs(v - expected)) / amplitude
    print(f"RC charging: max |V - V_analytic| = {error * amplitude * 1e9:.3g} nV "
          f"({error:.2e} of I R = {amplitude * 1e3:.3f} mV)")
    assert error < 1e-6
    assert v[0] == v0  # sample 0 is the state the pulse starts from
    assert v[n_on] - v0 == pytest.approx(amplitude * (1 - math.exp(-20 / TAU_M_MS)), rel=1e-6)


def test_rc_charging_does_not_depend_on_the_time_step(passive_cell):
    """Exact for a linear node: 1 us and 100 us steps agree at the sample times."""
    results = []
    for dt in (1e-6, 100e-6):
        setup = passive_rig(passive_cell, dt=dt)
        setup.set_mode("CC")
        setup.settle()
        results.append(setup.advance(np.full(200, -20e-12), 0.2e-3)["Vm"])
    np.testing.assert_allclose(results[0], results[1], rtol=0, atol=1e-12)


def test_voltage_clamp_through_series_resistance(passive_cell):
    rs = 10e6
    setup = passive_rig(passive_cell, series_resistance=rs)
    setup.set_mode("VC")
    setup.set_holding(-0.070)
    setup.settle()
    e_k = setup.resting_potential()
    g_s, g_m, c_m = 1.0 / rs, 1.0 / R_M_OHM, CM_PF * 1e-12
    v_hold = (g_s * -0.070 + g_m * e_k) / (g_s + g_m)
    assert setup.membrane_potential == pytest.approx(v_hold, abs=1e-12)

    command_v = -0.040
    n = 200  # 4 ms, about 40 time constants
    sig = setup.advance(np.full(n, command_v), SAMPLE_INTERVAL_S)
    tau_s = rs * c_m * R_M_OHM / (rs + R_M_OHM)  # Rs Cm Rm / (Rs + Rm) = 97.1 us
    assert tau_s == pytest.approx(c_m / (g_s + g_m), rel=1e-12)
    v_ss = (g_s * command_v + g_m * e_k) / (g_s + g_m)
    t = np.arange(n) * SAMPLE_INTERVAL_S
    v_expected = v_ss + (v_hold - v_ss) * np.exp(-t / tau_s)
    np.testing.assert_allclose(sig["Vm"], v_expected, rtol=0, atol=1e-12)
    # Im is the electrode current averaged over the interval ending at each sample: the
    # integral of (command - Vm) / Rs over it, divided by its length; sample 0 the
    # holding current before the step.
    decay_integral = tau_s * (np.exp(-t[:-1] / tau_s) - np.exp(-t[1:] / tau_s))
    im_expected = g_s * ((command_v - v_ss) - (v_hold - v_ss) * decay_integral / SAMPLE_INTERVAL_S)
    i_hold = g_s * (-0.070 - v_hold)
    np.testing.assert_allclose(sig["Im"], np.r_[i_hold, im_expected], rtol=1e-9, atol=1e-20)
    # the steady state is the series-resistor divider
    assert sig["Im"][-1] == pytest.approx((command_v - e_k) / (rs + R_M_OHM), rel=1e-9)
    # the capacitive transient carries Cm times the membrane's voltage change
    transient_charge = np.sum(sig["Im"][1:] - sig["Im"][-1]) * SAMPLE_INTERVAL_S
    leak_charge_deficit = g_m * (v_ss - v_hold) * tau_s  # leak current still rising
    assert transient_charge == pytest.approx(c_m * (v_ss - v_hold) - leak_charge_deficit, rel=1e-4)
    print(f"Rs-Cm clamp: tau = {tau_s * 1e6:.2f} us, I_ss = {sig['Im'][-1] * 1e12:.3f} pA")


def test_ideal_clamp_capacitive_charge(passive_cell):
    """In the ideal clamp the membrane is charged within the first step: the sample
    after the step's onset carries Cm dV on top of the leak current, the one at the
    onset the holding current."""
    setup = passive_rig(passive_cell)
    setup.set_mode("VC")
    setup.set_holding(-0.080)
    setup.settle()
    e_k = setup.resting_potential()
    sig = setup.advance(np.full(50, -0.030), SAMPLE_INTERVAL_S)
    leak = (-0.030 - e_k) / R_M_OHM
    assert sig["Im"][0] == pytest.approx((-0.080 - e_k) / R_M_OHM, rel=1e-9)
    np.testing.assert_allclose(sig["Im"][2:], leak, rtol=1e-12)
    charge = (sig["Im"][1] - leak) * SAMPLE_INTERVAL_S
    assert charge == pytest.approx(CM_PF * 1e-12 * 0.050, rel=1e-9)


def hh_gates(setup):
    """{name: Gate} and the rate factor phi of the HH cell at its temperature."""
    gates = {gate.name: gate for gate, _ in setup.membrane().gates}
    return gates, physics.q10_factor(setup.temperature_c)


def interpolation_error_bound(f, v_mv):
    """Largest error of linear interpolation on the table grid near v_mv: h^2/8 |f''|."""
    e = 0.01
    second = abs(f(v_mv + e) - 2 * f(v_mv) + f(v_mv - e)) / e ** 2
    return 1.5 * TABLE_STEP_MV ** 2 / 8 * second  # 1.5: f'' varies within the cell


# 0 and -40 mV lie on the 0.025 mV grid (interpolation is exact there; -40 mV is
# alpha_m's removable singularity); -27.3125 mV is midway between two grid points.
@pytest.mark.parametrize("v_mv", [0.0, -40.0, -27.3125])
def test_gates_relax_exponentially_in_ideal_voltage_clamp(hh, v_mv):
    hh.set_mode("VC")
    hh.set_holding(-0.065)
    hh.settle()
    gates, phi = hh_gates(hh)
    n = 400  # 8 ms
    sig = hh.advance(np.full(n, v_mv * 1e-3), SAMPLE_INTERVAL_S)
    t = sample_times_ms(n)
    dt_ms = hh.membrane().dt_ms
    for name in ("m", "h", "n"):
        gate = gates[name]
        x0 = gate.steady_state(-65.0)
        x = sig[name]
        assert x[0] == pytest.approx(x0, abs=1e-12)  # sample 0: the state at the onset
        assert x[1] != x0  # the gate has moved by the next sample
        x_inf = gate.steady_state(v_mv)
        tau = gate.time_constant_ms(v_mv, phi)
        # From the onset on, the update must be the exact exponential at v_mv.
        expected = x_inf + (x[0] - x_inf) * np.exp(-t / tau)
        on_grid = round((v_mv + 250.0) / TABLE_STEP_MV, 9).is_integer()
        if on_grid:
            tolerance = 1e-12
        else:
            # an error d in x_inf shifts x by at most 2d; an error e in the per-step
            # decay accumulates to at most |x0 - x_inf| e tau / (e dt) (max of k d^k-1 e)
            d_x = interpolation_error_bound(gate.steady_state, v_mv)
            d_decay = interpolation_error_bound(
                lambda v, gate=gate: np.exp(-dt_ms * phi * (gate.alpha(v) + gate.beta(v))), v_mv)
            tolerance = 2 * d_x + abs(x0 - x_inf) * d_decay * tau / (math.e * dt_ms) + 1e-12
        error = np.max(np.abs(x - expected))
        print(f"{name} at {v_mv} mV: tau = {tau:.4f} ms, x_inf = {x_inf:.6f}, "
              f"max error {error:.2e} (tolerance {tolerance:.1e})")
        assert error <= tolerance


def test_gate_tables_equal_the_rate_functions_on_the_grid(hh):
    m = hh.membrane()
    _gates, phi = hh_gates(hh)
    v = np.linspace(-250.0, 250.0, m.x_inf.shape[1])
    assert v[1] - v[0] == pytest.approx(TABLE_STEP_MV, rel=1e-12)
    for row, (gate, _) in enumerate(m.gates):
        assert np.all(np.isfinite(m.x_inf[row])) and np.all(np.isfinite(m.decay[row]))
        np.testing.assert_allclose(m.x_inf[row], gate.steady_state(v), rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(
            m.decay[row], np.exp(-m.dt_ms / gate.time_constant_ms(v, phi)), rtol=1e-12)


def test_removable_singularities_are_finite_and_equal_their_limits(hh):
    gates, _ = hh_gates(hh)
    alpha_m, alpha_n = gates["m"].alpha, gates["n"].alpha
    assert alpha_m(-40.0) == pytest.approx(1.0, rel=1e-15)  # 0.1 * 10 per ms
    assert alpha_n(-55.0) == pytest.approx(0.1, rel=1e-15)  # 0.01 * 10 per ms
    for rate, v0, limit in ((alpha_m, -40.0, 1.0), (alpha_n, -55.0, 0.1)):
        for dv in (1e-12, 1e-9, 1e-6):
            # alpha = A s x / (1 - e^-x), x = dv / s: limit * (1 + x/2 + ...)
            for sign in (1, -1):
                expected = limit * (1 + sign * dv / 10.0 / 2)
                assert rate(v0 + sign * dv) == pytest.approx(expected, rel=1e-9)
        assert np.all(np.isfinite(rate(np.array([v0, v0 + 1e-300, v0 - 1e-15]))))


def test_same_seed_gives_identical_recordings():
    protocol = rig.load_protocol("cc-paired-pulse")
    first = rig.Rig.from_presets("hh-squid", seed=7).run(protocol)
    second = rig.Rig.from_presets("hh-squid", seed=7).run(protocol)
    for name in first.signals:
        np.testing.assert_array_equal(first.signals[name], second.signals[name])
    # and a rig run twice repeats itself (each run starts from the settled state)
    setup = rig.Rig.from_presets("hh-squid", seed=7)
    again = [setup.run(protocol).signals["Vm"] for _ in range(2)]
    np.testing.assert_array_equal(again[0], again[1])
    np.testing.assert_array_equal(again[0], first.signals["Vm"])


def test_instrument_noise_is_reproducible_from_the_seed():
    noisy = Amplifier.for_cell(load_cell("hh-squid")).changed(noise=True)
    protocol = rig.load_protocol("vc-iv-family")

    def im(seed):
        return rig.Rig.from_presets("hh-squid", seed=seed, amplifier=noisy).run(protocol)

    a, b, c = im(3), im(3), im(4)
    np.testing.assert_array_equal(a.signals["Im"], b.signals["Im"])
    assert not np.array_equal(a.signals["Im"], c.signals["Im"])
    # the noise is on the recorded outputs only: the cell itself is deterministic
    np.testing.assert_array_equal(a.signals["INa"], c.signals["INa"])


def test_halving_the_time_step_moves_the_spike_by_under_a_microsecond():
    results = {}
    for dt in (10e-6, 5e-6):
        v = cc_pulse(rig.Rig.from_presets("hh-squid", dt=dt), 150.0, 1.0)
        t = sample_times_ms(v.size)
        results[dt] = (crossing_time_ms(t, v, 0.0), v.max(), v.min())
    (t10, peak10, min10), (t5, peak5, min5) = results[10e-6], results[5e-6]
    print(f"spike 0 mV crossing: {t10:.5f} ms (10 us) vs {t5:.5f} ms (5 us), "
          f"peak {peak10:.4f} vs {peak5:.4f} mV")
    # exponential Euler is first order: the 10 us run is off by about the difference
    # itself (0.2 us measured), far below the 20 us sample interval
    assert abs(t10 - t5) < 1e-3  # ms, i.e. 1 us
    assert abs(peak10 - peak5) < 0.01  # mV
    assert abs(min10 - min5) < 0.01
