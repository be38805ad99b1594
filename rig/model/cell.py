"""The membrane: area, capacitance, voltage-gated channel densities and an ionic leak.

The leak is a sum of ohmic components, one per ion, each reversing at that ion's Nernst potential
(or at 0 mV for a 'nonselective' component, as in a model cell); its reversal is therefore the
chord-conductance average and moves when a solution changes (raise bath K and the rest depolarises,
sub-Nernstian).
"""

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from rig import resources, units
from rig.errors import VrigError
from rig.model import physics, shipped
from rig.model.channels import Channel, Gate, load_channel
from rig.model.geometry import (
    FIBRE_MEMORY_BYTES,
    CableGeometry,
    bytes_per_compartment,
    compartment_limit,
    geometry_from_dict,
    resized,
)
from rig.model.gradients import Gradients, gradients_from_dict
from rig.model.ions import PERMEANT_IONS
from rig.model.limits import FEEDBACK_RESISTORS_OHM, MEMBRANE_BREAKDOWN_V
from rig.model.markov import Scheme, load_scheme, scheme_from_channel
from rig.model.pharmacology import DEFAULT_PREPARATION, PREPARATION_PATTERN
from rig.model.solutions import check_permeant, load_solution

NONSELECTIVE = "nonselective"  # a leak component reversing at 0 mV (a resistor to ground)
MAX_CHANNEL_COUNT = 10_000_000  # channels of one kind a cell may count one by one
PATCH_CONFIGURATIONS = ("outside-out", "inside-out", "cell-attached")


@dataclass(frozen=True)
class Cell:
    """A cell preset (file units: um^2, uF/cm^2, mS/cm^2, MOhm): one isopotential
    compartment, or with a geometry (a fibre cut into compartments; its area is then
    the fibre's whole membrane area)."""

    name: str
    area_um2: float
    specific_capacitance_uf_per_cm2: float
    channels: tuple[tuple[Channel, float], ...]  # of (Channel, g_mS_per_cm2)
    leak_ms_per_cm2: dict[str, float] = field(default_factory=dict)
    temperature_c: float = physics.HH_REFERENCE_TEMPERATURE_C
    bath: str = "squid-seawater"
    pipette: str = "squid-axoplasm"
    series_resistance_mohm: float = 0.0
    pipette_capacitance_pf: float = 0.0
    seal_resistance_gohm: float = math.inf
    ghk_permeability: dict[str, float] = field(default_factory=dict)
    preparation: str = DEFAULT_PREPARATION
    feedback_resistor_mohm: float = 500.0
    breakdown_mv: float = units.v_to_mv(MEMBRANE_BREAKDOWN_V)
    description: str = ""
    source: str = ""
    geometry: CableGeometry | None = None
    # Markov channels counted one by one: (Scheme, number of channels); a patch's own
    schemes: tuple[tuple[Scheme, int], ...] = ()
    stochastic: bool = False  # simulate every channel as a random molecule
    configuration: str = ""  # a patch's recording configuration (PATCH_CONFIGURATIONS)
    gradients: Gradients = field(default_factory=Gradients)  # volumes, pump, accumulation

    @property
    def capacitance_pf(self) -> float:
        """Membrane capacitance in pF."""
        return units.capacitance_pf(self.specific_capacitance_uf_per_cm2, self.area_um2)

    def gates(self) -> list[tuple[int, Gate]]:
        """(channel index, Gate) for every gate, in the order the kernel stores them."""
        return [(i, gate) for i, (channel, _) in enumerate(self.channels)
                for gate in channel.gates]


def with_geometry(cell: Cell, geometry: CableGeometry) -> Cell:
    """cell on another fibre geometry, its area (um^2) the new fibre's."""
    return replace(cell, geometry=geometry, area_um2=float(geometry.areas_um2().sum()))


def resize_fibre(cell: Cell, length_um: float | None = None, diameter_um: float | None = None,
                 compartments: int | None = None) -> Cell:
    """cell with its fibre given another length (um), diameter (um) and/or compartment
    count (None keeps each; see :func:`rig.model.geometry.resized`), its area the new
    fibre's. A point cell, or more compartments than the memory a fibre may take holds
    (:func:`rig.model.geometry.compartment_limit`), is a VrigError."""
    if cell.geometry is None:
        raise VrigError(f"cell {cell.name!r} is a single compartment: length, diameter and "
                        "compartments apply to a fibre (a cell preset with a cable, e.g. "
                        "squid-axon, thin-fibre or myelinated-axon)")
    geometry = resized(cell.geometry, length_um, diameter_um, compartments)
    n_gates, n_channels = len(cell.gates()), len(cell.channels) + 1  # (+1: the leak)
    limit = compartment_limit(n_gates, n_channels)
    if geometry.n_compartments > limit:
        per = bytes_per_compartment(n_gates, n_channels)
        raise VrigError(f"{geometry.n_compartments} compartments is too many: each takes "
                        f"{per} bytes while the fibre runs, and a fibre may take "
                        f"{FIBRE_MEMORY_BYTES / 2 ** 20:g} MiB, so {cell.name!r} can "
                        f"have at most {limit} compartments; use fewer or a shorter fibre")
    return with_geometry(cell, geometry)


SPECIFIC_CAPACITANCE_RANGE = (0.1, 10.0)  # uF/cm^2


def capacitance_range_pf(cell: Cell) -> tuple[float, float]:
    """(lowest, highest) membrane capacitance in pF the cell can be given: 0.1-10
    uF/cm^2 over its area (the compensation panel's Cm box reads this too)."""
    low, high = SPECIFIC_CAPACITANCE_RANGE
    return units.capacitance_pf(low, cell.area_um2), units.capacitance_pf(high, cell.area_um2)


def specific_capacitance_for(cell: Cell, capacitance_f: float) -> float:
    """The specific capacitance (uF/cm^2) that gives a cell a capacitance (F) over its
    area, if it is within 0.1-10 uF/cm^2; else a VrigError giving the range in pF.
    The value is compared in pF rounded to 12 digits, so a limit typed in is accepted."""
    capacitance_pf = float(f"{units.f_to_pf(float(capacitance_f)):.12g}")
    low, high = capacitance_range_pf(cell)
    if not low * (1 - 1e-12) <= capacitance_pf <= high * (1 + 1e-12):
        raise VrigError(f"cell capacitance must be {low:g} to {high:g} pF for this "
                        f"{cell.area_um2:g} um^2 cell, got {capacitance_pf:g} pF")
    return units.specific_capacitance_uf_per_cm2(capacitance_pf, cell.area_um2)


def cell_from_dict(data: Any, name: str) -> Cell:
    """Build a Cell from its preset JSON, validating each field."""
    what = f"cell {name!r}"
    if not isinstance(data, dict):
        raise VrigError(f"{what} must be a JSON object")
    for key in ("channels_mS_per_cm2", "leak_mS_per_cm2", "ghk_relative_permeability"):
        if not isinstance(data.get(key, {}), dict):
            raise VrigError(f"{what}: {key} must be an object of name: number")
    for key in ("bath", "pipette", "description", "source", "preparation"):
        if not isinstance(data.get(key, ""), str):
            raise VrigError(f"{what}: {key} must be text")
    preparation = data.get("preparation", DEFAULT_PREPARATION)
    if not re.fullmatch(PREPARATION_PATTERN, preparation):
        raise VrigError(f"{what}: preparation must be a lower-case name with dashes "
                        f"(e.g. squid-giant-axon), got {preparation!r:.40}")
    feedback = resources.number(data, "feedback_resistor_MOhm", what, 0, math.inf,
                                default=500.0)
    if units.mohm_to_ohm(feedback) not in FEEDBACK_RESISTORS_OHM:
        raise VrigError(f"{what}: feedback_resistor_MOhm must be one of "
                        + ", ".join(f"{units.ohm_to_mohm(r):g}" for r in FEEDBACK_RESISTORS_OHM))
    channels: list[tuple[Channel, float]] = []
    for channel_name, density in dict(data.get("channels_mS_per_cm2", {})).items():
        g = resources.number({"g": density}, "g", f"{what} channel {channel_name}", 0, 10000)
        try:
            channels.append((load_channel(channel_name), g))
        except VrigError as exc:
            raise VrigError(f"{what}: its channel {channel_name!r} cannot be used: {exc}") from None
    leak: dict[str, float] = {}
    for ion, density in dict(data.get("leak_mS_per_cm2", {})).items():
        if ion not in PERMEANT_IONS + (NONSELECTIVE,):
            raise VrigError(f"{what}: leak ion must be one of "
                            f"{', '.join(PERMEANT_IONS + (NONSELECTIVE,))}")
        leak[ion] = resources.number({"g": density}, "g", f"{what} leak {ion}", 0, 1000)
    ghk: dict[str, float] = {}
    for ion, p in dict(data.get("ghk_relative_permeability", {})).items():
        if ion not in ("Na", "K", "Cl"):
            raise VrigError(f"{what}: GHK permeabilities are for Na, K and Cl, not {ion!r}")
        ghk[ion] = resources.number({"p": p}, "p", f"{what} GHK permeability {ion}", 0, 100)
    schemes = _schemes(data.get("channel_counts", {}), what)
    configuration = data.get("configuration", "")
    if configuration not in ("",) + PATCH_CONFIGURATIONS:
        raise VrigError(f"{what}: configuration must be one of {', '.join(PATCH_CONFIGURATIONS)}")
    stochastic = data.get("stochastic", False)
    if not isinstance(stochastic, bool):
        raise VrigError(f"{what}: stochastic must be true or false")
    geometry = geometry_from_dict(data["cable"], what) if "cable" in data else None
    if geometry is not None and "area_um2" in data:
        raise VrigError(f"{what}: a cable's membrane area follows from its length and "
                        "diameter; remove area_um2")
    area = (float(geometry.areas_um2().sum()) if geometry is not None
            else resources.number(data, "area_um2", what, 1, 1e8))
    return Cell(
        name=name,
        area_um2=area,
        specific_capacitance_uf_per_cm2=resources.number(
            data, "specific_capacitance_uF_per_cm2", what, *SPECIFIC_CAPACITANCE_RANGE),
        channels=tuple(channels),
        leak_ms_per_cm2=leak,
        temperature_c=physics.check_temperature(data.get("temperature_C", 6.3)),
        bath=str(data.get("bath", "squid-seawater")),
        pipette=str(data.get("pipette", "squid-axoplasm")),
        series_resistance_mohm=resources.number(data, "series_resistance_MOhm", what, 0, 1000,
                                                default=0.0),
        pipette_capacitance_pf=resources.number(data, "pipette_capacitance_pF", what, 0, 100,
                                                default=0.0),
        seal_resistance_gohm=resources.number(data, "seal_resistance_GOhm", what, 0.01,
                                              math.inf, default=math.inf),
        ghk_permeability=ghk,
        preparation=preparation,
        feedback_resistor_mohm=feedback,
        breakdown_mv=resources.number(data, "breakdown_mV", what, 100, 1e5,
                                      default=units.v_to_mv(MEMBRANE_BREAKDOWN_V)),
        description=str(data.get("description", "")),
        source=str(data.get("source", "")),
        geometry=geometry,
        schemes=schemes,
        stochastic=stochastic,
        configuration=configuration,
        gradients=(gradients_from_dict(data["accumulation"], area, what)
                   if "accumulation" in data else Gradients()),
    )


def channel_count(channel: Channel, density_ms_per_cm2: float, area_um2: float) -> int:
    """The number of channels (nearest whole number) that give a conductance density
    (mS/cm^2) over an area (um^2) at the channel's unitary conductance (pS):
    1 mS/cm^2 is 10 pS/um^2."""
    gamma = scheme_from_channel(channel).unitary_conductance_ps  # checks it is given
    return int(round(10.0 * density_ms_per_cm2 * area_um2 / gamma))


def markov_populations(cell: Cell) -> tuple[tuple[Scheme, int], ...]:
    """(Scheme, count) of every channel the Markov kernel simulates for a cell that
    needs it (stochastic, or with schemes of its own): its schemes, and its HH
    channels as their Markov schemes with the counts their densities give."""
    converted = tuple((scheme_from_channel(channel), channel_count(channel, g, cell.area_um2))
                      for channel, g in cell.channels)
    return cell.schemes + converted


def uses_markov(cell: Cell) -> bool:
    """True if a cell needs the Markov kernel (stochastic, or schemes of its own)."""
    return cell.stochastic or bool(cell.schemes)


def with_channel_counts(cell: Cell, counts: dict[str, int]) -> Cell:
    """cell with the channels of each label in counts ({'Na': 50}) counted one by one:
    a scheme's count replaced, an HH channel turned into its Markov scheme with that
    count. The label '' stands for the cell's only kind of channel. A label the cell
    does not have is a VrigError naming those it has."""
    schemes = list(cell.schemes)
    channels = list(cell.channels)
    kinds = [s.label for s, _ in schemes] + [c.label for c, _ in channels]
    if "" in counts:
        if len(kinds) != 1 or len(counts) != 1:
            raise VrigError(f"cell {cell.name!r} has {len(kinds)} kinds of channel "
                            f"({', '.join(kinds) or 'none'}); give each count with its "
                            "label, e.g. --channels Na=50")
        counts = {kinds[0]: counts[""]}
    for label, count in counts.items():
        count = check_channel_count(count, f"--channels {label}")
        at = [i for i, (scheme, _) in enumerate(schemes) if scheme.label == label]
        hh = [i for i, (channel, _) in enumerate(channels) if channel.label == label]
        if at:
            schemes[at[0]] = (schemes[at[0]][0], count)
        elif hh:
            channel, _ = channels.pop(hh[0])
            schemes.append((scheme_from_channel(channel), count))
        else:
            raise VrigError(f"cell {cell.name!r} has no {label} channels to count; it has "
                            f"{', '.join(kinds) or 'none'}")
    return replace(cell, schemes=tuple(schemes), channels=tuple(channels))


def check_channel_count(value: Any, what: str) -> int:
    """value as a channel count (a whole number 0 to MAX_CHANNEL_COUNT), else a VrigError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise VrigError(f"{what}: a channel count must be a whole number, got {value!r:.40}")
    if value != int(value) or not 0 <= value <= MAX_CHANNEL_COUNT:
        raise VrigError(f"{what}: a channel count must be a whole number from 0 to "
                        f"{MAX_CHANNEL_COUNT}, got {value:g}")
    return int(value)


def _schemes(data: Any, what: str) -> tuple[tuple[Scheme, int], ...]:
    """(Scheme, count) for each entry of a cell's channel_counts {scheme name: count}."""
    if not isinstance(data, dict):
        raise VrigError(f"{what}: channel_counts must be an object of scheme name: count")
    found = []
    for name, count in data.items():
        try:
            scheme = load_scheme(name)
        except VrigError as exc:
            raise VrigError(f"{what}: its scheme {name!r} cannot be used: {exc}") from None
        found.append((scheme, check_channel_count(count, f"{what} channel_counts {name}")))
    labels = [scheme.label for scheme, _ in found]
    if len(set(labels)) != len(labels):
        raise VrigError(f"{what}: two schemes in channel_counts share a label; give each "
                        "its own")
    return tuple(found)


def load_cell(name: str) -> Cell:
    """A shipped cell preset by name (see ``vrig list cells``)."""
    return cell_from_dict(resources.load_preset("cells", name), name)


def _usable_cell(data: Any, name: str) -> Cell:
    """A Cell whose own solutions load too (a cell is only usable with them)."""
    cell = cell_from_dict(data, name)
    for side, solution in (("bath", cell.bath), ("pipette", cell.pipette)):
        try:
            check_permeant(load_solution(solution), side)
        except VrigError as exc:
            raise VrigError(f"cell {name!r}: its {side} solution {solution!r} cannot be "
                            f"used: {exc}") from None
    return cell


def scan_cells() -> tuple[dict[str, Cell], list[tuple[str, str]]]:
    """({name: Cell}, [(path, problem)]) for every shipped cell that can be used,
    with its channels and its own bath and pipette solutions."""
    return shipped.scan("cells", _usable_cell)
