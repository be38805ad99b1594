"""What the engine must be told when the session changes: each change of mode,
holding or speed becomes a command (rig.acquisition.commands) for a send function,
such as the window's RigClient.send or a Runner's send."""

from collections.abc import Callable
from typing import Any

from rig.acquisition import commands as c
from rig.clamp import Mode
from rig.session.session import HOLDING_RANGES, ElectrodesChange, HoldingChange, Session

Send = Callable[[Any], object]


def continuous_speed(speed: float | None) -> float:
    """The speed continuous acquisition runs at: 'as fast as possible' (None) applies
    to protocols only, since a free-running cell would flood the display."""
    return 1.0 if speed is None else speed


def follow(session: Session, send: Send) -> None:
    """From now on, send a command for every change of the session's mode, holdings,
    speed and a fibre's electrodes. While a protocol runs, its sweeps set the mode and
    holding in the engine (which refuses them from anyone else), so those changes are
    only shown."""

    def mode_changed(mode: Mode) -> None:
        if not session.protocol_running:
            send(c.SetMode(mode))

    def holding_changed(change: HoldingChange) -> None:
        if not session.protocol_running:
            send(c.SetHolding(change.mode, session.holding_si(change.mode)))

    def electrodes_moved(change: ElectrodesChange) -> None:
        before, after = change.before, change.after
        if before is None:
            return  # a new engine's own electrodes: it has them already
        if after.stim_m != before.stim_m or after.sites_m != before.sites_m:
            # the sites only when they moved: a protocol refuses that, not a new stimulus site
            send(c.MoveElectrodes(after.stim_m, after.sites_m
                                  if after.sites_m != before.sites_m else None))
        if after.axial_wire != before.axial_wire:
            send(c.SetAxialWire(after.axial_wire))

    session.events.mode.connect(mode_changed)
    session.events.electrodes.connect(electrodes_moved)
    session.events.holding.connect(holding_changed)
    session.events.speed.connect(lambda speed: send(c.SetSpeed(continuous_speed(speed))))


def settings_commands(session: Session) -> list[Any]:
    """The commands that put the session's holdings, mode and speed into a new engine
    (and let its cell settle at that holding)."""
    return [*(c.SetHolding(mode, session.holding_si(mode)) for mode in HOLDING_RANGES),
            c.SetMode(session.mode), c.ResetCell(), c.SetSpeed(continuous_speed(session.speed))]

