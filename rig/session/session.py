"""Session: what the rig window shows and the user chose, as a Qt-free model with an
event per change (``session.events.<name>.connect(callback)``).

The window's panels write the user's choices into the session and follow its events;
:mod:`rig.session.engine_link` turns each change into a command for the engine; the
client feeds the engine's replies back (``take``). Setting a value equal to the present
one emits nothing, so a view that mirrors an event cannot loop.

Holdings are kept in the mode's level unit (mV in VC, pA in CC), the unit of the knob,
the protocols and the files; ``holding_si`` gives V or A.
"""

import math
from dataclasses import dataclass
from typing import Any

from rig.acquisition import commands as c
from rig.acquisition.snapshot import RigState
from rig.clamp import Mode
from rig.errors import VrigError
from rig.frozen import FrozenMap
from rig.protocols.protocol import Protocol
from rig.session.electrodes import Electrodes, checked
from rig.session.events import Event

# What the holding knob reaches, in level units (mV, pA). The engine allows more
# (+/-500 mV, +/-100 nA), but these cover every experiment a class does.
HOLDING_RANGES = FrozenMap({Mode.VC: (-200.0, 200.0), Mode.CC: (-5000.0, 5000.0)})
DEFAULT_HOLDINGS = FrozenMap({Mode.VC: -65.0, Mode.CC: 0.0})
SPEED_RANGE = (0.001, 1000.0)  # x real time, as the runner accepts


@dataclass(frozen=True)
class HoldingChange:
    """What events.holding emits: a mode's new holding in its level unit (mV, pA)."""

    mode: Mode
    level: float


@dataclass(frozen=True)
class ElectrodesChange:
    """What events.electrodes emits: the fibre's electrodes before and after (Electrodes;
    before is None when a new fibre's engine took over)."""

    before: Electrodes | None
    after: Electrodes


class SessionEvents:
    """One Event per thing that changes: cell (a new cell's engine took over: its name),
    mode (Mode), holding (HoldingChange), speed (x real time, None = as fast as
    possible), running, protocol_running, recording (bool) and engine (the engine's
    latest RigState) and, on a fibre, electrodes (ElectrodesChange)."""

    __slots__ = ("cell", "electrodes", "engine", "holding", "mode", "protocol_running",
                 "recording", "running", "speed")

    def __init__(self) -> None:
        self.cell = Event("cell")
        self.mode = Event("mode")
        self.holding = Event("holding")
        self.speed = Event("speed")
        self.running = Event("running")
        self.protocol_running = Event("protocol_running")
        self.recording = Event("recording")
        self.engine = Event("engine")
        self.electrodes = Event("electrodes")


class Session:
    """The window's state. engine: the engine's settings (a RigState made before its
    runner started, then each one the runner sends)."""

    def __init__(self, engine: RigState) -> None:
        self.events = SessionEvents()
        self._engine = engine
        self._mode = Mode(engine.mode)
        self._holdings = dict(DEFAULT_HOLDINGS)
        self._speed: float | None = 1.0
        self._running = False
        self._protocol_running = False
        self._recording = False
        self.protocol: Protocol | None = None  # the protocol running or last run
        self.protocol_metadata: FrozenMap | None = None  # its file header
        self._electrodes = _electrodes_of(engine)

    # --- what the user chooses --------------------------------------------------------

    @property
    def cell(self) -> str:
        """The name of the cell whose engine runs."""
        return str(self._engine.cell.name)

    @property
    def mode(self) -> Mode:
        """The clamp mode ('VC', 'CC' or 'I0'); set it with a Mode or its name."""
        return self._mode

    @mode.setter
    def mode(self, value: Any) -> None:
        mode = Mode.parse(value)
        if mode != self._mode:
            self._mode = mode
            self.events.mode.emit(mode)

    @property
    def holdings(self) -> FrozenMap:
        """{Mode.VC: mV, Mode.CC: pA}: each mode remembers its own holding."""
        return FrozenMap(self._holdings)

    def holding(self, mode: Any) -> float:
        """A mode's holding in its level unit (mV in VC, pA in CC)."""
        return self._holdings[_holding_mode(mode)]

    def holding_si(self, mode: Any) -> float:
        """A mode's holding in SI (V in VC, A in CC)."""
        mode = _holding_mode(mode)
        return float(mode.to_si(self._holdings[mode]))

    def holding_range(self, mode: Any) -> tuple[float, float]:
        """(low, high) a mode's holding may take, in its level unit: HOLDING_RANGES in
        VC; in CC what the engine's amplifier can apply, which follows the cell (on a
        patch no more than HOLDING_RANGES, which cover every experiment a class does; a
        fibre takes all the headstage gives)."""
        mode = _holding_mode(mode)
        low, high = HOLDING_RANGES[mode]
        if mode == Mode.CC:
            limit = float(mode.from_si(self._engine.amplifier.current_range))
            if self._engine.cell.geometry is not None:
                return -limit, limit
            return max(low, -limit), min(high, limit)
        return low, high

    def set_holding(self, mode: Any, level: Any) -> float:
        """Set a mode's holding in its level unit, clipped to holding_range(mode);
        returns the level kept. A value that is not a finite number raises VrigError and
        changes nothing."""
        mode = _holding_mode(mode)
        low, high = self.holding_range(mode)
        try:
            level = float(level)
        except (TypeError, ValueError):
            level = math.nan
        if not math.isfinite(level):
            raise VrigError(f"holding must be a finite number of {mode.level_unit} "
                            f"({low:g} to {high:g} {mode.level_unit})")
        level = min(max(level, low), high)
        if level != self._holdings[mode]:
            self._holdings[mode] = level
            self.events.holding.emit(HoldingChange(mode, level))
        return level

    @property
    def speed(self) -> float | None:
        """Simulated seconds per wall-clock second; None: as fast as possible (for
        protocols; continuous acquisition then runs in real time)."""
        return self._speed

    @speed.setter
    def speed(self, value: float | None) -> None:
        if value is not None:
            low, high = SPEED_RANGE
            if (isinstance(value, bool) or not isinstance(value, int | float)
                    or not low <= value <= high):
                raise VrigError(f"speed must be {low:g}x to {high:g}x real time "
                                f"(or None: as fast as possible), got {value!r:.40}")
            value = float(value)
        if value != self._speed:
            self._speed = value
            self.events.speed.emit(value)

    @property
    def recording(self) -> bool:
        """True while the window records to a file."""
        return self._recording

    @recording.setter
    def recording(self, value: bool) -> None:
        self._set_flag("recording", bool(value))

    @property
    def electrodes(self) -> Electrodes | None:
        """On a fibre, where its electrodes sit (Electrodes, m); None on a point cell."""
        return self._electrodes

    def set_electrodes(self, stim_m: float | None = None, sites_m: Any = None,
                       axial_wire: bool | None = None) -> Electrodes:
        """Move the stimulating electrode to stim_m and/or the recording electrodes to
        sites_m (m; each snapped to a compartment's centre, kept on the fibre) and/or
        switch the axial wire; None keeps a value. Returns the electrodes kept.
        VrigError (nothing changes) on a point cell, for two recording electrodes on one
        compartment, and for moving a recording electrode while recording or while a
        protocol runs (their signals are the file's and the sweeps' columns)."""
        present = self._electrodes
        geometry = self._engine.cell.geometry
        if present is None or geometry is None:
            raise VrigError(f"cell {self.cell!r} is a single compartment: it has no "
                            "electrodes to move; choose a fibre")
        wanted = Electrodes(present.stim_m if stim_m is None else stim_m,
                            present.sites_m if sites_m is None else tuple(sites_m),
                            present.axial_wire if axial_wire is None else bool(axial_wire))
        after = checked(geometry, wanted)
        if after.sites_m != present.sites_m and (self._recording or self._protocol_running):
            doing = "recording" if self._recording else "a protocol runs"
            raise VrigError(f"a recording electrode cannot move while {doing}: their "
                            "signals are the columns; stop first, then move it")
        if after != present:
            self._electrodes = after
            self.events.electrodes.emit(ElectrodesChange(present, after))
        return after

    # --- what the engine reports ------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while the engine acquires (continuously or a protocol)."""
        return self._running

    @property
    def protocol_running(self) -> bool:
        """True while a protocol's sweeps run (its mode and holding are then fixed)."""
        return self._protocol_running

    @property
    def engine(self) -> RigState:
        """The engine's latest settings."""
        return self._engine

    def take(self, item: Any) -> None:
        """Take what the engine sent: a RigState or an acquisition Event (other items
        are ignored)."""
        if isinstance(item, RigState):
            if item.protocol_metadata is not None:
                self.protocol_metadata = item.protocol_metadata
            self._engine = item
            self.events.engine.emit(item)
        elif isinstance(item, c.Event):
            kind = item.kind
            if kind in ("started", "protocol_started"):
                self._set_flag("running", True)
            if kind == "protocol_started":
                self._set_flag("protocol_running", True)
            elif kind == "stopped":
                self._set_flag("protocol_running", False)
                self._set_flag("running", False)
            elif kind == "protocol_done":
                self._set_flag("protocol_running", False)

    def protocol_sent(self, protocol: Protocol) -> None:
        """A protocol was sent to run: remember it and show its mode and holding,
        which its sweeps set in the engine (protocol_running is set first, so that
        engine_link does not send them as well)."""
        self.protocol = protocol
        self._set_flag("protocol_running", True)
        self.mode = protocol.mode
        if protocol.mode in HOLDING_RANGES:
            self.set_holding(protocol.mode, protocol.holding)

    def take_engine(self, engine: RigState) -> None:
        """A new engine (a new cell) took over, not running yet: take its settings."""
        self._engine = engine
        self.protocol_metadata = None
        self._set_flag("protocol_running", False)
        self._set_flag("running", False)
        low, high = self.holding_range(Mode.CC)  # the new cell's amplifier may give less
        self._holdings[Mode.CC] = min(max(self._holdings[Mode.CC], low), high)
        self._electrodes = _electrodes_of(engine)
        self.events.cell.emit(self.cell)
        self.events.engine.emit(engine)
        if self._electrodes is not None:
            self.events.electrodes.emit(ElectrodesChange(None, self._electrodes))

    def _set_flag(self, name: str, value: bool) -> None:
        if getattr(self, f"_{name}") != value:
            setattr(self, f"_{name}", value)
            event: Event = getattr(self.events, name)
            event.emit(value)


def _electrodes_of(engine: RigState) -> Electrodes | None:
    """The electrodes of an engine's fibre as it reports them (None for a point cell)."""
    fibre = engine.fibre
    if fibre is None:
        return None
    return Electrodes(fibre.stim_m, tuple(fibre.sites_m), fibre.axial_wire)


def _holding_mode(value: Any) -> Mode:
    mode = Mode.parse(value)
    if mode not in HOLDING_RANGES:
        raise VrigError(f"{mode.label} has no holding level; choose VC or CC")
    return mode
