"""The landmarks of a point cell's bifurcation diagram against injected current: the
Hopf points where rest loses (lower) and regains (upper) stability, and the fold of
cycles below the lower Hopf where repetitive firing begins (the bistable band lies
between the fold and the lower Hopf)."""

from dataclasses import dataclass, field

import numpy as np

from rig.dynamics import cycles
from rig.dynamics.cycles import Cycle
from rig.dynamics.equilibria import HopfPoint, hopf_points
from rig.dynamics.system import PointSystem
from rig.errors import VrigError


@dataclass(frozen=True)
class Landmarks:
    """Currents (pA) of the landmarks (None where the cell has none), with the
    Hopf points and the family of cycles continued from the lower one (its cycle at
    the fold, if any) for plotting or further study."""

    hopf_lower_pa: float | None
    hopf_upper_pa: float | None
    fold_of_cycles_pa: float | None
    hopf: tuple[HopfPoint, ...] = ()
    cycles: tuple[Cycle, ...] = field(default=(), repr=False)
    fold: Cycle | None = field(default=None, repr=False)

    def lines(self, system: PointSystem) -> list[tuple[str, float, str]]:
        """(name, value, unit) for each landmark in pA then uA/cm^2 (nan: none)."""
        rows = []
        for name, value in (("hopf_lower", self.hopf_lower_pa),
                            ("hopf_upper", self.hopf_upper_pa),
                            ("fold_of_cycles", self.fold_of_cycles_pa)):
            pa = np.nan if value is None else value
            rows.append((name, pa, "pA"))
            rows.append((f"{name}_density", float(system.density_ua_per_cm2(pa)), "uA/cm2"))
        return rows


def landmarks(system: PointSystem) -> Landmarks:
    """The Hopf points and the fold of the cycles born at the lower Hopf (None for a
    supercritical lower Hopf, whose cycles have no fold below it). A VrigError if the
    rest never loses stability to an oscillation."""
    found = sorted(hopf_points(system), key=lambda h: h.parameter)
    if not found:
        raise VrigError(f"cell {system.name!r} has no Hopf bifurcation against injected "
                        "current: its rest never loses stability to an oscillation")
    lower = found[0]
    upper = found[-1] if len(found) > 1 else None
    highest_reversal = float(np.max(system.membrane.chan_e_mv))
    family = cycles.continue_cycles(system, lower, highest_reversal)
    fold = cycles.fold_of_cycles(system, family)
    return Landmarks(lower.parameter, None if upper is None else upper.parameter,
                     None if fold is None else fold.current_pa, tuple(found),
                     tuple(family), fold)
