"""Bifurcation parameters other than the injected current, for `vrig bifurcation
--param`: what each name means, its unit, its default range, and the point system at
a value.

Names (for a cell whose channels are labelled Na, K and leak, as hh-squid's):

==================  =========================================================
``current``         injected current, pA (the default; see rig.dynamics.landmarks)
``gLABEL``          the density of the cell's channel LABEL, mS/cm^2 (``gNa``,
                    ``gK``; ``gleak`` scales every leak component together)
``bath.ION``        the bath's concentration of ION, mM (``bath.K`` is K_out)
``temperature``     degC
==================  =========================================================

Against any of these the Hopf points are found at a fixed injected current (default
0 pA) by following each equilibrium across a grid of values and bisecting on the
real part of its leading complex pair (rig.dynamics.equilibria.parameter_hopf_points).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rig.dynamics.system import PointSystem, point_system
from rig.errors import VrigError
from rig.model import physics
from rig.model.cell import Cell, load_cell
from rig.model.ions import PERMEANT_IONS
from rig.model.solutions import load_solution
from rig.resources import printable

DEFAULT_POINTS = 41  # grid values the equilibria are followed across
CONDUCTANCE_SPAN = (0.0, 3.0)  # default range: this many times the preset's density
CONCENTRATION_SPAN = (0.1, 10.0)  # default range: this many times the bath's value


@dataclass(frozen=True)
class Parameter:
    """A bifurcation parameter: its name, unit, the preset's value (None for
    temperature without one) and a default range (low, high)."""

    name: str
    unit: str
    preset: float
    default_range: tuple[float, float]
    system_of: Callable[[float], PointSystem]


def channel_densities(cell: Cell) -> dict[str, float]:
    """Density (mS/cm^2) per channel label of a cell; 'leak' is the sum of its
    components."""
    densities: dict[str, float] = {}
    for channel, density in cell.channels:
        densities[channel.label] = densities.get(channel.label, 0.0) + float(density)
    densities["leak"] = float(sum(cell.leak_ms_per_cm2.values()))
    return densities


def accepted_names(cell: Cell) -> list[str]:
    """Every --param name the cell accepts."""
    return (["current"] + [f"g{label}" for label in channel_densities(cell)]
            + [f"bath.{ion}" for ion in PERMEANT_IONS] + ["temperature"])


def parameter(name: str, cell_name: str, temperature_c: float | None = None,
              bath: str | None = None, pipette: str | None = None) -> Parameter:
    """The Parameter called name for the cell preset cell_name (a VrigError listing
    the accepted names if it has none such). Not for 'current'."""
    cell = load_cell(cell_name)
    bath_solution = load_solution(bath or cell.bath)
    densities = channel_densities(cell)
    if name.startswith("g") and name[1:] in densities:
        label, preset = name[1:], densities[name[1:]]
        if preset <= 0:
            raise VrigError(f"--param {name}: cell {cell.name!r} has no {label} conductance "
                            "to scale")

        def conductance(value: float) -> PointSystem:
            return point_system(cell, temperature_c, bath_solution, pipette,
                                conductance_scale={label: value / preset})

        low, high = (k * preset for k in CONDUCTANCE_SPAN)
        return Parameter(name, "mS/cm2", preset, (low, high), conductance)
    if name.startswith("bath.") and name[5:] in PERMEANT_IONS:
        ion = name[5:]
        preset = float(bath_solution.concentrations_mm.get(ion, 0.0))

        def concentration(value: float) -> PointSystem:
            return point_system(cell, temperature_c, bath_solution.with_ion(ion, value),
                                pipette)

        low, high = (k * max(preset, 1.0) for k in CONCENTRATION_SPAN)
        return Parameter(name, "mM", preset, (low, high), concentration)
    if name == "temperature":
        def temperature(value: float) -> PointSystem:
            return point_system(cell, value, bath_solution, pipette)

        return Parameter(name, "degC", cell.temperature_c,
                         (physics.MIN_TEMPERATURE_C, physics.MAX_TEMPERATURE_C), temperature)
    raise VrigError(f"--param {printable(name)!r}: cell {cell.name!r} takes "
                    f"{', '.join(accepted_names(cell))}")


def grid_values(low: float, high: float, points: int = DEFAULT_POINTS) -> list[float]:
    """points values from low to high, both included."""
    return [float(v) for v in np.linspace(low, high, points)]
