"""CSV export of recordings, streamed: ``# key: value`` metadata lines, then
``sweep,time_ms,<name>_<unit>,...`` and one row per sample, written a block at a time.
"""

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from rig import units
from rig.errors import VrigError
from rig.files import output_files
from rig.files.layout import (
    BLOCK_SAMPLES,
    FILE_UNITS,
    FloatArray,
    RecordingParts,
    StrPath,
    SweepSource,
    file_column,
    one_line,
    signal_from_column,
)

CSV_BLOCK_ROWS = 65536  # rows parsed at a time when reading a CSV recording


def write_csv(source: SweepSource, names: Sequence[str], path: StrPath) -> None:
    """Write the signals `names` of a sweep source to a CSV file at path."""
    scales = [FILE_UNITS[source.units[n]][1] for n in names]
    columns = [file_column(n, source.units[n]) for n in names]
    fmt = ",".join(["%d", "%.5f"] + ["%.7g"] * len(names))
    interval_ms = units.s_to_ms(source.sample_interval_s)
    with output_files.open_for_writing(path) as handle:
        header = "".join(f"# {one_line(k)}: {one_line(v)}\n" for k, v in source.metadata.items())
        header += ",".join(["sweep", "time_ms"] + columns) + "\n"
        handle.write(header.encode("utf-8", "backslashreplace"))
        for k, length in enumerate(source.sweep_lengths):
            for start in range(0, int(length), BLOCK_SAMPLES):
                values = source.read(k, start, start + BLOCK_SAMPLES, names)
                n = values[0].size
                block = np.column_stack([np.full(n, k), (start + np.arange(n)) * interval_ms]
                                        + [v * s for v, s in zip(values, scales)])
                np.savetxt(handle, block, fmt=fmt)


def read_csv(path: StrPath) -> RecordingParts:
    """The parts of a CSV recording written by :func:`write_csv`. The rows are parsed
    CSV_BLOCK_ROWS at a time into floats, so reading takes about twice the memory of the
    numbers, not ten times (as a list of every line of text would)."""
    metadata: dict[str, Any] = {}
    header: list[str] | None = None
    blocks: list[FloatArray] = []
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
    signals: dict[str, FloatArray] = {}
    signal_units: dict[str, str] = {}
    for j, column in enumerate(header[2:], start=2):
        name, unit, scale = signal_from_column(column)
        values = np.full((lengths.size, lengths.max()), np.nan)
        for k in range(lengths.size):
            values[k, : lengths[k]] = table[sweep_ids == k, j] / scale
        signals[name] = values
        signal_units[name] = unit
    times = table[sweep_ids == sweep_ids[0], 1]
    interval = units.ms_to_s(times[1] - times[0]) if times.size > 1 else 0.0
    return RecordingParts(signals, signal_units, lengths, interval, metadata)
