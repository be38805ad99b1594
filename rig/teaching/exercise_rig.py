"""The engine an exercise runs on: its cell with any channel factors, its bath with any
ion changes, and its drugs at steady state."""

import dataclasses
from typing import Any

from rig.errors import VrigError
from rig.model.cell import Cell, load_cell
from rig.model.solutions import load_solution, with_ion_overrides
from rig.simulation.engine import Rig
from rig.teaching.exercise import Setup


def exercise_cell(setup: Setup) -> Cell:
    """The setup's cell preset with each channel's conductance (mS/cm^2) scaled."""
    cell = load_cell(setup.cell)
    factors = dict(setup.channel_factors)
    unknown = set(factors) - {channel.label for channel, _ in cell.channels}
    if unknown:
        raise VrigError(f"the exercise alters channel(s) {', '.join(sorted(unknown))}, which "
                        f"cell {setup.cell!r} does not have")
    channels = tuple((channel, g * factors.get(channel.label, 1.0))
                     for channel, g in cell.channels)
    return dataclasses.replace(cell, channels=channels)


def exercise_rig(setup: Setup, **kwargs: Any) -> Rig:
    """A settled Rig for the setup (kwargs go to Rig: dt, seed, ...)."""
    cell = exercise_cell(setup)
    bath, pipette = with_ion_overrides(load_solution(cell.bath), load_solution(cell.pipette),
                                       setup.ion_overrides)
    rig = Rig(cell, bath, pipette, **kwargs)
    for name, molar in setup.drugs:
        rig.apply_drug(name, molar, "outside", steady_state=True)
    rig.settle()
    return rig
