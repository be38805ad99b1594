"""The landmarks of a point cell's bifurcation diagram against injected current: the
Hopf points where rest loses (lower) and regains (upper) stability, the fold of
cycles below the lower Hopf where repetitive firing begins (the bistable band lies
between the fold and the lower Hopf), and the saddle-node where a type I cell's rest
vanishes."""

from dataclasses import dataclass, field

import numpy as np

from rig.dynamics import cycles
from rig.dynamics.cycles import Cycle
from rig.dynamics.equilibria import (
    V_GRID_MV,
    HopfPoint,
    hopf_points,
    saddle_nodes,
    stabilising,
)
from rig.dynamics.system import PointSystem


@dataclass(frozen=True)
class Landmarks:
    """Currents (pA) of the landmarks (None where the cell has none), with the
    Hopf points and the family of cycles continued from the lower one (its cycle at
    the fold, if any) for plotting or further study."""

    hopf_lower_pa: float | None
    hopf_upper_pa: float | None
    fold_of_cycles_pa: float | None
    saddle_node_pa: float | None = None
    hopf: tuple[HopfPoint, ...] = ()
    cycles: tuple[Cycle, ...] = field(default=(), repr=False)
    fold: Cycle | None = field(default=None, repr=False)

    def lines(self, system: PointSystem) -> list[tuple[str, float | str, str]]:
        """(name, value, unit) for each landmark in pA then uA/cm^2; a landmark the
        cell does not have is (name, 'none in LOW..HIGH', unit), the currents searched
        (those that hold the cell at the potentials of V_GRID_MV)."""
        searched = system.steady_current_pa(np.array([V_GRID_MV[0], V_GRID_MV[-1]]))
        low, high = float(np.min(searched)), float(np.max(searched))
        rows: list[tuple[str, float | str, str]] = []
        for name, value in (("hopf_lower", self.hopf_lower_pa),
                            ("hopf_upper", self.hopf_upper_pa),
                            ("fold_of_cycles", self.fold_of_cycles_pa),
                            ("saddle_node", self.saddle_node_pa)):
            for suffix, unit, convert in (("", "pA", float),
                                          ("_density", "uA/cm2", system.density_ua_per_cm2)):
                if value is None:
                    rows.append((name + suffix, f"none in {float(convert(low)):.6g}.."
                                 f"{float(convert(high)):.6g}", unit))
                else:
                    rows.append((name + suffix, float(convert(value)), unit))
        return rows


def landmarks(system: PointSystem) -> Landmarks:
    """The landmarks against injected current: hopf_lower, the lowest Hopf point where
    rest loses stability (the onset of firing in HH); hopf_upper, the highest where the
    depolarised equilibrium regains it (depolarisation block); the fold of the cycles
    born at hopf_lower (None for a supercritical Hopf, whose cycles have no fold below
    it); saddle_node, the lowest fold of equilibria where the rest vanishes (a type I
    cell's onset). Each is None where the cell has none (a passive cell has none)."""
    found = sorted(hopf_points(system), key=lambda h: h.parameter)
    losing = [h for h in found if not stabilising(system, h)]
    regaining = [h for h in found if stabilising(system, h)]
    knees = [e for e in saddle_nodes(system)
             if float(system.steady_current_pa(e.v_mv - 0.5)) < e.parameter]
    saddle = knees[0].parameter if knees else None
    upper = regaining[-1].parameter if regaining else None
    if not losing:
        return Landmarks(None, upper, None, saddle, tuple(found))
    lower = losing[0]
    highest_reversal = float(np.max(system.membrane.chan_e_mv))
    family = cycles.continue_cycles(system, lower, highest_reversal)
    fold = cycles.fold_of_cycles(system, family)
    return Landmarks(lower.parameter, upper, None if fold is None else fold.current_pa,
                     saddle, tuple(found), tuple(family), fold)
