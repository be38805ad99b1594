"""The membrane's equations in plain Python: the reference right-hand side.

The compiled kernel steps these same equations from tables; everything else that
needs the physics (the steady state the engine settles to, its stability, the exact
relaxation while an ideal clamp holds, the tests that integrate it with an ODE
solver) calls these functions, so the gating is written once in Python.

The variables of one compartment are y = [V (mV), x_1 ... x_n (gate values, 0-1)],
as :meth:`rig.simulation.state.SimulationState.vector` gives them. For a gate x with
rates alpha, beta (1/ms at the reference temperature) and temperature factor phi:

    dx/dt = phi (alpha(V) (1 - x) - beta(V) x)                          (1/ms)
    Cm dV/dt = I_injected - sum_ch g_ch P_ch (V - E_ch) - g_seal V      (pA)

where P_ch is the product of x_eff ** power over the channel's gates and
x_eff = floor + (1 - floor) x (a drug holding a fraction ``floor`` of the gate open).
Units: mV, ms, pA, nS, pF. ``m`` is a :class:`rig.simulation.membrane.CompiledMembrane`;
chan_g_ns and gate_floor are the conductances and floors in force (see
``CompiledMembrane.drug_arrays``; None = drug-free).
"""

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # membrane.py does not import this module: no cycle at run time
    from rig.simulation.membrane import CompiledMembrane

Array = npt.NDArray[np.float64]
Values = npt.ArrayLike  # a number or an array
InForce = npt.ArrayLike | None  # conductances (nS) or gate floors in force; None: drug-free


def _in_force(m: "CompiledMembrane", chan_g_ns: InForce,
              gate_floor: InForce) -> tuple[Array, Array]:
    chan_g = m.chan_g_ns if chan_g_ns is None else np.asarray(chan_g_ns, dtype=float)
    floor = np.zeros(len(m.gates)) if gate_floor is None else np.asarray(gate_floor, float)
    return chan_g, floor


def steady_gates(m: "CompiledMembrane", v_mv: Values) -> Array:
    """Gate values at steady state at v_mv (mV; a number or an array): shape
    (n_gates,) + v's shape, rows in kernel order."""
    return np.array([gate.steady_state(v_mv) for gate, _ in m.gates], dtype=float)


def gate_rates(m: "CompiledMembrane", v_mv: Values, gate_values: Array) -> Array:
    """dx/dt (1/ms) of every gate at v_mv (mV) with the gates at gate_values."""
    return np.array([phi * (gate.alpha(v_mv) * (1.0 - x) - gate.beta(v_mv) * x)
                     for (gate, _), phi, x in zip(m.gates, m.gate_phi, gate_values)])


def open_fractions(m: "CompiledMembrane", gate_values: Values,
                   gate_floor: InForce = None) -> Array:
    """Per channel, its open probability: the product of x_eff ** power over its gates,
    x_eff = floor + (1 - floor) x. gate_values: (n_gates,) + any shape."""
    _, floor = _in_force(m, None, gate_floor)
    gate_values = np.asarray(gate_values, dtype=float)
    fractions = np.ones((len(m.channel_labels),) + gate_values.shape[1:])
    for (gate, ch), f, x in zip(m.gates, floor, gate_values):
        fractions[ch] = fractions[ch] * (f + (1.0 - f) * x) ** gate.power
    return fractions


def ionic_current_pa(m: "CompiledMembrane", v_mv: Values, gate_values: Values,
                     chan_g_ns: InForce = None, gate_floor: InForce = None) -> Any:
    """Membrane ionic current (pA, outward +) at v_mv (mV) with the gates at gate_values
    (without the seal)."""
    chan_g, floor = _in_force(m, chan_g_ns, gate_floor)
    v = np.asarray(v_mv, dtype=float)
    fractions = open_fractions(m, gate_values, floor)
    # V and the gates broadcast against each other (a V sweep, or a time course of gates)
    ndim = max(v.ndim, fractions.ndim - 1)
    fractions = fractions.reshape(fractions.shape + (1,) * (ndim + 1 - fractions.ndim))
    shape = (-1,) + (1,) * ndim
    g = chan_g.reshape(shape) * fractions
    return np.sum(g * (v - m.chan_e_mv.reshape(shape)), axis=0)


def steady_current_pa(m: "CompiledMembrane", v_mv: Values, chan_g_ns: InForce = None,
                      gate_floor: InForce = None) -> Any:
    """Membrane ionic current (pA, outward +) with every gate at its steady state at
    v_mv (mV; a number or an array): the steady-state I-V curve."""
    return ionic_current_pa(m, v_mv, steady_gates(m, v_mv), chan_g_ns, gate_floor)


def derivatives(m: "CompiledMembrane", y: Array, injected_pa: float = 0.0,
                chan_g_ns: InForce = None, gate_floor: InForce = None,
                g_seal_ns: float = 0.0) -> Array:
    """dy/dt of y = [V (mV), gates...] in mV/ms and 1/ms, for a compartment receiving
    injected_pa (pA) directly and leaking through a seal of g_seal_ns (nS, reversal
    0 mV): the current-clamp ODE the kernel integrates."""
    v, gates = y[0], y[1:]
    ionic = ionic_current_pa(m, v, gates, chan_g_ns, gate_floor) + g_seal_ns * v
    return np.concatenate(([(injected_pa - ionic) / m.cm_pf], gate_rates(m, v, gates)))


def clamped_derivatives(m: "CompiledMembrane", gates: Array, v_mv: float) -> Array:
    """d(gates)/dt (1/ms) with the membrane held at v_mv (mV): the ideal-clamp ODE."""
    return gate_rates(m, v_mv, gates)


def relax_gates(m: "CompiledMembrane", gate_values: Values, v_mv: float,
                duration_ms: float) -> Array:
    """Gate values after duration_ms (ms) at a fixed v_mv (mV): the exact solution of
    the gate equations, x_inf + (x - x_inf) exp(-t / tau)."""
    result = np.array(gate_values, dtype=float)
    for i, ((gate, _), phi) in enumerate(zip(m.gates, m.gate_phi)):
        x_inf = gate.steady_state(v_mv)
        result[i] = x_inf + (result[i] - x_inf) * np.exp(
            -duration_ms / gate.time_constant_ms(v_mv, phi))
    return result
