"""RigState: what the window may know of the engine's settings, as one frozen value.

The runner sends a fresh RigState after every command it applies (and the client
makes the first one before the runner owns the engine), so the window reads settings
from this value and never from the engine, which the runner's thread owns.
"""

from dataclasses import dataclass
from typing import Any

from rig import units
from rig.amplifier.circuit import Amplifier
from rig.clamp import Mode
from rig.frozen import FrozenMap
from rig.model.cell import Cell
from rig.model.solutions import Solution
from rig.protocols.protocol import Protocol


@dataclass(frozen=True)
class FibreState:
    """Where the electrodes sit on a fibre (positions in m from its first end): stim_m,
    the amplifier's electrode; sites_m, the recording sites, and names, their signal
    names; axial_wire: VC holds the whole fibre; profile_m: the positions of the
    space-time profile (Chunk.profile's columns); local: (start_m, end_m, label) of
    each drug on a stretch."""

    stim_m: float
    sites_m: tuple
    names: tuple
    axial_wire: bool
    profile_m: tuple
    local: tuple

    @classmethod
    def of(cls, rig: Any) -> "FibreState | None":
        """The electrodes of a Rig (None for a point cell)."""
        if rig.cell.geometry is None:
            return None
        where = rig.placement
        return cls(rig.stim_at_m, tuple(rig.record_at_m), tuple(where.names),
                   where.axial_wire, tuple(float(x) for x in rig.profile_positions_m),
                   tuple((units.um_to_m(change.start_um), units.um_to_m(change.end_um),
                          change.label) for change in where.local))


@dataclass(frozen=True)
class RigState:
    """The engine's settings. holding: {Mode: V in VC, A in CC and I0}; metadata: a
    recording's file header with the present settings (text); protocol_metadata: the
    same for the protocol that runs (None between protocols); signal_names: [(name, SI
    unit)] of the signals its chunks carry; fibre: a FibreState on a fibre, else None."""

    cell: Cell
    amplifier: Amplifier
    bath: Solution
    pipette: Solution
    temperature_c: float
    mode: Mode
    holding: FrozenMap
    metadata: FrozenMap
    protocol_metadata: FrozenMap | None = None
    signal_names: tuple = ()
    fibre: FibreState | None = None

    @classmethod
    def of(cls, rig: Any, protocol: Protocol | None = None) -> "RigState":
        """The state of a Rig (call it on the thread that owns the Rig); protocol: the
        one that runs, if any."""
        return cls(rig.cell, rig.amplifier, rig.bath, rig.pipette, rig.temperature_c,
                   rig.mode, FrozenMap(rig.holding), FrozenMap(rig.metadata()),
                   FrozenMap(rig.metadata(protocol)) if protocol is not None else None,
                   tuple(rig.signal_names()), FibreState.of(rig))
