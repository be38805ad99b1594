"""What every recording file shares: the file units of each SI unit, column names,
the block size writers stream in, and :class:`RecordingParts`, the plain value a
reader returns (so that no reader needs the :class:`rig.files.recording.Recording`
class, and the package has no import cycle)."""

import os
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from rig import units
from rig.resources import printable

# SI unit -> (file unit, file units per SI unit)
FILE_UNITS = {"V": ("mV", units.MV_PER_V), "A": ("pA", units.PA_PER_A),
              "S": ("nS", units.NS_PER_S), "mol/m3": ("mM", 1.0), "": ("", 1.0)}
BASIC_SIGNALS = ("Vm", "Im", "Im_raw", "command")
BLOCK_SAMPLES = 1 << 16  # samples per channel a writer handles at a time

FloatArray = npt.NDArray[np.floating[Any]]  # SI values (float64 in memory)
StrPath = str | os.PathLike[str]  # a path given as text or as a Path


class SweepSource(Protocol):
    """What a writer streams from (see :mod:`rig.files.recording`): a Recording or a
    Journal. Values are SI; sample_interval_s in s; sweep_lengths in samples."""

    @property
    def units(self) -> Mapping[str, str]: ...

    @property
    def sample_interval_s(self) -> float: ...

    @property
    def metadata(self) -> Mapping[str, Any]: ...

    @property
    def sweep_lengths(self) -> np.ndarray: ...

    @property
    def n_sweeps(self) -> int: ...

    def read(self, sweep: int, start: int, stop: int,
             names: Sequence[str]) -> list[FloatArray]: ...

    def value_range(self, name: str) -> tuple[float, float] | None: ...


class RecordingParts(NamedTuple):
    """A recording read from a file. signals: {name: (n_sweeps, n_samples) SI array,
    NaN-padded}; units: {name: 'V' | 'A' | 'S' | ''}; sweep_lengths: samples per sweep;
    sample_interval_s: s; metadata: {key: text}."""

    signals: dict[str, FloatArray]
    units: dict[str, str]
    sweep_lengths: np.ndarray
    sample_interval_s: float
    metadata: dict[str, Any]


def basic_signals(available: Sequence[str]) -> list[str]:
    """The 'basic' selection of the signals available: Vm, Im (raw), the command, and
    the membrane potential at each recording site of a fibre ('Vm@30mm')."""
    return ([name for name in BASIC_SIGNALS if name in available]
            + [name for name in available if "@" in name])


def file_column(name: str, unit: str) -> str:
    """The file's column name of a signal: 'Vm_mV', 'Im_pA', 'm'; a recording site's
    position goes after the unit: 'Vm@30mm' -> 'Vm_mV@30mm'."""
    name, at, site = name.partition("@")
    file_unit = FILE_UNITS[unit][0]
    return (f"{name}_{file_unit}" if file_unit else name) + at + site


def signal_from_column(column: str) -> tuple[str, str, float]:
    """(signal name, SI unit, file units per SI unit) of a file column: 'Vm_mV' ->
    ('Vm', 'V', 1000.0), 'Vm_mV@30mm' -> ('Vm@30mm', 'V', 1000.0); a column without a
    known unit is dimensionless."""
    column, at, site = column.partition("@")
    for unit, (file_unit, scale) in FILE_UNITS.items():
        if file_unit and column.endswith("_" + file_unit):
            return column[: -len(file_unit) - 1] + at + site, unit, scale
    return column + at + site, "", 1.0


def one_line(text: object) -> str:
    """Metadata text on one line, so it cannot break the CSV layout: control characters
    (newline, CR, tab, escape...), line separators and lone surrogates are written as
    escapes (\\n, \\r, \\t, \\x1b), as :func:`rig.resources.printable` shows them."""
    return printable(text)
