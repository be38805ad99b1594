"""The registry of epoch kinds: their fields (file units) and how each renders.

Fields with a default of None are required. Levels are in the protocol's units (mV in
VC, pA in CC); times in ms; frequencies in Hz.
"""

from typing import Protocol

import numpy as np
import numpy.typing as npt

from rig import units

EPOCH_KINDS = {
    "step": {"duration_ms": None, "level": None},
    "ramp": {"duration_ms": None, "level": None, "end_level": None},
    "train": {"duration_ms": None, "level": None, "pulse_level": None,
              "pulse_width_ms": None, "period_ms": None},
    "sine": {"duration_ms": None, "level": None, "amplitude": None, "frequency_hz": None},
}

_UNIT_SUFFIXES = ("_ms", "_hz")


class EpochLike(Protocol):
    """What rendering needs of an epoch (rig.protocols.protocol.Epoch, which imports
    this module, so it is named here by its shape)."""

    @property
    def kind(self) -> str: ...

    def value(self, name: str, sweep: int) -> float: ...

    def duration_ms(self, sweep: int) -> float: ...


def delta_name(field: str) -> str:
    """The per-sweep increment of a field: level -> level_delta,
    duration_ms -> duration_delta_ms."""
    for suffix in _UNIT_SUFFIXES:
        if field.endswith(suffix):
            return field[: -len(suffix)] + "_delta" + suffix
    return field + "_delta"


def render_epoch(epoch: EpochLike, sweep: int, t_ms: npt.NDArray[np.float64]
                 ) -> npt.NDArray[np.float64]:
    """The command (file units) of one epoch in one sweep at times t_ms from its start."""
    level = epoch.value("level", sweep)
    if epoch.kind == "step":
        return np.full(t_ms.size, level)
    if epoch.kind == "ramp":
        duration = epoch.duration_ms(sweep)
        end = epoch.value("end_level", sweep)
        if duration > 0:
            return level + (end - level) * t_ms / duration
        return np.full(t_ms.size, level)
    if epoch.kind == "train":
        width = epoch.value("pulse_width_ms", sweep)
        period = epoch.value("period_ms", sweep)
        in_pulse = np.mod(t_ms, period) < width
        return np.where(in_pulse, epoch.value("pulse_level", sweep), level)
    amplitude = epoch.value("amplitude", sweep)
    frequency_khz = units.hz_to_khz(epoch.value("frequency_hz", sweep))
    return level + amplitude * np.sin(2 * np.pi * frequency_khz * t_ms)
