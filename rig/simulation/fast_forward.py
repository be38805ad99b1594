"""Fast-forward on the slow manifold: minutes to hours of ion run-down in seconds.

While the cell rests (CC or I=0 at a stable fixed point), the membrane
potential and the gates relax in milliseconds to their steady state for the present
concentrations, which move over minutes. So only the concentrations are integrated
(scipy's stiff BDF), with V the stable root of
    I_channels(V, gates at steady state) + I_pump(V) = injected
and each ion's flux the steady current it carries there. This is the exact slow
limit (Tikhonov) of the full system; tests/rig/test_fast_forward.py compares it with
the full kernel over a stretch both can run and states the difference.

A fast-forward that would skip a spike is refused whole (nothing changes): the rest
is checked for stability (the Jacobian of the full membrane ODE) at every one of
CHECKPOINTS points along the way; where it has become unstable the cell would fire.

Units: amounts amol, charge fC, mV, ms, pA; durations in s at the boundary.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from rig import units
from rig.clamp import Mode
from rig.errors import VrigError
from rig.model import gradients
from rig.simulation import ion_blocks, reference, steady_state
from rig.simulation.accumulation import AMOL_PER_FC, PUMP, channel_ions

CHECKPOINTS = 200
MAX_DURATION_S = 1e10  # about 300 years: past any Donnan state


@dataclass(frozen=True)
class Trace:
    """The fast-forwarded course at the checkpoints: time (s from its start), Vm (mV),
    Na_in, K_in, K_out (mM), pump current (pA), volume (um^3)."""

    time_s: np.ndarray
    v_mv: np.ndarray
    na_in_mm: np.ndarray
    k_in_mm: np.ndarray
    k_out_mm: np.ndarray
    pump_pa: np.ndarray
    volume_um3: np.ndarray


class _Manifold:
    """The slow system of a rig: y = [Na, K, Cl inside, K in the space, charge carried
    out by Na, K, Cl (fC), pump cycles, K to the bath (amol)]."""

    def __init__(self, rig: Any) -> None:
        self.rig = rig
        self.store = rig.ions
        self.m = rig.membrane()
        self.pump = self.m.channel_labels.index(PUMP) if PUMP in self.m.channel_labels else -1
        self.drugs = rig.perfusion.snapshot()
        self.moving = not rig.perfusion.settled
        self.drug_time_ms = -1.0
        self.drugs_at(0.0)
        self.ions = channel_ions(rig.cell, self.m.channel_labels)
        self.injected = units.a_to_pa(rig.holding[Mode.CC]) if rig.mode == Mode.CC else 0.0
        self.g_seal = units.ohm_to_ns(rig.amplifier.seal_resistance)
        self.v_mv = rig.sim.soma_v_mv

    def drugs_at(self, t_ms: float) -> None:
        """The drug effects t_ms (ms) into the fast-forward: perfusion moves each
        concentration exponentially (rig.model.pharmacology.Perfusion.advance), so
        they are exact at any t."""
        if t_ms == self.drug_time_ms:
            return
        perfusion = self.rig.perfusion
        if self.moving:
            perfusion.restore(self.drugs)
            perfusion.advance(units.ms_to_s(t_ms))
        effects = perfusion.effects()
        self.chan_g, self.floor = self.m.drug_arrays(effects)
        self.pump_scale = effects.conductance_scale.get(PUMP, 1.0)
        if self.pump >= 0:
            self.chan_g[self.pump] = 0.0  # the pump enters with its own nonlinear law
        self.drug_time_ms = t_ms

    def state(self) -> np.ndarray:
        s = self.store
        return np.array([s.amol["Na"], s.amol["K"], s.amol["Cl"], s.space_k_amol,
                         s.carried_fc["Na"], s.carried_fc["K"], s.carried_fc["Cl"],
                         s.pump_cycles_amol, s.to_bath_k_amol])

    def load(self, y: np.ndarray) -> None:
        """Put y's amounts and totals in the store and the reversals in the membrane."""
        s = self.store
        s.amol = {"Na": y[0], "K": y[1], "Cl": y[2]}
        s.space_k_amol = y[3]
        s.carried_fc = {"Na": y[4], "K": y[5], "Cl": y[6]}
        s.pump_cycles_amol, s.to_bath_k_amol = y[7], y[8]
        s.volume_um3 = (y[0] + y[1] + y[2] + s.impermeant_amol) / s.osmolarity_mm
        ion_blocks.set_reversals(self.rig, self.m)

    def undo(self, start: np.ndarray) -> None:
        """Put the amounts and the drugs back as they were (a refused fast-forward)."""
        self.load(start)
        self.rig.perfusion.restore(self.drugs)

    def pump_pa(self, v_mv: float) -> float:
        return self.store.pump_pa(v_mv, self.rig.temperature_c) * self.pump_scale

    def net_pa(self, v_mv: float) -> float:
        return float(reference.steady_current_pa(self.m, v_mv, self.chan_g, self.floor)
                     + self.g_seal * v_mv + self.pump_pa(v_mv) - self.injected)

    def rest_mv(self) -> float:
        """The rest (mV) near the last one, else the most negative stable root."""
        v = self.v_mv
        try:
            self.v_mv = brentq(self.net_pa, v - 5.0, v + 5.0, xtol=1e-10)
        except ValueError:
            self.v_mv = steady_state.steady_voltage_mv(
                lambda x: reference.steady_current_pa(self.m, x, self.chan_g, self.floor)
                + self.g_seal * x + np.vectorize(self.pump_pa)(x),
                lambda x: np.full_like(np.asarray(x, dtype=float), self.injected))
        return self.v_mv

    def rates(self, t_ms: float, y: np.ndarray) -> np.ndarray:
        """dy/dt per ms at the rest of the concentrations in y, t_ms in."""
        self.drugs_at(t_ms)
        self.load(y)
        v = self.rest_mv()
        gates = reference.steady_gates(self.m, v)
        open_ = reference.open_fractions(self.m, gates, self.floor)
        current = self.chan_g * open_ * (v - self.m.chan_e_mv)
        out_pa = {ion: 0.0 for ion in gradients.TRACKED}
        for ch, ion in enumerate(self.ions):
            if ion in out_pa:
                out_pa[ion] += current[ch]
        cycles = self.pump_pa(v) * AMOL_PER_FC if self.store.setup.pump else 0.0
        dna = -out_pa["Na"] * AMOL_PER_FC - 3 * cycles
        dk = -out_pa["K"] * AMOL_PER_FC + 2 * cycles
        dcl = out_pa["Cl"] * AMOL_PER_FC
        s = self.store
        if s.space_um3 > 0:
            exchange = (y[3] - s.bath.mm("K") * s.space_um3) / s.space_tau_ms
            dspace = -dk - exchange
        else:
            exchange = dspace = 0.0
        return np.array([dna, dk, dcl, dspace, out_pa["Na"], out_pa["K"], out_pa["Cl"],
                         cycles, exchange])

    def stable(self) -> bool:
        """Whether the rest at the loaded concentrations is a stable fixed point."""
        v = self.v_mv
        chan_g = self.chan_g.copy()
        if self.pump >= 0:
            g, e = self.store.pump_tangent(v, self.rig.temperature_c)
            chan_g[self.pump] = g * self.pump_scale
            self.m.chan_e_mv[self.pump] = e
        y = np.concatenate(([v], reference.steady_gates(self.m, v)))
        return steady_state.is_stable(
            lambda x: reference.derivatives(self.m, x, self.injected, chan_g, self.floor,
                                            self.g_seal), y)


def fast_forward(rig: Any, duration_s: float) -> Trace:
    """Advance rig by duration_s (s) on the slow manifold, or raise a VrigError and
    change nothing if it cannot be done exactly (no concentrations to follow, VC, a
    rest that is or becomes unstable: the cell would fire). Drugs still moving move on
    exactly as perfusion has them."""
    duration_s = gradients.check_positive(duration_s, "fast-forward duration", "s", True)
    if duration_s > MAX_DURATION_S:
        raise VrigError(f"fast-forward at most {MAX_DURATION_S:g} s, got {duration_s:g} s")
    store = rig.ions
    if store is None or not store.setup.accumulation:
        raise VrigError("fast-forward follows the concentrations: switch accumulation on")
    if rig.mode == Mode.VC:
        raise VrigError("fast-forward needs the cell at rest in CC or I=0, not in VC")
    manifold = _Manifold(rig)
    start = manifold.state()
    manifold.load(start)
    manifold.rest_mv()
    if not manifold.stable():
        manifold.undo(start)
        raise VrigError("fast-forward would skip spikes: the cell is not at a stable rest "
                        "(it fires); run it in real time instead")
    t_ms = np.linspace(0.0, units.s_to_ms(duration_s), CHECKPOINTS + 1)
    if duration_s > 0:
        sol = solve_ivp(manifold.rates, (0.0, t_ms[-1]), start, method="BDF", t_eval=t_ms,
                        rtol=1e-10, atol=1e-9 * np.maximum(np.abs(start), 1.0))
        if not sol.success:
            manifold.undo(start)
            raise VrigError(f"fast-forward failed ({sol.message}); run in real time instead")
        ys = sol.y
    else:
        ys = start[:, None]
    rows = []
    for k in range(ys.shape[1]):
        manifold.drugs_at(t_ms[k])
        manifold.load(ys[:, k])
        v = manifold.rest_mv()
        if not manifold.stable():
            manifold.undo(start)
            raise VrigError("fast-forward would skip spikes: after "
                            f"{units.ms_to_s(t_ms[k]):.4g} s the rest becomes unstable "
                            "and the cell fires; fast-forward less, or run in real time")
        inside = store.inside_mm()
        rows.append((units.ms_to_s(t_ms[k]), v, inside["Na"], inside["K"], store.k_out_mm(),
                     manifold.pump_pa(v), store.volume_um3))
    manifold.load(ys[:, -1])
    rig.time_s += duration_s
    rig.fast_forwarded_s = getattr(rig, "fast_forwarded_s", 0.0) + duration_s
    rig.settle()
    columns = np.array(rows).T
    return Trace(*columns)


def rundown_bound_mm(trace: Trace) -> float:
    """Largest change (mM) of Na_in, K_in or K_out along a trace."""
    return float(max(np.ptp(trace.na_in_mm), np.ptp(trace.k_in_mm), np.ptp(trace.k_out_mm)))

