"""Where the electrodes sit on a fibre, as the window and a lesson choose them: the
amplifier's (stimulating) electrode and the recording electrodes, snapped to the
centres of the fibre's compartments (the engine records a whole compartment).

Positions are in m from the fibre's first end.
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from rig import units
from rig.errors import VrigError
from rig.model.cell import Cell, load_cell
from rig.model.geometry import CableGeometry
from rig.simulation.cable import PROFILE_POINTS
from rig.simulation.engine import Rig
from rig.simulation.fibre import DEFAULT_FIBRE_DT_S

# Where a new fibre's recording electrodes start, as fractions of its length: three, so
# that a velocity can be read between any two and a collision seen between them.
DEFAULT_SITE_FRACTIONS = (0.25, 0.5, 0.75)


@dataclass(frozen=True)
class Electrodes:
    """stim_m: the amplifier's electrode; sites_m: the recording electrodes (in the
    order of their signals); axial_wire: in voltage clamp the whole fibre is held."""

    stim_m: float
    sites_m: tuple
    axial_wire: bool = True


def centres_m(geometry: CableGeometry) -> np.ndarray:
    """The compartments' centres (m) of a rig.model.geometry.CableGeometry."""
    return units.um_to_m(geometry.centres_um())


def snap(geometry: CableGeometry, position_m: Any) -> float:
    """The centre (m) of the compartment nearest to position_m, kept on the fibre; a
    position that is not a finite number is a VrigError."""
    try:
        position_m = float(position_m)
    except (TypeError, ValueError):
        position_m = float("nan")
    if not np.isfinite(position_m):
        raise VrigError("an electrode's position must be a finite number of mm along the fibre")
    centres = centres_m(geometry)
    return float(centres[int(np.argmin(np.abs(centres - position_m)))])


def default_electrodes(geometry: CableGeometry) -> Electrodes:
    """A new fibre's electrodes: stimulating at the first compartment, recording at
    DEFAULT_SITE_FRACTIONS of its length (each snapped; distinct on any fibre with at
    least as many compartments)."""
    length_m = units.um_to_m(geometry.total_length_um)
    sites = []
    for fraction in DEFAULT_SITE_FRACTIONS:
        x = snap(geometry, fraction * length_m)
        if x not in sites:
            sites.append(x)
    return Electrodes(snap(geometry, 0.0), tuple(sites))


def checked(geometry: CableGeometry, electrodes: Electrodes) -> Electrodes:
    """electrodes snapped to geometry's compartments; VrigError (saying what to do) if
    two recording electrodes would share a compartment."""
    stim = snap(geometry, electrodes.stim_m)
    sites = tuple(snap(geometry, x) for x in electrodes.sites_m)
    if len(set(sites)) != len(sites):
        raise VrigError("two recording electrodes cannot sit on the same compartment; "
                        "place them further apart")
    return Electrodes(stim, sites, bool(electrodes.axial_wire))


def rig_for_cell(name: str, **options: Any) -> Rig:
    """A Rig (rig.simulation.engine) of the cell preset name as the window runs it: a
    fibre with its default electrodes (default_electrodes) and the fibre time step
    (rig.simulation.fibre.DEFAULT_FIBRE_DT_S, from its convergence study), which keeps a
    squid axon above real time, and its space-time profile; a point cell as the
 preset says; options: more of Rig's keyword arguments (e.g. accumulation)."""
    geometry = load_cell(name).geometry
    if geometry is None:
        return Rig.from_presets(name, **options)
    where = default_electrodes(geometry)
    setup = Rig.from_presets(name, dt=DEFAULT_FIBRE_DT_S, stim_at=where.stim_m,
                             record_at=where.sites_m, **options)
    setup.set_profile(PROFILE_POINTS)  # as the runner will: its first RigState says where
    return setup


# A fibre's stimulus from the amplifier's electrode: short, so the action potential's
# start is sharp on the map, and about twice threshold
STIMULUS_DURATION_S = 1e-4
STIMULUS_DEPOLARISATION_MV = 60.0


def stimulus_current_a(cell: Cell, duration_s: float = STIMULUS_DURATION_S,
                       depolarisation_mv: float = STIMULUS_DEPOLARISATION_MV) -> float:
    """A current (A) that depolarises the first end of cell's fibre by about
    depolarisation_mv in duration_s (as rig.simulation.fibre.pulse_current_a, from the
    geometry alone: the charge spreads along the cable, which admits sqrt(cm ga / t)
    per mV at its end; cm the end compartment's capacitance per um and ga its axial
    conductance to the next times its length)."""
    geometry = cell.geometry
    if geometry is None:
        raise VrigError(f"cell {cell.name!r} is a single compartment, not a fibre")
    lengths = geometry.compartment_lengths_um()
    cm_pf_per_um = units.capacitance_pf(cell.specific_capacitance_uf_per_cm2,
                                        units.cylinder_area_um2(geometry.diameter_um, 1.0))
    if lengths.size == 1:
        return units.pa_to_a(cm_pf_per_um * lengths[0] * depolarisation_mv
                             / units.s_to_ms(duration_s))
    ga_ns_um = geometry.axial_conductances_ns()[0] * lengths[0]
    admittance_ns = math.sqrt(cm_pf_per_um * ga_ns_um / units.s_to_ms(duration_s))
    return units.pa_to_a(admittance_ns * depolarisation_mv)
