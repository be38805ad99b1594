"""Equilibria of a point cell, their stability and the Hopf points, as a parameter moves.

In current clamp every equilibrium of a point cell has its gates at steady state, so
it is fixed by its potential V alone, and it is an equilibrium for exactly one
injected current: I(V) = the steady-state membrane current. The branch of equilibria
against the current is therefore the curve (I(V), V), traced by V with no
continuation steps and through any fold (a saddle-node, where dI/dV = 0). For any
other parameter p (a conductance scale, a temperature, a concentration) the
equilibria at each p are the roots in V of I_ss(V; p) = I_injected, found on a grid.

Stability comes from the eigenvalues (1/ms) of the Jacobian of the full model (V and
every gate). A Hopf point is where a complex pair crosses the imaginary axis.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy.optimize import brentq

from rig.dynamics.system import Array, ComplexArray, PointSystem
from rig.errors import VrigError

V_GRID_MV = np.arange(-120.0, 80.0, 0.25)  # where equilibria are looked for (mV)
COMPLEX_TOL = 1e-9  # an eigenvalue with |imag| above this (1/ms) is one of a pair


@dataclass(frozen=True)
class Equilibrium:
    """One equilibrium: parameter value, V (mV), the full state, the eigenvalues of
    its Jacobian (1/ms) and whether it is stable."""

    parameter: float
    v_mv: float
    state: Array
    eigenvalues: ComplexArray

    @property
    def stable(self) -> bool:
        """True when every eigenvalue has a negative real part."""
        return bool(np.all(self.eigenvalues.real < 0))


@dataclass(frozen=True)
class HopfPoint:
    """A Hopf bifurcation: the parameter value, V (mV) and state there, the angular
    frequency omega (rad/ms) of the pair on the imaginary axis and its eigenvector."""

    parameter: float
    v_mv: float
    state: Array
    omega_per_ms: float
    eigenvector: ComplexArray

    @property
    def period_ms(self) -> float:
        """The period (ms) of the small oscillations born here."""
        return float(2 * np.pi / self.omega_per_ms)


def leading_pair_real(eigenvalues: ComplexArray) -> float:
    """The largest real part (1/ms) among the complex eigenvalues (-inf if none)."""
    pairs = eigenvalues[np.abs(eigenvalues.imag) > COMPLEX_TOL]
    return float(pairs.real.max()) if pairs.size else -np.inf


def equilibrium_at_v(system: PointSystem, v_mv: float) -> Equilibrium:
    """The equilibrium at potential v_mv (mV) and the current (pA) that holds it."""
    state = system.equilibrium_state(v_mv)
    current = float(system.steady_current_pa(v_mv))
    eigenvalues = np.linalg.eigvals(system.jacobian(state, current)).astype(complex)
    return Equilibrium(current, float(v_mv), state, eigenvalues)


def current_branch(system: PointSystem, v_mv: Sequence[float] | Array = V_GRID_MV
                   ) -> list[Equilibrium]:
    """The equilibria at each potential of v_mv (mV), parameter = injected current (pA)."""
    return [equilibrium_at_v(system, float(v)) for v in v_mv]


def _hopf_at(system: PointSystem, v_mv: float) -> HopfPoint:
    eq = equilibrium_at_v(system, v_mv)
    pairs = np.nonzero(np.abs(eq.eigenvalues.imag) > COMPLEX_TOL)[0]
    k = pairs[np.argmax(eq.eigenvalues.real[pairs])]
    values, vectors = np.linalg.eig(system.jacobian(eq.state, eq.parameter))
    k = int(np.argmin(np.abs(values - eq.eigenvalues[k])))
    if values[k].imag < 0:
        values, vectors = values.conj(), vectors.conj()
    return HopfPoint(eq.parameter, v_mv, eq.state, float(values[k].imag), vectors[:, k])


def hopf_points(system: PointSystem, v_mv: Sequence[float] | Array = V_GRID_MV
                ) -> list[HopfPoint]:
    """The Hopf points on the current branch, in order of V, each located to 1e-9 mV
    by bisection on the real part of the leading complex pair."""
    grid = np.asarray(v_mv, dtype=float)
    real = np.array([leading_pair_real(e.eigenvalues) for e in current_branch(system, grid)])
    found = []
    for i in np.nonzero(np.isfinite(real[:-1]) & np.isfinite(real[1:])
                        & (np.sign(real[:-1]) != np.sign(real[1:])))[0]:
        v = brentq(lambda x: leading_pair_real(equilibrium_at_v(system, x).eigenvalues),
                   grid[i], grid[i + 1], xtol=1e-9)
        found.append(_hopf_at(system, v))
    return found


def equilibria_at(system: PointSystem, current_pa: float,
                  v_mv: Sequence[float] | Array = V_GRID_MV) -> list[Equilibrium]:
    """Every equilibrium (in order of V) with current_pa (pA) injected: the roots of
    I_ss(V) = current_pa on the grid v_mv (mV), each refined to 1e-9 mV."""
    grid = np.asarray(v_mv, dtype=float)
    f = system.steady_current_pa(grid) - current_pa
    roots = [float(grid[i]) for i in np.nonzero(f == 0)[0]]
    for i in np.nonzero(np.sign(f[:-1]) * np.sign(f[1:]) < 0)[0]:
        roots.append(brentq(lambda v: float(system.steady_current_pa(v)) - current_pa,
                            grid[i], grid[i + 1], xtol=1e-9))
    return [equilibrium_at_v(system, v) for v in sorted(roots)]


def parameter_branch(system_of: Callable[[float], PointSystem], values: Sequence[float],
                     current_pa: float = 0.0) -> list[list[Equilibrium]]:
    """For each parameter value p of values, every equilibrium of system_of(p) with
    current_pa (pA) injected (their Equilibrium.parameter is p)."""
    branch = []
    for p in values:
        found = equilibria_at(system_of(float(p)), current_pa)
        branch.append([Equilibrium(float(p), e.v_mv, e.state, e.eigenvalues) for e in found])
    return branch


def _tracked(system_of: Callable[[float], PointSystem], p: float, current_pa: float,
             v_near_mv: float) -> Equilibrium:
    """The equilibrium of system_of(p) nearest v_near_mv (mV)."""
    found = equilibria_at(system_of(p), current_pa)
    if not found:
        raise VrigError(f"no equilibrium at parameter {p:g} with {current_pa:g} pA injected")
    return min(found, key=lambda e: abs(e.v_mv - v_near_mv))


def parameter_hopf_points(system_of: Callable[[float], PointSystem], values: Sequence[float],
                          current_pa: float = 0.0, xtol: float = 1e-6) -> list[HopfPoint]:
    """The Hopf points against any parameter p (a conductance scale, a temperature, a
    concentration: system_of(p) builds the system) with current_pa (pA) injected,
    on the grid values (in rising order), each equilibrium followed from one value to
    the next by its potential and a crossing located to xtol (p's unit) by bisection."""
    branch = parameter_branch(system_of, values, current_pa)
    found = []
    for before, after in pairwise(branch):
        for eq in before:
            if not after:
                continue
            nxt = min(after, key=lambda e: abs(e.v_mv - eq.v_mv))
            a, b = leading_pair_real(eq.eigenvalues), leading_pair_real(nxt.eigenvalues)
            if not (np.isfinite(a) and np.isfinite(b)) or np.sign(a) == np.sign(b):
                continue
            v_guess = eq.v_mv

            def real_part(p: float, v: float = v_guess) -> float:
                return leading_pair_real(_tracked(system_of, p, current_pa, v).eigenvalues)

            p = brentq(real_part, eq.parameter, nxt.parameter, xtol=xtol)
            system = system_of(p)
            hopf = _hopf_at(system, _tracked(system_of, p, current_pa, v_guess).v_mv)
            found.append(HopfPoint(p, hopf.v_mv, hopf.state, hopf.omega_per_ms,
                                   hopf.eigenvector))
    return found


def saddle_nodes(system: PointSystem, v_mv: Sequence[float] | Array = V_GRID_MV
                 ) -> list[Equilibrium]:
    """The folds of the current branch (saddle-nodes: two equilibria meet and vanish,
    where dI/dV = 0), in order of V, each located to 1e-6 mV. The first one where I
    turns down (a local maximum of I) is where a type I cell's rest disappears."""
    grid = np.asarray(v_mv, dtype=float)
    step = 1e-4  # mV, for the central difference of I(V)

    def slope(v: float) -> float:
        return float((system.steady_current_pa(v + step)
                      - system.steady_current_pa(v - step)) / (2 * step))

    slopes = np.array([slope(v) for v in grid])
    found = []
    for i in np.nonzero(np.sign(slopes[:-1]) * np.sign(slopes[1:]) < 0)[0]:
        found.append(equilibrium_at_v(system, brentq(slope, grid[i], grid[i + 1], xtol=1e-6)))
    return found


def stabilising(system: PointSystem, hopf: HopfPoint, dv_mv: float = 1e-3) -> bool:
    """True for a Hopf point where the equilibrium regains stability as V rises
    through it (depolarisation block), False where it loses it (onset of firing)."""
    above = leading_pair_real(equilibrium_at_v(system, hopf.v_mv + dv_mv).eigenvalues)
    return above < 0
