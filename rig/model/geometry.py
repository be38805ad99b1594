"""The shape of a cell that is not a point: an unbranched cylindrical fibre (a cable),
bare or myelinated, and how it is cut into compartments.

Units: lengths and diameters in um, axial resistivity in ohm*cm, myelin capacitance in
uF/cm^2 and conductance in mS/cm^2 (both per cm^2 of axon membrane under the sheath).
In a cell preset the geometry is the ``cable`` object (file units: ``length_mm``,
``diameter_um``, ``axial_resistivity_ohm_cm``, and either ``compartments`` or
``compartment_length_um``) with an optional ``myelin`` object inside it.

Compartments are the centres of equal pieces (a bare fibre) or, on a myelinated fibre,
one per node of Ranvier and ``internode_compartments`` per internode, the fibre
starting and ending with a node. Ends are sealed (no current leaves through them).
"""

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rig import resources, units
from rig.errors import VrigError

LENGTH_RANGE_UM = (1.0, 1e6)  # 1 um to 1 m
DIAMETER_RANGE_UM = (0.05, 2000.0)
RESISTIVITY_RANGE_OHM_CM = (1.0, 10000.0)
# The most compartments a fibre may have: 200k compartments with a dozen gates are tens
# of MB of state and output, and already far finer than any fibre needs.
MAX_COMPARTMENTS = 200_000


@dataclass(frozen=True)
class Myelin:
    """The sheath: internode_length_um and node_length_um (um); capacitance_uf_per_cm2 and
    conductance_ms_per_cm2 of the myelinated membrane per cm^2 of axon membrane under it
    (the sheath in series with the axolemma); internode_compartments: pieces per internode."""

    internode_length_um: float
    node_length_um: float
    capacitance_uf_per_cm2: float
    conductance_ms_per_cm2: float
    internode_compartments: int = 5


@dataclass(frozen=True)
class CableGeometry:
    """An unbranched fibre: length_um and diameter_um (um), axial_resistivity_ohm_cm
    (ohm*cm), compartments (count, on a bare fibre; a myelinated one has its count from
    its nodes) and myelin (None for a bare fibre). The specific capacitance and the
    channel densities are the cell's (:class:`rig.model.cell.Cell`)."""

    length_um: float
    diameter_um: float
    axial_resistivity_ohm_cm: float
    compartments: int = 1
    myelin: Myelin | None = None

    @property
    def n_internodes(self) -> int:
        """Number of internodes (0 on a bare fibre)."""
        if self.myelin is None:
            return 0
        period = self.myelin.internode_length_um + self.myelin.node_length_um
        return max(1, round((self.length_um - self.myelin.node_length_um) / period))

    def compartment_lengths_um(self) -> np.ndarray:
        """The length (um) of each compartment, from one end to the other."""
        if self.myelin is None:
            return np.full(self.compartments, self.length_um / self.compartments)
        m = self.myelin
        piece = np.full(m.internode_compartments, m.internode_length_um / m.internode_compartments)
        parts = [np.array([m.node_length_um])]
        for _ in range(self.n_internodes):
            parts += [piece, np.array([m.node_length_um])]
        return np.concatenate(parts)

    def myelinated(self) -> np.ndarray:
        """Per compartment, True where it lies under myelin (an internode piece)."""
        if self.myelin is None:
            return np.zeros(self.compartments, dtype=bool)
        period = np.concatenate(([False], np.ones(self.myelin.internode_compartments, bool)))
        return np.concatenate([np.tile(period, self.n_internodes), [False]])

    @property
    def n_compartments(self) -> int:
        """Number of compartments the fibre is cut into."""
        if self.myelin is None:
            return self.compartments
        return self.n_internodes * (self.myelin.internode_compartments + 1) + 1

    @property
    def total_length_um(self) -> float:
        """The fibre's length (um) as cut: a myelinated fibre has whole internodes."""
        return float(self.compartment_lengths_um().sum())

    def centres_um(self) -> np.ndarray:
        """Position (um from the first end) of each compartment's centre."""
        lengths = self.compartment_lengths_um()
        return np.cumsum(lengths) - lengths / 2

    def areas_um2(self) -> np.ndarray:
        """The membrane area (um^2) of each compartment."""
        return units.cylinder_area_um2(self.diameter_um, self.compartment_lengths_um())

    def axial_conductances_ns(self) -> np.ndarray:
        """The conductance (nS) between the centres of neighbouring compartments
        (n_compartments - 1 values)."""
        lengths = self.compartment_lengths_um()
        return units.axial_conductance_ns(self.diameter_um, (lengths[:-1] + lengths[1:]) / 2,
                                          self.axial_resistivity_ohm_cm)

    def length_constant_um(self, membrane_resistance_ohm_cm2: float) -> float:
        """lambda = sqrt(Rm d / (4 Ri)) (um) of this fibre for a specific membrane
        resistance (ohm*cm^2)."""
        d_cm = self.diameter_um * units.CM_PER_UM
        return math.sqrt(membrane_resistance_ohm_cm2 * d_cm / (4 * self.axial_resistivity_ohm_cm)
                         ) / units.CM_PER_UM

    def compartment_at(self, position_um: float) -> int:
        """Index of the compartment holding a position (um from the first end); a
        position off the fibre is a VrigError."""
        total = self.total_length_um
        if not 0.0 <= position_um <= total * (1 + 1e-12):  # (the sum of the pieces rounds)
            raise VrigError(f"position {units.um_to_mm(position_um):g} mm is off the fibre; "
                            f"give 0 to {units.um_to_mm(total):g} mm")
        edges = np.cumsum(self.compartment_lengths_um())
        return min(int(np.searchsorted(edges, position_um)), edges.size - 1)

    def compartments_in(self, start_um: float, end_um: float) -> np.ndarray:
        """Indices of the compartments whose centres lie in [start_um, end_um] (um); a
        reversed, empty or off-fibre stretch is a VrigError."""
        total = self.total_length_um
        if not 0.0 <= start_um < end_um <= total * (1 + 1e-12):
            raise VrigError(f"a stretch of fibre must run from low to high within 0 to "
                            f"{units.um_to_mm(total):g} mm, got {units.um_to_mm(start_um):g} "
                            f"to {units.um_to_mm(end_um):g} mm")
        centres = self.centres_um()
        inside = np.flatnonzero((centres >= start_um) & (centres <= end_um))
        if inside.size == 0:
            raise VrigError(f"the stretch {units.um_to_mm(start_um):g} to "
                            f"{units.um_to_mm(end_um):g} mm holds no compartment centre; "
                            "make it longer or use more compartments")
        return inside


def myelin_from_dict(data: Any, what: str) -> Myelin:
    """A Myelin from the ``myelin`` object of a cell preset, validating each field."""
    what = f"{what} myelin"
    if not isinstance(data, dict):
        raise VrigError(f"{what} must be a JSON object")
    pieces = resources.number(data, "internode_compartments", what, 1, 1000, default=5)
    if pieces != int(pieces):
        raise VrigError(f"{what}: internode_compartments must be a whole number, got {pieces:g}")
    return Myelin(
        internode_length_um=resources.number(data, "internode_length_um", what, 1, 1e5),
        node_length_um=resources.number(data, "node_length_um", what, 0.1, 100),
        capacitance_uf_per_cm2=resources.number(data, "capacitance_uF_per_cm2", what, 0, 10),
        conductance_ms_per_cm2=resources.number(data, "conductance_mS_per_cm2", what, 0, 1000),
        internode_compartments=int(pieces))


def geometry_from_dict(data: Any, what: str) -> CableGeometry:
    """A CableGeometry from the ``cable`` object of a cell preset (file units: length_mm,
    diameter_um, axial_resistivity_ohm_cm, compartments or compartment_length_um,
    optional myelin), validating each field; what names the preset in messages."""
    what = f"{what} cable"
    if not isinstance(data, dict):
        raise VrigError(f"{what} must be a JSON object")
    length_um = units.mm_to_um(resources.number(
        data, "length_mm", what, *(units.um_to_mm(x) for x in LENGTH_RANGE_UM)))
    diameter_um = resources.number(data, "diameter_um", what, *DIAMETER_RANGE_UM)
    resistivity = resources.number(data, "axial_resistivity_ohm_cm", what,
                                   *RESISTIVITY_RANGE_OHM_CM)
    myelin = myelin_from_dict(data["myelin"], what) if "myelin" in data else None
    if myelin is not None:
        if "compartments" in data or "compartment_length_um" in data:
            raise VrigError(f"{what}: a myelinated fibre is cut by its nodes; give "
                            "myelin.internode_compartments, not compartments or "
                            "compartment_length_um")
        if length_um < myelin.internode_length_um + 2 * myelin.node_length_um:
            raise VrigError(f"{what}: the fibre must hold at least one internode and two "
                            f"nodes ({units.um_to_mm(myelin.internode_length_um):g} mm of "
                            "internode); make it longer")
        geometry = CableGeometry(length_um, diameter_um, resistivity, 1, myelin)
        return check_compartment_count(geometry, what)
    compartments = check_cut(data, length_um, what)
    return check_compartment_count(
        CableGeometry(length_um, diameter_um, resistivity, compartments), what)


def check_cut(data: dict, length_um: float, what: str) -> int:
    """The compartment count a bare fibre's ``compartments`` or ``compartment_length_um``
    asks for (exactly one of them must be given)."""
    if ("compartments" in data) == ("compartment_length_um" in data):
        raise VrigError(f"{what}: give exactly one of compartments and compartment_length_um")
    if "compartments" in data:
        count = resources.number(data, "compartments", what, 1, MAX_COMPARTMENTS)
        if count != int(count):
            raise VrigError(f"{what}: compartments must be a whole number, got {count:g}")
        return int(count)
    piece = resources.number(data, "compartment_length_um", what, 0.01, length_um)
    return max(1, round(length_um / piece))


def check_compartment_count(geometry: CableGeometry, what: str) -> CableGeometry:
    """geometry, if it has at most MAX_COMPARTMENTS compartments; else a VrigError."""
    count = geometry.n_compartments
    if count > MAX_COMPARTMENTS:
        raise VrigError(f"{what}: {count} compartments is more than the {MAX_COMPARTMENTS} "
                        "vRig can hold; use longer compartments or a shorter fibre")
    return geometry


# What one compartment costs while a fibre runs, in float64 values: its potential, the
# capacitance and its two step factors, the fixed (leak) terms, the axial conductance,
# the nine work arrays of the kernel's step, plus per gate its state and per channel
# its conductance and open fraction (rig.simulation.cable_kernel). A fibre may take
# FIBRE_MEMORY_BYTES in all: far more compartments than any fibre needs (a 30 mm squid
# axon converges at 300), few enough that a typing slip cannot exhaust the machine.
BASE_VALUES_PER_COMPARTMENT = 16
FIBRE_MEMORY_BYTES = 32 * 2 ** 20


def bytes_per_compartment(n_gates: int, n_channels: int) -> int:
    """Memory (bytes) one compartment of a fibre with n_gates gates and n_channels
    channels takes while it runs."""
    return 8 * (BASE_VALUES_PER_COMPARTMENT + n_gates + 2 * n_channels)


def compartment_limit(n_gates: int, n_channels: int) -> int:
    """The most compartments a fibre with n_gates gates and n_channels channels may be
    cut into: FIBRE_MEMORY_BYTES over bytes_per_compartment, at most MAX_COMPARTMENTS."""
    return min(MAX_COMPARTMENTS,
               FIBRE_MEMORY_BYTES // bytes_per_compartment(n_gates, n_channels))


def resized(geometry: CableGeometry, length_um: float | None = None,
            diameter_um: float | None = None, compartments: int | None = None
            ) -> CableGeometry:
    """geometry with another length (um), diameter (um) and/or compartment count; None
    keeps it. A bare fibre given a new length alone keeps its compartment length (the
    preset's discretisation); a myelinated fibre is cut by its nodes, so it takes no
    compartment count and a new length changes its number of internodes. Each value is
    checked (finite, within LENGTH_RANGE_UM and DIAMETER_RANGE_UM, a count at least 1;
    the most compartments a cell may have is rig.model.cell.resize_fibre's check)."""
    changes: dict[str, Any] = {}
    if length_um is not None:
        changes["length_um"] = _within(length_um, LENGTH_RANGE_UM, "length", 1e-3, "mm")
    if diameter_um is not None:
        changes["diameter_um"] = _within(diameter_um, DIAMETER_RANGE_UM, "diameter", 1.0, "um")
    if compartments is not None:
        if geometry.myelin is not None:
            raise VrigError("a myelinated fibre is cut by its nodes of Ranvier (one "
                            "compartment per node and a fixed number per internode); "
                            "leave out the compartment count")
        if (isinstance(compartments, bool) or not isinstance(compartments, (int, np.integer))
                or compartments < 1):
            raise VrigError(f"the compartment count must be a whole number from 1 (its "
                            f"upper limit is set by memory), got {compartments!r:.20}")
        changes["compartments"] = int(compartments)
    elif length_um is not None and geometry.myelin is None:
        piece = geometry.length_um / geometry.compartments
        changes["compartments"] = max(1, round(changes["length_um"] / piece))
    result = replace(geometry, **changes)
    myelin = result.myelin
    shortest_um = 0.0 if myelin is None else (myelin.internode_length_um
                                              + 2 * myelin.node_length_um)
    if result.length_um < shortest_um:
        raise VrigError(f"a myelinated fibre must hold at least one internode and two "
                        f"nodes: make it at least {units.um_to_mm(shortest_um):g} mm long")
    return result


def _within(value: Any, bounds: tuple[float, float], what: str, shown_per_um: float,
            unit: str) -> float:
    """value (um) as a float if it is finite and within bounds (um); else a VrigError
    giving the range in unit (shown_per_um of it per um)."""
    low, high = bounds
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise VrigError(f"the fibre's {what} must be a number, got {value!r:.20}") from None
    if not low <= number <= high:  # (NaN fails too)
        raise VrigError(f"the fibre's {what} must be {low * shown_per_um:g} to "
                        f"{high * shown_per_um:g} {unit}, got {number * shown_per_um:g} {unit}")
    return number
