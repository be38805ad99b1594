"""NPZ export of recordings, streamed into the zip archive a block at a time.

The archive holds plain arrays (no pickles): one (sweeps, longest sweep) float64 array
per signal named ``<name>_<unit>`` in file units and NaN-padded, ``time_ms``,
``sweep_lengths``, ``sample_interval_s`` (s) and ``metadata_json``; ``numpy.load``
reads it, and so does :func:`rig.files.recording.load_recording`.
"""

import json
import zipfile
from collections.abc import Iterable, Iterator, Sequence

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
    signal_from_column,
)


def _entry(archive: zipfile.ZipFile, name: str, shape: tuple[int, ...],
           blocks: Iterable[np.ndarray | np.generic], dtype: str = "<f8") -> None:
    """One .npy member of known shape, written from an iterable of arrays."""
    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
        header = {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_2_0(member, header)
        for block in blocks:
            member.write(np.ascontiguousarray(block, dtype=dtype).tobytes())


def _signal_blocks(source: SweepSource, name: str, scale: float,
                   longest: int) -> Iterator[FloatArray]:
    for k, length in enumerate(source.sweep_lengths):
        for start in range(0, int(length), BLOCK_SAMPLES):
            yield source.read(k, start, start + BLOCK_SAMPLES, [name])[0] * scale
        for start in range(int(length), longest, BLOCK_SAMPLES):
            yield np.full(min(BLOCK_SAMPLES, longest - start), np.nan)


def write_npz(source: SweepSource, names: Sequence[str], path: StrPath) -> None:
    """Write the signals `names` of a sweep source to an .npz file at path."""
    lengths = np.asarray(source.sweep_lengths, dtype=np.int64)
    longest = int(lengths.max(initial=0))
    interval_ms = units.s_to_ms(source.sample_interval_s)
    with output_files.open_for_writing(path) as handle, \
            zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            scale = FILE_UNITS[source.units[name]][1]
            _entry(archive, file_column(name, source.units[name]), (len(lengths), longest),
                   _signal_blocks(source, name, scale, longest))
        _entry(archive, "time_ms", (longest,),
               (np.arange(s, min(s + BLOCK_SAMPLES, longest)) * interval_ms
                for s in range(0, longest, BLOCK_SAMPLES)))
        _entry(archive, "sweep_lengths", lengths.shape, [lengths], dtype="<i8")
        _entry(archive, "sample_interval_s", (), [np.float64(source.sample_interval_s)])
        text = np.array(json.dumps(source.metadata))
        _entry(archive, "metadata_json", (), [text], dtype=text.dtype.str)


def read_npz(path: StrPath) -> RecordingParts:
    """The parts of an NPZ recording written by :func:`write_npz`."""
    try:
        with np.load(path, allow_pickle=False) as data:
            metadata = json.loads(str(data["metadata_json"]))
            lengths = data["sweep_lengths"]
            time_ms = data["time_ms"]
            interval = (float(data["sample_interval_s"]) if "sample_interval_s" in data.files
                        else units.ms_to_s(time_ms[1] - time_ms[0]) if time_ms.size > 1 else 0.0)
            columns = {k: data[k] for k in data.files
                       if k not in ("metadata_json", "sweep_lengths", "time_ms",
                                    "sample_interval_s")}
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise VrigError(f"{path} is not a vRig recording: {exc}") from None
    signals: dict[str, FloatArray] = {}
    signal_units: dict[str, str] = {}
    for column, values in columns.items():
        name, unit, scale = signal_from_column(column)
        signals[name] = values / scale
        signal_units[name] = unit
    return RecordingParts(signals, signal_units, lengths, interval, metadata)
