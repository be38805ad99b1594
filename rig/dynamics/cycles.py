"""Periodic orbits of a point cell in current clamp, by collocation, continued from a
Hopf point; their Floquet multipliers; the fold of cycles.

A cycle is found with scipy's collocation solver (``scipy.integrate.solve_bvp``) on
the time rescaled to s = t / T in [0, 1], with the period T (ms) and the injected
current I (pA) as unknown parameters:

    dy/ds = T f(y, I),   y(1) = y(0),   V(0) = V_peak,   dV/dt(0) = 0

so the orbit starts at its peak, whose potential V_peak (mV) labels it. The family
born at a Hopf point is continued in V_peak, from just above the Hopf potential up:
V_peak grows along the family through any fold, where I(V_peak) turns (the fold of
cycles is the lowest current of the family, refined by bounded minimisation).
Stability comes from the Floquet multipliers: the eigenvalues of the monodromy
matrix, the derivative of the flow over one period, here by central differences of
an accurate integration (``scipy.integrate.solve_ivp``).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_bvp, solve_ivp
from scipy.optimize import minimize_scalar

from rig.dynamics.equilibria import HopfPoint
from rig.dynamics.system import Array, ComplexArray, PointSystem
from rig.errors import VrigError

MESH_NODES = 120  # mesh every solve starts from; solve_bvp refines it where it is steep
MAX_NODES = 20000
BVP_TOL = 1e-6  # solve_bvp's relative residual tolerance
FIRST_AMPLITUDE_MV = 0.5  # V_peak above the Hopf potential of the first cycle (mV)
FLOW_RTOL = 1e-10
FLOQUET_STEP = 1e-6  # relative size of the perturbations that give the monodromy matrix
FOLD_XATOL_MV = 0.05  # V_peak tolerance at the fold (I is flat there: error ~1e-6 of I)


@dataclass(frozen=True)
class Cycle:
    """A periodic orbit: injected current (pA), period (ms), the state at mesh times
    s * period (s in [0, 1]) with shape (size, len(s)), starting at V's peak."""

    current_pa: float
    period_ms: float
    s: Array
    states: Array

    @property
    def v_peak_mv(self) -> float:
        """Highest potential of the orbit (mV)."""
        return float(self.states[0].max())

    @property
    def v_trough_mv(self) -> float:
        """Lowest potential of the orbit (mV)."""
        return float(self.states[0].min())

    @property
    def amplitude_mv(self) -> float:
        """Peak-to-trough amplitude of V (mV)."""
        return self.v_peak_mv - self.v_trough_mv


def _remeshed(cycle: Cycle, nodes: int = MESH_NODES) -> tuple[Array, Array]:
    """(s, states) of a cycle on a fresh mesh of `nodes` points spaced evenly in arc
    length (each variable scaled by its range) plus a uniform part: solve_bvp only
    ever adds nodes, so each solve starts from a mesh of the same size."""
    y = cycle.states
    spans = np.ptp(y, axis=1, keepdims=True)
    steps = np.sqrt(np.sum((np.diff(y, axis=1) / np.maximum(spans, 1e-9)) ** 2, axis=0))
    length = np.concatenate(([0.0], np.cumsum(steps + np.diff(cycle.s))))
    s = np.interp(np.linspace(0.0, length[-1], nodes), length, cycle.s)
    s[0], s[-1] = 0.0, 1.0
    return s, np.array([np.interp(s, cycle.s, row) for row in y])


def _solve(system: PointSystem, v_peak_mv: float, guess: Cycle) -> Cycle | None:
    """The cycle with its peak at v_peak_mv (mV) near guess, or None if collocation
    fails or falls onto the equilibrium (a constant 'orbit')."""

    def fun(s: Array, y: Array, p: Array) -> Array:
        return p[0] * system.rhs(y, p[1])

    def bc(ya: Array, yb: Array, p: Array) -> Array:
        return np.concatenate((yb - ya, [ya[0] - v_peak_mv, system.rhs(ya, p[1])[0]]))

    s, y0 = _remeshed(guess)
    y0[0] += v_peak_mv - y0[0, 0]  # shift V so that the guess peaks where asked
    sol = solve_bvp(fun, bc, s, y0, p=np.array([guess.period_ms, guess.current_pa]),
                    tol=BVP_TOL, max_nodes=MAX_NODES)
    if not sol.success or sol.p[0] <= 0:
        return None
    cycle = Cycle(float(sol.p[1]), float(sol.p[0]), sol.x, sol.y)
    return cycle if cycle.amplitude_mv > 0.5 * guess.amplitude_mv else None


def first_cycle(system: PointSystem, hopf: HopfPoint,
                amplitude_mv: float = FIRST_AMPLITUDE_MV) -> Cycle:
    """The small cycle near a Hopf point, its peak amplitude_mv (mV) above the Hopf
    potential, from the linearisation (the critical eigenvector) as the guess."""
    s = np.linspace(0.0, 1.0, MESH_NODES)
    w = hopf.eigenvector / hopf.eigenvector[0]  # V's component real: V peaks at s = 0
    wave = np.real(w[:, np.newaxis] * np.exp(2j * np.pi * s)[np.newaxis, :])
    guess = Cycle(hopf.parameter, hopf.period_ms, s,
                  hopf.state[:, np.newaxis] + amplitude_mv * wave)
    cycle = _solve(system, hopf.v_mv + amplitude_mv, guess)
    if cycle is None:
        raise VrigError(f"no periodic orbit found near the Hopf point at "
                        f"{hopf.parameter:.4g} pA")
    return cycle


def _extrapolated(cycles: list[Cycle], v_peak_mv: float) -> Cycle:
    """A guess for the cycle peaking at v_peak_mv: the secant through the last two
    cycles (their states, period and current), or with one cycle, that cycle's
    excursion from its mean scaled to reach the new peak."""
    last = cycles[-1]
    if len(cycles) < 2:
        mean = last.states.mean(axis=1, keepdims=True)
        gain = (v_peak_mv - mean[0, 0]) / (last.v_peak_mv - mean[0, 0])
        return Cycle(last.current_pa, last.period_ms, last.s,
                     mean + gain * (last.states - mean))
    before = cycles[-2]
    f = (v_peak_mv - last.v_peak_mv) / (last.v_peak_mv - before.v_peak_mv)
    earlier = np.array([np.interp(last.s, before.s, row) for row in before.states])
    return Cycle(last.current_pa + f * (last.current_pa - before.current_pa),
                 last.period_ms + f * (last.period_ms - before.period_ms),
                 last.s, last.states + f * (last.states - earlier))


def continue_cycles(system: PointSystem, hopf: HopfPoint, v_peak_stop_mv: float,
                    step_mv: float = 4.0, rises_to_stop: int = 3,
                    on_cycle: Callable[[Cycle], object] | None = None) -> list[Cycle]:
    """The family of cycles born at hopf, continued in V_peak (mV) up to
    v_peak_stop_mv, each solved from the secant through the previous two (the step
    halves where collocation fails, down to step_mv / 64). The continuation also stops
    once the current has risen rises_to_stop times in a row from the lowest current
    of the family so far (the fold of cycles is then behind it). on_cycle(cycle) is
    called with each cycle found (to show progress; an exception it raises stops the
    continuation and propagates)."""
    cycles = [first_cycle(system, hopf)]
    if on_cycle is not None:
        on_cycle(cycles[0])
    step = step_mv / 4
    rises = 0
    while cycles[-1].v_peak_mv < v_peak_stop_mv and rises < rises_to_stop:
        target = min(cycles[-1].v_peak_mv + step, v_peak_stop_mv)
        cycle = _solve(system, target, _extrapolated(cycles, target))
        if cycle is None:
            step /= 2
            if step < step_mv / 64:
                break
            continue
        at_lowest = cycles[-1].current_pa <= min(c.current_pa for c in cycles)
        rising = cycle.current_pa > cycles[-1].current_pa
        rises = rises + 1 if rising and (rises or at_lowest) else 0
        cycles.append(cycle)
        if on_cycle is not None:
            on_cycle(cycle)
        step = min(step * 1.5, step_mv)
    return cycles


def cycle_at_peak(system: PointSystem, v_peak_mv: float, near: list[Cycle]) -> Cycle:
    """The cycle of a continued family peaking at v_peak_mv (mV), from its nearest
    member of near."""
    nearest = min(near, key=lambda c: abs(c.v_peak_mv - v_peak_mv))
    cycle = _solve(system, v_peak_mv, nearest)
    if cycle is None:
        raise VrigError(f"the cycle peaking at {v_peak_mv:.4g} mV could not be solved")
    return cycle


def fold_of_cycles(system: PointSystem, cycles: list[Cycle]) -> Cycle | None:
    """The cycle at the lowest current of a continued family (the fold of cycles)
    when that minimum is inside the family (None if I only rises or only falls)."""
    currents = np.array([c.current_pa for c in cycles])
    k = int(np.argmin(currents))
    if k == 0 or k == len(cycles) - 1:
        return None
    low, high = cycles[k - 1].v_peak_mv, cycles[k + 1].v_peak_mv

    def current_at(v: float) -> float:
        return cycle_at_peak(system, v, cycles).current_pa

    best = minimize_scalar(current_at, bounds=(low, high), method="bounded",
                           options={"xatol": FOLD_XATOL_MV})
    return cycle_at_peak(system, float(best.x), cycles)


def monodromy(system: PointSystem, cycle: Cycle) -> Array:
    """The monodromy matrix: d(state after one period)/d(start state), by central
    differences of the flow (all 2 * size perturbed orbits integrated together)."""
    n = system.size
    start = cycle.states[:, 0]
    steps = FLOQUET_STEP * np.maximum(np.abs(start), 1e-2)
    starts = np.concatenate((start[:, np.newaxis] + np.diag(steps),
                             start[:, np.newaxis] - np.diag(steps)), axis=1)

    def flow(t: float, y: Array) -> Array:
        return system.rhs(y.reshape(n, 2 * n), cycle.current_pa).ravel()

    sol = solve_ivp(flow, (0.0, cycle.period_ms), starts.ravel(), method="DOP853",
                    rtol=FLOW_RTOL, atol=FLOW_RTOL)
    end = sol.y[:, -1].reshape(n, 2 * n)
    return np.asarray((end[:, :n] - end[:, n:]) / (2 * steps[np.newaxis, :]))


def floquet_multipliers(system: PointSystem, cycle: Cycle) -> ComplexArray:
    """The Floquet multipliers of a cycle, largest modulus first (one of them is 1,
    the shift along the orbit; the cycle is stable when all others are inside the
    unit circle)."""
    values = np.linalg.eigvals(monodromy(system, cycle)).astype(complex)
    return values[np.argsort(-np.abs(values))]


def is_stable(system: PointSystem, cycle: Cycle) -> bool:
    """True when every Floquet multiplier but the trivial one (nearest 1) has modulus < 1."""
    values = floquet_multipliers(system, cycle)
    trivial = int(np.argmin(np.abs(values - 1.0)))
    return bool(np.all(np.abs(np.delete(values, trivial)) < 1.0))
