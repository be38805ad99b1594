"""Recordings: sweeps of signals with their metadata, and their files.

In memory every signal is SI (V, A; gates dimensionless) in an array of shape
(n_sweeps, longest sweep), padded with NaN after a shorter sweep's end. In files the
columns are ``<name>_<unit>`` in ephys units (Vm_mV, Im_pA, command_mV or command_pA,
INa_pA, ..., gNa_nS, ..., and the gates m, h, n without a unit).

Files are written completely or not at all (:func:`rig.output_files.atomic_output`),
and streamed: the writers (:func:`write_recording`) read a *sweep source* a block at a
time, so a file of any length takes bounded memory beyond the source itself. A sweep
source has ``units``, ``sample_interval_s`` (s), ``metadata``, ``sweep_lengths``,
``n_sweeps``, ``read(sweep, start, stop, names)`` (SI float64 arrays) and
``value_range(name)``; a :class:`Recording` is one, and so is a recording journal
(:class:`rig.journal.Journal`), which is how live and command-line recordings reach
their files without being held in memory.
"""

import itertools
import json
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rig.errors import VrigError
from rig.output_files import atomic_output, check_target
from rig.resources import printable

CSV_BLOCK_ROWS = 65536  # rows parsed at a time when reading a CSV recording

FILE_UNITS = {"V": ("mV", 1e3), "A": ("pA", 1e12), "S": ("nS", 1e9), "": ("", 1.0)}
FORMATS = (".abf", ".nwb", ".npz", ".csv")
BASIC_SIGNALS = ("Vm", "Im", "Im_raw", "command")
BLOCK_SAMPLES = 1 << 16  # samples per channel a writer handles at a time


@dataclass
class Recording:
    """Sweeps of signals. signals: {name: (n_sweeps, n_samples) SI array};
    units: {name: 'V' | 'A' | ''}; sweep_lengths: samples in each sweep;
    sample_interval_s: s; metadata: {key: text}."""

    signals: dict
    units: dict
    sweep_lengths: np.ndarray
    sample_interval_s: float
    metadata: dict = field(default_factory=dict)

    @property
    def n_sweeps(self):
        """Number of sweeps."""
        return len(self.sweep_lengths)

    def time(self):
        """Sample times from the start of a sweep, in s."""
        return np.arange(int(max(self.sweep_lengths, default=0))) * self.sample_interval_s

    def sweep(self, name, index):
        """One sweep of one signal (SI), without padding."""
        return self.signals[name][index, : self.sweep_lengths[index]]

    def column_names(self, names):
        """File column names ('Vm_mV', ...) for signal names."""
        result = []
        for name in names:
            unit = FILE_UNITS[self.units[name]][0]
            result.append(f"{name}_{unit}" if unit else name)
        return result

    def selected(self, which="basic"):
        """Signal names to write: 'basic' (Vm, Im, command) or 'all'."""
        if which == "all":
            return list(self.signals)
        if which != "basic":
            raise VrigError(f"signals must be 'basic' or 'all', got {which!r}")
        return [name for name in BASIC_SIGNALS if name in self.signals]

    def save(self, path, signals="basic"):
        """Write a .csv, .npz, .abf or .nwb file (chosen by the extension), atomically."""
        write_recording(self, path, self.selected(signals))

    def read(self, sweep, start, stop, names):
        """Samples start..stop of one sweep of some signals (SI arrays, views)."""
        stop = min(stop, int(self.sweep_lengths[sweep]))
        return [self.signals[n][sweep, start:stop] for n in names]

    def value_range(self, name):
        """(lowest, highest) finite value of a signal (SI), or None if it has none."""
        values = self.signals[name]
        finite = values[np.isfinite(values)]
        return (float(finite.min()), float(finite.max())) if finite.size else None


def file_column(name, unit):
    """The file's column name of a signal: 'Vm_mV', 'Im_pA', 'm'."""
    file_unit = FILE_UNITS[unit][0]
    return f"{name}_{file_unit}" if file_unit else name


def write_recording(source, path, names):
    """Stream the signals `names` of a sweep source (a Recording or a Journal) to a
    .csv, .npz, .abf or .nwb file chosen by the extension; complete or not at all."""
    path = check_output_path(path)
    if not names:
        raise VrigError(f"cannot write {path.name}: no signals chosen")
    suffix = path.suffix.lower()
    if suffix == ".abf":
        from rig.export_abf import write_abf as writer
    elif suffix == ".nwb":
        from rig.export_nwb import write_nwb as writer
    elif suffix == ".npz":
        from rig.export_npz import write_npz as writer
    else:
        from rig.export_csv import write_csv as writer
    with atomic_output(path) as temp:
        writer(source, names, temp)


def check_output_path(path, protect=()):
    """The path as a Path if a recording can be written there, else a VrigError
    (see :func:`rig.output_files.check_target`; protect: files not to overwrite)."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise VrigError(f"cannot write {path.name[:80]}: the extension must be one of "
                        f"{', '.join(FORMATS)}")
    check_target(path, protect)
    return path


def one_line(text):
    """Metadata text on one line, so it cannot break the CSV layout: control characters
    (newline, CR, tab, escape...), line separators and lone surrogates are written as
    escapes (\\n, \\r, \\t, \\x1b), as :func:`rig.resources.printable` shows them."""
    return printable(text)


def _signal_from_column(column):
    for unit, (file_unit, scale) in FILE_UNITS.items():
        if file_unit and column.endswith("_" + file_unit):
            return column[: -len(file_unit) - 1], unit, scale
    return column, "", 1.0


def load_recording(path):
    """Read a recording file back into a Recording: a .csv, .npz, .abf or .nwb written by
    vRig (or any ABF that pyABF reads), or a recording journal (a ``.part`` file left by
    a recording that was cut short), up to its last whole sample."""
    from rig.journal import is_journal, load_journal

    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise VrigError(f"recording {path} does not exist") from None
    except OSError as exc:
        raise VrigError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise VrigError(f"cannot read {path}: it is not a regular file")
    suffix = path.suffix.lower()
    if is_journal(path):
        return load_journal(path)
    if suffix == ".abf":
        from rig.export_abf import read_abf
        return read_abf(path)
    if suffix == ".nwb":
        from rig.export_nwb import read_nwb
        return read_nwb(path)
    if suffix == ".npz":
        return _load_npz(path)
    if suffix == ".csv":
        return _load_csv(path)
    raise VrigError(f"cannot read {path.name}: expected one of {', '.join(FORMATS)} "
                    "or a recording journal (.part)")


def _load_npz(path):
    try:
        with np.load(path, allow_pickle=False) as data:
            metadata = json.loads(str(data["metadata_json"]))
            lengths = data["sweep_lengths"]
            time_ms = data["time_ms"]
            interval = (float(data["sample_interval_s"]) if "sample_interval_s" in data.files
                        else (time_ms[1] - time_ms[0]) / 1e3 if time_ms.size > 1 else 0.0)
            columns = {k: data[k] for k in data.files
                       if k not in ("metadata_json", "sweep_lengths", "time_ms",
                                    "sample_interval_s")}
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise VrigError(f"{path} is not a vRig recording: {exc}") from None
    signals, units = {}, {}
    for column, values in columns.items():
        name, unit, scale = _signal_from_column(column)
        signals[name] = values / scale
        units[name] = unit
    return Recording(signals, units, lengths, interval, metadata)


def _load_csv(path):
    """A vRig CSV recording; the rows are parsed CSV_BLOCK_ROWS at a time into floats, so
    reading takes about twice the memory of the numbers, not ten times (as a list of
    every line of text would)."""
    metadata = {}
    header = None
    blocks = []
    try:
        # utf-8-sig: a file saved again by a spreadsheet may start with a byte order mark
        with open(path, encoding="utf-8-sig") as handle:
            for line in handle:
                if not line.startswith("# "):
                    header = line.strip().split(",")
                    break
                key, _, value = line[2:].rstrip("\n").partition(": ")
                metadata[key] = value
            while lines := list(itertools.islice(handle, CSV_BLOCK_ROWS)):
                rows = [line for line in lines if line.strip()]
                if rows:
                    blocks.append(np.loadtxt(rows, delimiter=",", ndmin=2))
        table = np.concatenate(blocks) if blocks else None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise VrigError(f"{path} is not a vRig CSV recording: {exc}") from None
    del blocks
    if not header or header[:2] != ["sweep", "time_ms"]:
        raise VrigError(f"{path} is not a vRig CSV recording: no 'sweep,time_ms,...' header")
    if table is None or table.shape[1] != len(header):
        raise VrigError(f"{path} has no data rows matching its {len(header)}-column header")
    sweep_ids = table[:, 0]
    if (sweep_ids < 0).any() or (sweep_ids != np.round(sweep_ids)).any() \
            or sweep_ids.max() >= table.shape[0]:
        raise VrigError(f"{path}: the sweep column must hold sweep numbers 0, 1, 2, ...")
    sweep_ids = sweep_ids.astype(int)
    lengths = np.bincount(sweep_ids)
    signals, units = {}, {}
    for j, column in enumerate(header[2:], start=2):
        name, unit, scale = _signal_from_column(column)
        values = np.full((lengths.size, lengths.max()), np.nan)
        for k in range(lengths.size):
            values[k, : lengths[k]] = table[sweep_ids == k, j] / scale
        signals[name] = values
        units[name] = unit
    times = table[sweep_ids == sweep_ids[0], 1]
    interval = (times[1] - times[0]) / 1e3 if times.size > 1 else 0.0
    return Recording(signals, units, lengths, interval, metadata)
