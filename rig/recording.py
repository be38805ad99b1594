"""Recordings: sweeps of signals with their metadata, and their files.

In memory every signal is SI (V, A; gates dimensionless) in an array of shape
(n_sweeps, longest sweep), padded with NaN after a shorter sweep's end. In files the
columns are ``<name>_<unit>`` in ephys units (Vm_mV, Im_pA, command_mV or command_pA,
INa_pA, ..., gNa_nS, ..., and the gates m, h, n without a unit).

Files are written completely or not at all: to a temporary file beside the target,
then renamed over it.
"""

import io
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rig.errors import VrigError

FILE_UNITS = {"V": ("mV", 1e3), "A": ("pA", 1e12), "S": ("nS", 1e9), "": ("", 1.0)}
FORMATS = (".csv", ".npz", ".abf", ".nwb")
BASIC_SIGNALS = ("Vm", "Im", "Im_raw", "command")


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
        path = check_output_path(path)
        names = self.selected(signals)
        suffix = path.suffix.lower()
        if suffix in (".abf", ".nwb"):
            # optional extras: their libraries are imported only when asked for
            from rig.export_abf import abf_bytes
            from rig.export_nwb import nwb_bytes

            data = (abf_bytes if suffix == ".abf" else nwb_bytes)(self, names)
        else:
            data = (self._csv_bytes if suffix == ".csv" else self._npz_bytes)(names)
        _write_atomically(path, data)

    def _file_arrays(self, names):
        return [self.signals[n] * FILE_UNITS[self.units[n]][1] for n in names]

    def _csv_bytes(self, names):
        buffer = io.StringIO()
        for key, value in self.metadata.items():
            buffer.write(f"# {_one_line(key)}: {_one_line(value)}\n")
        buffer.write(",".join(["sweep", "time_ms"] + self.column_names(names)) + "\n")
        arrays = self._file_arrays(names)
        time_ms = self.time() * 1e3
        for k, n in enumerate(self.sweep_lengths):
            block = np.column_stack([np.full(n, k), time_ms[:n]] + [a[k, :n] for a in arrays])
            np.savetxt(buffer, block, delimiter=",",
                       fmt=["%d", "%.5f"] + ["%.7g"] * len(names))
        return buffer.getvalue().encode("utf-8")

    def _npz_bytes(self, names):
        buffer = io.BytesIO()
        columns = dict(zip(self.column_names(names), self._file_arrays(names)))
        np.savez_compressed(buffer, time_ms=self.time() * 1e3, sweep_lengths=self.sweep_lengths,
                            metadata_json=np.array(json.dumps(self.metadata)), **columns)
        return buffer.getvalue()


def check_output_path(path):
    """The path as a Path if a recording can be written there, else a VrigError."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise VrigError(f"cannot write {path.name}: the extension must be one of "
                        f"{', '.join(FORMATS)}")
    if not path.parent.is_dir():
        raise VrigError(f"cannot write {path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise VrigError(f"cannot write {path}: it is a folder")
    return path


def _one_line(text):
    """Metadata text with line breaks folded, so it cannot break the CSV layout."""
    return " ".join(str(text).splitlines())


def _write_atomically(path, data):
    """Write bytes to a temporary file beside path, then rename it over path; on any
    failure (or an interrupt) the temporary file is removed and path is untouched."""
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise VrigError(f"cannot write {path}: {exc.strerror or exc}") from None
    done = False
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
        done = True
    except OSError as exc:
        raise VrigError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if not done:
            Path(temp).unlink(missing_ok=True)


def _signal_from_column(column):
    for unit, (file_unit, scale) in FILE_UNITS.items():
        if file_unit and column.endswith("_" + file_unit):
            return column[: -len(file_unit) - 1], unit, scale
    return column, "", 1.0


def load_recording(path):
    """Read a .csv, .npz, .abf or .nwb written by :meth:`Recording.save` back into a Recording."""
    path = Path(path)
    if not path.exists():
        raise VrigError(f"recording {path} does not exist")
    if path.suffix.lower() == ".abf":
        from rig.export_abf import read_abf
        return read_abf(path)
    if path.suffix.lower() == ".nwb":
        from rig.export_nwb import read_nwb
        return read_nwb(path)
    if path.suffix.lower() == ".npz":
        return _load_npz(path)
    if path.suffix.lower() == ".csv":
        return _load_csv(path)
    raise VrigError(f"cannot read {path.name}: expected one of {', '.join(FORMATS)}")


def _load_npz(path):
    try:
        with np.load(path, allow_pickle=False) as data:
            metadata = json.loads(str(data["metadata_json"]))
            lengths = data["sweep_lengths"]
            time_ms = data["time_ms"]
            columns = {k: data[k] for k in data.files
                       if k not in ("metadata_json", "sweep_lengths", "time_ms")}
    except (OSError, ValueError, KeyError) as exc:
        raise VrigError(f"{path} is not a vRig recording: {exc}") from None
    signals, units = {}, {}
    for column, values in columns.items():
        name, unit, scale = _signal_from_column(column)
        signals[name] = values / scale
        units[name] = unit
    interval = (time_ms[1] - time_ms[0]) / 1e3 if time_ms.size > 1 else 0.0
    return Recording(signals, units, lengths, interval, metadata)


def _load_csv(path):
    metadata = {}
    header = None
    rows = []
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if header is None and line.startswith("# "):
                    key, _, value = line[2:].rstrip("\n").partition(": ")
                    metadata[key] = value
                elif header is None:
                    header = line.strip().split(",")
                elif line.strip():
                    rows.append(line)
        table = np.loadtxt(rows, delimiter=",", ndmin=2) if rows else None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise VrigError(f"{path} is not a vRig CSV recording: {exc}") from None
    if not header or header[:2] != ["sweep", "time_ms"]:
        raise VrigError(f"{path} is not a vRig CSV recording: no 'sweep,time_ms,...' header")
    if table is None or table.shape[1] != len(header):
        raise VrigError(f"{path} has no data rows matching its {len(header)}-column header")
    sweep_ids = table[:, 0]
    if (sweep_ids < 0).any() or (sweep_ids != np.round(sweep_ids)).any() \
            or sweep_ids.max() >= len(rows):
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
