"""The bifurcation diagram of a point cell against injected current, as plain arrays
for plotting: the branch of equilibria (V against I, stable or not), the Hopf points,
the cycles born at each Hopf point (V's maximum and minimum against I, stable or
not) and the fold of cycles.

Computing the cycles takes seconds to a minute (collocation, see
rig.dynamics.cycles), so compute_diagram reports its progress and can be cancelled
between two cycles; the equilibria and Hopf points (under a second) come first and
are handed over on their own so that a window can draw them at once.

Cycle stability: along a one-parameter family a cycle changes stability only where a
Floquet multiplier crosses the unit circle; in these cells that happens at the folds
of the family (where I turns), so each stretch between two turns of I takes the
stability of its middle cycle (its Floquet multipliers, rig.dynamics.cycles.is_stable).
A period doubling or torus bifurcation inside a stretch would be missed.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import pairwise

import numpy as np

from rig.dynamics import cycles as cyc
from rig.dynamics.cycles import Cycle
from rig.dynamics.equilibria import (
    V_GRID_MV,
    HopfPoint,
    current_branch,
    hopf_points,
    stabilising,
)
from rig.dynamics.system import Array, PointSystem

Progress = Callable[[float, str], object]  # (fraction done 0-1, what runs now)
EQUILIBRIA_SHARE = 0.05  # of the progress bar: the equilibria and Hopf points
FOLD_SHARE = 0.15  # the refinement of the fold of cycles


class Cancelled(Exception):
    """The computation was cancelled (by its `cancelled` callable)."""


@dataclass(frozen=True)
class HopfMark:
    """A Hopf point on the diagram: current (pA), V (mV), and whether rest loses
    stability there as I rises ('onset') or regains it ('block')."""

    current_pa: float
    v_mv: float
    kind: str


@dataclass(frozen=True)
class Diagram:
    """Arrays of the diagram. Equilibria: eq_current_pa, eq_v_mv, eq_stable (one per V
    of the grid). Cycles: cycle_current_pa, cycle_v_max_mv, cycle_v_min_mv,
    cycle_stable, cycle_family (index of the Hopf point each cycle comes from).
    fold: (current pA, V max mV, V min mV) of the fold of cycles, or None.
    cycles_done: False while only the equilibria are known (or when cancelled)."""

    cell: str
    temperature_c: float
    area_um2: float
    eq_current_pa: Array
    eq_v_mv: Array
    eq_stable: Array
    hopf: tuple[HopfMark, ...]
    cycle_current_pa: Array = field(default_factory=lambda: np.zeros(0))
    cycle_v_max_mv: Array = field(default_factory=lambda: np.zeros(0))
    cycle_v_min_mv: Array = field(default_factory=lambda: np.zeros(0))
    cycle_stable: Array = field(default_factory=lambda: np.zeros(0, bool))
    cycle_family: Array = field(default_factory=lambda: np.zeros(0, int))
    fold: tuple[float, float, float] | None = None
    cycles_done: bool = False

    def density(self, current_pa: float) -> float:
        """A current (pA) as a density over this cell's membrane (uA/cm^2)."""
        return float(current_pa) * 1e-6 / (self.area_um2 * 1e-8)

    def hopf_of(self, kind: str) -> HopfMark | None:
        """The lowest 'onset' or the highest 'block' Hopf point, or None."""
        marks = [h for h in self.hopf if h.kind == kind]
        if not marks:
            return None
        return marks[0] if kind == "onset" else marks[-1]

    def rest_stable_at(self, current_pa: float) -> bool | None:
        """Whether the lowest-V equilibrium at current_pa (pA) is stable (None when the
        branch does not reach that current)."""
        i = self.eq_current_pa
        crossing = np.nonzero((i[:-1] - current_pa) * (i[1:] - current_pa) <= 0)[0]
        return None if crossing.size == 0 else bool(self.eq_stable[crossing[0]])


def equilibria_diagram(system: PointSystem) -> Diagram:
    """The diagram's equilibria and Hopf points (no cycles yet)."""
    branch = current_branch(system, V_GRID_MV)
    marks = tuple(HopfMark(h.parameter, h.v_mv,
                           "block" if stabilising(system, h) else "onset")
                  for h in sorted(hopf_points(system), key=lambda h: h.parameter))
    return Diagram(system.name, system.temperature_c, system.area_um2,
                   np.array([e.parameter for e in branch]), np.array([e.v_mv for e in branch]),
                   np.array([e.stable for e in branch]), marks)


def _stretch_stability(system: PointSystem, family: list[Cycle]) -> Array:
    """Stable or not for each cycle of a family: each stretch between two turns of
    the current takes the stability of its middle cycle."""
    currents = np.array([c.current_pa for c in family])
    turns = [0] + [k for k in range(1, len(family) - 1)
                   if (currents[k] - currents[k - 1]) * (currents[k + 1] - currents[k]) < 0]
    bounds = turns + [len(family) - 1]
    stable = np.zeros(len(family), bool)
    for start, stop in pairwise(bounds):
        stable[start:stop + 1] = cyc.is_stable(system, family[(start + stop + 1) // 2])
    return stable


def compute_diagram(system: PointSystem, progress: Progress | None = None,
                    cancelled: Callable[[], bool] | None = None,
                    on_equilibria: Callable[[Diagram], object] | None = None) -> Diagram:
    """The full diagram of system. progress(fraction, text) is called as it goes;
    cancelled() is polled between cycles (True: raise Cancelled); on_equilibria(diagram)
    receives the equilibria and Hopf points as soon as they are known."""

    def report(fraction: float, text: str) -> None:
        if cancelled is not None and cancelled():
            raise Cancelled
        if progress is not None:
            progress(min(1.0, fraction), text)

    report(0.0, "equilibria and their stability")
    base = equilibria_diagram(system)
    if on_equilibria is not None:
        on_equilibria(base)
    hopfs = sorted(hopf_points(system), key=lambda h: h.parameter)
    top_mv = float(np.max(system.membrane.chan_e_mv))
    share = (1.0 - EQUILIBRIA_SHARE - FOLD_SHARE) / max(1, len(hopfs))
    rows: list[tuple[Cycle, bool, int]] = []
    fold = None
    for k, hopf in enumerate(hopfs):
        start = EQUILIBRIA_SHARE + k * share

        def on_cycle(cycle: Cycle, start: float = start, hopf: HopfPoint = hopf) -> None:
            done = (cycle.v_peak_mv - hopf.v_mv) / max(1e-9, top_mv - hopf.v_mv)
            report(start + share * float(np.clip(done, 0, 1)),
                   f"cycles from the Hopf point at {hopf.parameter:.4g} pA: "
                   f"{cycle.current_pa:.4g} pA, peak {cycle.v_peak_mv:.3g} mV")

        family = cyc.continue_cycles(system, hopf, top_mv, rises_to_stop=10**6,
                                     on_cycle=on_cycle)
        report(start + share, "stability of the cycles (Floquet multipliers)")
        rows += [(c, bool(s), k) for c, s in zip(family, _stretch_stability(system, family))]
        if fold is None and not stabilising(system, hopf):
            report(start + share, "refining the fold of cycles")
            fold = cyc.fold_of_cycles(system, family)
    report(1.0, "done")
    return replace(
        base,
        cycle_current_pa=np.array([c.current_pa for c, _, _ in rows]),
        cycle_v_max_mv=np.array([c.v_peak_mv for c, _, _ in rows]),
        cycle_v_min_mv=np.array([c.v_trough_mv for c, _, _ in rows]),
        cycle_stable=np.array([s for _, s, _ in rows], bool),
        cycle_family=np.array([k for _, _, k in rows], int),
        fold=None if fold is None else (fold.current_pa, fold.v_peak_mv, fold.v_trough_mv),
        cycles_done=True)
