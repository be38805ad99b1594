"""The steady state a clamped cell settles to (used to start and reset runs), from
the reference right-hand side. Units: mV, pA, nS."""

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq

from rig import units
from rig.clamp import Mode
from rig.model import limits
from rig.model.cell import Cell, uses_markov
from rig.model.solutions import Solution
from rig.simulation import layout, reference, stochastic
from rig.simulation.membrane import CompiledMembrane, compile_membrane

# a current (pA) as a function of V (mV; a number or an array, as numpy broadcasts it)
CurrentOfV = Callable[[Any], Any]

SETTLE_GRID_MV = np.arange(-150.0, 100.0, 0.05)
PREVIEW_DT_S = 10e-6  # any step: a steady state does not depend on it
UNSTABLE_SETTLE_S = 0.3  # run time that brings a cell off an unstable rest onto its firing


def steady_voltage_mv(membrane_current_pa: CurrentOfV, external_current_pa: CurrentOfV) -> float:
    """The stable membrane potential (mV) where the steady-state membrane current
    (a function of V in mV, returning pA, outward +) equals the external current
    (a function of V in mV, returning pA injected).

    Among several roots the most negative one where the net current rises with
    voltage (a stable rest) is taken; without any root, the potential of least
    imbalance on the grid.
    """

    def imbalance(v_mv: Any) -> Any:
        return membrane_current_pa(v_mv) - external_current_pa(v_mv)

    f = imbalance(SETTLE_GRID_MV)
    crossings = np.nonzero(np.sign(f[:-1]) != np.sign(f[1:]))[0]
    if crossings.size == 0:
        return float(SETTLE_GRID_MV[np.argmin(np.abs(f))])
    rising = [i for i in crossings if f[i + 1] > f[i]]
    i = (rising or list(crossings))[0]
    return float(brentq(imbalance, SETTLE_GRID_MV[i], SETTLE_GRID_MV[i + 1], xtol=1e-9))


def is_stable(derivatives: Callable[[np.ndarray], np.ndarray], state: npt.ArrayLike) -> bool:
    """True if every eigenvalue of the Jacobian of derivatives (a function of the state
    vector) at the fixed point state has a negative real part."""
    state = np.asarray(state, dtype=float)
    n = state.size
    jacobian = np.empty((n, n))
    for j in range(n):
        h = 1e-4 if j == 0 else 1e-7
        up, down = state.copy(), state.copy()
        up[j] += h
        down[j] -= h
        jacobian[:, j] = (derivatives(up) - derivatives(down)) / (2 * h)
    return bool(np.all(np.linalg.eigvals(jacobian).real < 0))


def resting_potential_mv(cell: Cell, bath: Solution, pipette: Solution,
                         temperature_c: float) -> float:
    """The membrane potential (mV) a cell rests at with no current applied, in these
    solutions (Solution values, mM) at temperature_c (degC), with its electrode's seal
    in parallel and no drugs: what a Rig with these settings would settle to in I=0,
    computed without one (for previews of solutions not yet applied)."""
    compile_for = stochastic.compile_markov if uses_markov(cell) else compile_membrane
    m = compile_for(cell, bath, pipette, temperature_c, units.s_to_ms(PREVIEW_DT_S))
    seal_ns = units.ohm_to_ns(units.gohm_to_ohm(cell.seal_resistance_gohm))
    return steady_voltage_mv(lambda v: steady_current_pa(m, v) + seal_ns * v,
                             lambda v: np.zeros_like(np.asarray(v, dtype=float)))


def steady_current_pa(m: CompiledMembrane, v_mv: Any, chan_g_ns: Any = None,
                      gate_floor: Any = None) -> Any:
    """The steady-state ionic current (pA, outward +) of membrane m at v_mv (mV): HH
    gates from the reference right-hand side, Markov channels from their stationary
    occupancies (the mean of their noise)."""
    if m.markov is not None:
        return stochastic.steady_current_pa(m, v_mv, chan_g_ns)
    return reference.steady_current_pa(m, v_mv, chan_g_ns, gate_floor)


# --- the steady state of a Rig ---------------------------------------------------------
# Functions of a rig.simulation.engine.Rig: its membrane from the reference right-hand
# side (rig.simulation.reference) with the drugs and the seal in force.

def membrane_current_pa(rig: Any, v_mv: Any) -> Any:
    """Steady-state membrane current (pA, outward +) at v_mv (mV), seal included."""
    m = rig.membrane()
    chan_g, floor = m.drug_arrays(rig.perfusion.effects())
    seal_ns = units.ohm_to_ns(rig.amplifier.seal_resistance)
    return steady_current_pa(m, v_mv, chan_g, floor) + seal_ns * v_mv


def clamped_voltage_mv(rig: Any, mode: Mode) -> float:
    """The membrane potential (mV) rig settles to in a mode at that mode's holding."""
    holding = rig.kernel_level(mode)
    if mode == Mode.VC and rig.series_resistance == 0:
        return holding
    if mode == Mode.VC:
        # Rs correction shrinks the effective access resistance by its fraction.
        a = rig.amplifier
        rs_ohm = max(a.series_resistance - a.rs_correction * a.whole_cell_resistance,
                     0.01 * a.series_resistance)
        g_eff = units.ohm_to_ns(rs_ohm)
        return steady_voltage_mv(lambda v: membrane_current_pa(rig, v),
                                 lambda v: g_eff * (holding - v))
    # an excised or cell-attached patch: the current enters through the pipette's face
    # and the seal joins that face (at sign x (v - offset)) to the bath
    sign, offset = stochastic.membrane_polarity(rig.membrane())
    seal_ns = units.ohm_to_ns(rig.amplifier.seal_resistance)
    return steady_voltage_mv(lambda v: membrane_current_pa(rig, v) - seal_ns * offset,
                             lambda v: np.full_like(np.asarray(v, dtype=float),
                                                    sign * holding))


def present_current_pa(rig: Any) -> float:
    """The current (pA) rig's amplifier passes in the present state and mode: in VC the
    membrane's (seal included, no capacitive part), in CC the holding current, 0 in I=0.
    The kernel records it as the first sample's Im (the mean over the interval before).
    The Markov kernel reads the channels' current at each sample instant and keeps only
    the capacitive current of the interval before, which at rest is 0."""
    if rig.mode == Mode.CC:
        return rig.holding_kernel()
    m = rig.membrane()
    if rig.mode != Mode.VC or m.markov is not None:
        return 0.0
    chan_g, floor = m.drug_arrays(rig.perfusion.effects())
    v = rig.sim.soma_v_mv
    seal_ns = units.ohm_to_ns(rig.amplifier.seal_resistance)
    return float(reference.ionic_current_pa(m, v, rig.sim.gates[:, 0], chan_g, floor)
                 + seal_ns * v)


def settle_state(rig: Any, v_mv: float) -> None:
    """Put rig's compartments at v_mv (mV) with the gates at steady state, and the
    electrode (pipette node, amplifier filters) at rest for the present mode."""
    m = rig.membrane()
    # VC holds the pipette at v_mv; otherwise v_mv is the membrane's, its pipette face at
    pipette_mv = v_mv
    if rig.mode != Mode.VC:
        sign, offset = stochastic.membrane_polarity(m)
        pipette_mv = sign * (v_mv - offset)
    if m.markov is not None:
        rig.sim.v_mv[:] = v_mv
        rig.sim.gates[:, 0] = stochastic.draw_counts(m, pipette_mv, rig.channel_rng,
                                                      stochastic.drugs_in_force(m, rig.perfusion))
    else:
        rig.sim.set_uniform(v_mv, reference.steady_gates(m, v_mv))
    holding = rig.holding_kernel()
    e = rig.sim.electrode
    e[:] = 0.0
    e[layout.EL_VPRED] = holding if rig.mode == Mode.VC else v_mv
    if rig.mode == Mode.VC:
        current = membrane_current_pa(rig, v_mv)
        e[layout.EL_ILAG] = current
        a = rig.amplifier
        e[layout.EL_VP] = holding + units.ohmic_drop_mv(
            a.rs_correction * a.whole_cell_resistance, current)
    else:
        injected = holding if rig.mode == Mode.CC else 0.0
        e[layout.EL_VP] = pipette_mv + units.ohmic_drop_mv(rig.series_resistance, injected)
    e[layout.EL_VLAG] = e[layout.EL_VP]
    e[layout.EL_IM] = present_current_pa(rig)


def rest_is_stable(rig: Any) -> bool:
    """True if rig's present state (a fixed point in CC or I=0) is stable. Counted
    channels are taken as stable: their own noise moves them off any fixed point."""
    m = rig.membrane()
    if m.markov is not None:
        return True
    chan_g, floor = m.drug_arrays(rig.perfusion.effects())
    injected = units.a_to_pa(rig.holding[Mode.CC]) if rig.mode == Mode.CC else 0.0
    g_seal = units.ohm_to_ns(rig.amplifier.seal_resistance)
    return is_stable(lambda y: reference.derivatives(m, y, injected, chan_g, floor, g_seal),
                     rig.sim.vector())


def settle(rig: Any) -> None:
    """Put rig's cell and electrode at their steady state for the present mode and
    holding level, clear the output filters and the overload flag, and mark the cell
    lost if that steady state is beyond breakdown. An unstable rest (CC, I=0) is left
    by a 1 mV nudge and UNSTABLE_SETTLE_S of running, without moving the clock."""
    rig.lost = ""
    v = clamped_voltage_mv(rig, rig.mode)
    settle_state(rig, v)
    rig.output_chain.reset()
    rig.overloaded = False
    if abs(v) > rig.cell.breakdown_mv:
        # The holding level itself would destroy the cell: it is lost from the start.
        rig.lost = limits.breakdown_message(v, rig.cell.breakdown_mv, " at this holding level")
    elif rig.mode != Mode.VC and not rest_is_stable(rig):
        # Settling happens before the experiment: the clock does not move.
        clock, drugs = rig.time_s, rig.perfusion.snapshot()
        rig.sim.v_mv += 1.0
        rig.hold(UNSTABLE_SETTLE_S)
        rig.time_s = clock
        rig.perfusion.restore(drugs)
        rig.output_chain.reset()
