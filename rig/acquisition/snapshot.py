"""RigState: what the window may know of the engine's settings, as one frozen value.

The runner sends a fresh RigState after every command it applies (and the client
makes the first one before the runner owns the engine), so the window reads settings
from this value and never from the engine, which the runner's thread owns.
"""

from dataclasses import dataclass
from typing import Any

from rig.amplifier.circuit import Amplifier
from rig.clamp import Mode
from rig.frozen import FrozenMap
from rig.model.cell import Cell
from rig.model.solutions import Solution
from rig.protocols.protocol import Protocol


@dataclass(frozen=True)
class RigState:
    """The engine's settings. holding: {Mode: V in VC, A in CC and I0}; metadata: a
    recording's file header with the present settings (text); protocol_metadata: the
    same for the protocol that runs (None between protocols)."""

    cell: Cell
    amplifier: Amplifier
    bath: Solution
    pipette: Solution
    temperature_c: float
    mode: Mode
    holding: FrozenMap
    metadata: FrozenMap
    protocol_metadata: FrozenMap | None = None

    @classmethod
    def of(cls, rig: Any, protocol: Protocol | None = None) -> "RigState":
        """The state of a Rig (call it on the thread that owns the Rig); protocol: the
        one that runs, if any."""
        return cls(rig.cell, rig.amplifier, rig.bath, rig.pipette, rig.temperature_c,
                   rig.mode, FrozenMap(rig.holding), FrozenMap(rig.metadata()),
                   FrozenMap(rig.metadata(protocol)) if protocol is not None else None)
