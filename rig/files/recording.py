"""Recordings: sweeps of signals with their metadata, and their files.

In memory every signal is SI (V, A; gates dimensionless) in an array of shape
(n_sweeps, longest sweep), padded with NaN after a shorter sweep's end. In files the
columns are ``<name>_<unit>`` in ephys units (Vm_mV, Im_pA, command_mV or command_pA,
INa_pA, ..., gNa_nS, ..., and the gates m, h, n without a unit).

Files are written completely or not at all (:func:`rig.files.output_files.atomic_output`), and
streamed: the writers (:func:`rig.files.formats.write_recording`) read a *sweep source* a block at a
time, so a file of any length takes bounded memory beyond the source itself. A sweep source has
``units``, ``sample_interval_s`` (s), ``metadata``, ``sweep_lengths``, ``n_sweeps``,
``read(sweep, start, stop, names)`` (SI float64 arrays) and ``value_range(name)``; a
:class:`Recording` is one, and so is a recording journal (:class:`rig.files.journal.Journal`),
which is how live and command-line recordings reach their files without being held in memory.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rig.errors import VrigError
from rig.files.formats import read_parts, write_recording
from rig.files.layout import FloatArray, StrPath, basic_signals, file_column


@dataclass
class Recording:
    """Sweeps of signals. signals: {name: (n_sweeps, n_samples) SI array};
    units: {name: 'V' | 'A' | ''}; sweep_lengths: samples in each sweep;
    sample_interval_s: s; metadata: {key: text}."""

    signals: dict[str, FloatArray]
    units: dict[str, str]
    sweep_lengths: np.ndarray
    sample_interval_s: float
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n_sweeps(self) -> int:
        """Number of sweeps."""
        return len(self.sweep_lengths)

    def time(self) -> FloatArray:
        """Sample times from the start of a sweep, in s."""
        return np.arange(int(max(self.sweep_lengths, default=0))) * self.sample_interval_s

    def sweep(self, name: str, index: int) -> FloatArray:
        """One sweep of one signal (SI), without padding."""
        return self.signals[name][index, : self.sweep_lengths[index]]

    def column_names(self, names: Sequence[str]) -> list[str]:
        """File column names ('Vm_mV', ...) for signal names."""
        return [file_column(name, self.units[name]) for name in names]

    def selected(self, which: str = "basic") -> list[str]:
        """Signal names to write: 'basic' (Vm, Im, command, a fibre's sites) or 'all'."""
        if which == "all":
            return list(self.signals)
        if which != "basic":
            raise VrigError(f"signals must be 'basic' or 'all', got {which!r}")
        return basic_signals(list(self.signals))

    def save(self, path: StrPath, signals: str = "basic") -> None:
        """Write a .csv, .npz, .abf or .nwb file (chosen by the extension), atomically."""
        write_recording(self, path, self.selected(signals))

    def read(self, sweep: int, start: int, stop: int,
             names: Sequence[str]) -> list[FloatArray]:
        """Samples start..stop of one sweep of some signals (SI arrays, views)."""
        stop = min(stop, int(self.sweep_lengths[sweep]))
        return [self.signals[n][sweep, start:stop] for n in names]

    def value_range(self, name: str) -> tuple[float, float] | None:
        """(lowest, highest) finite value of a signal (SI), or None if it has none."""
        values = self.signals[name]
        finite = values[np.isfinite(values)]
        return (float(finite.min()), float(finite.max())) if finite.size else None


def load_recording(path: StrPath) -> Recording:
    """Read a recording file back into a Recording: a .csv, .npz, .abf or .nwb written by
    vRig (or any ABF that pyABF reads), or a recording journal (a ``.part`` file left by
    a recording that was cut short), up to its last whole sample."""
    return Recording(*read_parts(path))
