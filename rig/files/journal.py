"""The crash-safe recording journal: an append-only binary file that a cut at any byte
leaves loadable up to its last whole sample.

Layout (little-endian):

* header: ``MAGIC`` (8 bytes), version (u16), 0 (u16), n (u32), then n bytes of UTF-8
  JSON: ``names`` (signal names, one channel each), ``units`` ({name: SI unit}),
  ``dtype`` ('<f4' or '<f8'), ``sample_interval_s``, ``acquisition`` ('continuous'
  or 'episodic'), ``metadata`` ({key: text}), ``target`` (the final file's name, beside
  the journal) and ``pid``/``host`` of the writer;
* records, each a kind (u8), 3 zero bytes and a payload length (u32), then the payload:

  - ``DATA``: sweep (u32, the file's sweep number, 0, 1, ...), frames (u32), first
    sample within the sweep (u64), then frames x channels samples in SI units, frame
    by frame (one value per channel);
  - ``EVENT``: UTF-8 JSON ``{"time_s": simulated s, "sweep": k, "sample": i,
    "text": ...}``.

Records of a sweep follow each other without gaps, and sweeps come in order; a
data record holds at least one frame. :class:`Journal` reads a journal
: the header, then records until the file ends, a record is cut
(its whole frames are kept), or the bytes stop making sense (a zero-filled tail after
a power cut). It offers the read interface the file writers stream from
(:func:`rig.files.formats.write_recording`), so converting a journal of any length takes
bounded memory. It reads with positioned reads (``os.pread``) rather than a memory
map, so that even the pages it has read do not add up in the process's memory.
"""

import json
import os
import socket
import struct
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO, Literal

import numpy as np
import numpy.typing as npt

from rig.errors import VrigError
from rig.files.layout import FloatArray, RecordingParts, StrPath

MAGIC = b"vRigJrnl"
VERSION = 1
SUFFIX = ".part"
DATA = 1
EVENT = 2
_HEAD = struct.Struct("<8sHHI")
_RECORD = struct.Struct("<B3xI")
_DATA = struct.Struct("<IIQ")
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_EVENT_BYTES = 1024 * 1024
BLOCK_SAMPLES = 1 << 18  # samples per channel read at a time when streaming


def encode_header(names: Sequence[str], units: Mapping[str, str], sample_interval_s: float,
                  acquisition: str, metadata: Mapping[str, Any], target: StrPath,
                  dtype: npt.DTypeLike = "<f4") -> bytes:
    """The header bytes of a new journal (see the module docstring for the fields).

    sample_interval_s: s; target: the final file's name (no folder)."""
    info = {"format": "vrig-journal", "names": list(names),
            "units": {n: units[n] for n in names}, "dtype": np.dtype(dtype).str,
            "sample_interval_s": float(sample_interval_s), "acquisition": acquisition,
            "metadata": dict(metadata), "target": str(target), "pid": os.getpid(),
            "host": socket.gethostname()}
    text = json.dumps(info).encode("utf-8")
    return _HEAD.pack(MAGIC, VERSION, 0, len(text)) + text


def data_head(sweep: int, first_sample: int, frames: np.ndarray) -> bytes:
    """The bytes before a data record's frames (an (n, channels) C-contiguous array in
    the journal's dtype); write them, then the frames themselves (no copy)."""
    return (_RECORD.pack(DATA, _DATA.size + frames.nbytes)
            + _DATA.pack(sweep, frames.shape[0], first_sample))


def encode_data(sweep: int, first_sample: int, frames: npt.ArrayLike) -> bytes:
    """A whole data record as bytes (see :func:`data_head`)."""
    block = np.ascontiguousarray(frames)
    return data_head(sweep, first_sample, block) + block.tobytes()


def encode_event(time_s: float, sweep: int, sample: int, text: str) -> bytes:
    """An event record: something that happened at a simulated time (s) and sample."""
    body = json.dumps({"time_s": float(time_s), "sweep": int(sweep), "sample": int(sample),
                       "text": str(text)}).encode("utf-8", "backslashreplace")
    return _RECORD.pack(EVENT, len(body)) + body


def is_journal(path: StrPath) -> bool:
    """True if the file at path starts with the journal's magic bytes."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


class Journal:
    """A journal opened for reading. Use as a context manager or call
    :meth:`close`. Raises VrigError if the file is not a journal or is cut inside its
    header (it then holds no samples).

    Attributes: names, units ({name: SI unit}), sample_interval_s (s), acquisition,
    metadata ({key: text}, with 'events' as JSON when there were any), target (the
    final file's name), sweep_lengths (samples per sweep), events ([dict]), complete
    (False if the file ended inside a record or in bytes that are not a record).
    """

    _file: BinaryIO | None  # None once closed

    def __init__(self, path: StrPath) -> None:
        self.path = path
        try:
            self._file = open(path, "rb")  # noqa: SIM115 - the reader keeps it open
            size = os.fstat(self._file.fileno()).st_size
        except OSError as exc:
            raise VrigError(f"cannot read journal {path}: {exc.strerror or exc}") from None
        try:
            self._parse_header(size)
            self._scan(size)
        except BaseException:
            self.close()
            raise

    def _parse_header(self, size: int) -> None:
        head = self._pread(_HEAD.size, 0)
        if size < _HEAD.size or head[: len(MAGIC)] != MAGIC:
            raise VrigError(f"{self.path} is not a vRig recording journal, or it was cut "
                            "before its header was complete (it then holds no samples)")
        _, version, _, length = _HEAD.unpack_from(head, 0)
        if version != VERSION:
            raise VrigError(f"{self.path} is a journal of version {version}; this vRig "
                            f"reads version {VERSION}")
        if length > MAX_HEADER_BYTES or _HEAD.size + length > size:
            raise VrigError(f"{self.path} was cut inside its header: it holds no samples")
        try:
            info = json.loads(self._pread(length, _HEAD.size).decode("utf-8"))
            self.names = [str(n) for n in info["names"]]
            self.units = {n: str(info["units"][n]) for n in self.names}
            self.dtype = np.dtype(info["dtype"])
            self.sample_interval_s = float(info["sample_interval_s"])
            self.acquisition = str(info["acquisition"])
            self.metadata = {str(k): str(v) for k, v in dict(info["metadata"]).items()}
            self.target = str(info["target"])
            self.writer = (info.get("host"), info.get("pid"))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise VrigError(f"{self.path} has a damaged journal header: {exc}") from None
        if self.dtype not in (np.dtype("<f4"), np.dtype("<f8")) or not self.names \
                or not self.sample_interval_s > 0:
            raise VrigError(f"{self.path} has a damaged journal header")
        self._frame_bytes = self.dtype.itemsize * len(self.names)
        self._value_ranges: dict[str, tuple[float, float] | None] | None = None
        self._data_start = _HEAD.size + length

    def _scan(self, size: int) -> None:
        """Index the data records (sweep, first, frames, byte offset) and read events."""
        sweeps: list[int] = []
        firsts: list[int] = []
        counts: list[int] = []
        offsets: list[int] = []
        self.events: list[dict[str, Any]] = []
        self.complete = True
        position = self._data_start
        expected: dict[int, int] = {}  # sweep -> next first sample
        while position < size:
            if position + _RECORD.size > size:
                self.complete = False
                break
            self._open_file().seek(position)  # buffered: cheap for the small reads of the scan
            heads = self._open_file().read(_RECORD.size + _DATA.size)
            kind, length = _RECORD.unpack_from(heads, 0)
            body = position + _RECORD.size
            available = min(length, size - body)
            if kind == DATA and available >= _DATA.size:
                sweep, n, first = _DATA.unpack_from(heads, _RECORD.size)
                whole = min(n, (available - _DATA.size) // self._frame_bytes)
                sane = (n > 0 and length == _DATA.size + n * self._frame_bytes
                        and sweep <= len(expected) and expected.get(sweep, first) == first
                        and (sweep == len(expected) - 1 or sweep not in expected))
                if not sane:
                    self.complete = False
                    break
                if whole:
                    sweeps.append(sweep)
                    firsts.append(first)
                    counts.append(whole)
                    offsets.append(body + _DATA.size)
                expected[sweep] = first + whole
                if whole < n:
                    self.complete = False
                    break
            elif kind == EVENT and length <= MAX_EVENT_BYTES:
                if available < length:
                    self.complete = False
                    break
                try:
                    event = json.loads(self._pread(length, body).decode("utf-8"))
                    self.events.append({"time_s": float(event["time_s"]),
                                        "sweep": int(event["sweep"]),
                                        "sample": int(event["sample"]),
                                        "text": str(event["text"])})
                except (ValueError, KeyError, TypeError):
                    self.complete = False
                    break
            else:
                self.complete = False
                break
            position = body + length
        self._sweep = np.array(sweeps, dtype=np.int64)
        self._first = np.array(firsts, dtype=np.int64)
        self._count = np.array(counts, dtype=np.int64)
        self._offset = np.array(offsets, dtype=np.int64)
        n_sweeps = int(self._sweep[-1]) + 1 if self._sweep.size else 0
        # Sweeps only grow through the file, so each sweep's records are one range.
        self._ranges = np.searchsorted(self._sweep, np.arange(n_sweeps + 1))
        begin, end = self._ranges[:-1], self._ranges[1:]
        self._starts = self._first[begin]
        self.sweep_lengths = self._first[end - 1] + self._count[end - 1] - self._starts
        if self.events:
            self.metadata["events"] = json.dumps(self.events)

    @property
    def n_sweeps(self) -> int:
        """Number of sweeps holding at least one whole sample."""
        return int(self.sweep_lengths.size)

    @property
    def n_samples(self) -> int:
        """Whole samples (per channel) in all sweeps."""
        return int(self.sweep_lengths.sum())

    def read(self, sweep: int, start: int, stop: int,
             names: Sequence[str]) -> list[FloatArray]:
        """Samples start..stop (within the sweep) of some signals, as SI float64 arrays."""
        columns = [self.names.index(n) for n in names]
        stop = min(stop, int(self.sweep_lengths[sweep]))
        out: list[FloatArray] = [np.empty(max(stop - start, 0)) for _ in names]
        if stop <= start:
            return out
        b, e = int(self._ranges[sweep]), int(self._ranges[sweep + 1])
        rel_first = self._first[b:e] - self._starts[sweep]
        first = b + max(int(np.searchsorted(rel_first, start, side="right")) - 1, 0)
        last = b + int(np.searchsorted(rel_first, stop, side="left"))  # records first..last-1
        width = len(self.names) * self.dtype.itemsize
        # one read for the whole span of records (they follow each other in the file)
        span_start = int(self._offset[first])
        span = self._pread(int(self._offset[last - 1] + self._count[last - 1] * width)
                           - span_start, span_start)
        for g0, k in _uniform_groups(self._offset[first:last], self._count[first:last], width):
            r = first + g0
            n = int(self._count[r])
            stride = _RECORD.size + _DATA.size + n * width
            base = np.frombuffer(span, dtype=self.dtype, offset=int(self._offset[r]) - span_start,
                                 count=((k - 1) * stride + n * width) // self.dtype.itemsize)
            # k records of n frames each, a fixed stride apart: one strided view
            frames = np.lib.stride_tricks.as_strided(
                base, shape=(k, n, len(self.names)),
                strides=(stride, width, self.dtype.itemsize), writeable=False)
            begin = int(self._first[r] - self._starts[sweep])
            lo, hi = max(start, begin), min(stop, begin + k * n)
            for array, column in zip(out, columns):
                samples = frames[:, :, column].reshape(-1)
                array[lo - start: hi - start] = samples[lo - begin: hi - begin]
        return out

    def value_range(self, name: str) -> tuple[float, float] | None:
        """(lowest, highest) finite value of a signal (SI), or None if it has none.
        The first call reads every channel's range in one pass."""
        if self._value_ranges is None:
            low = np.full(len(self.names), np.inf)
            high = np.full(len(self.names), -np.inf)
            for k, n in enumerate(self.sweep_lengths):
                for start in range(0, int(n), BLOCK_SAMPLES):
                    for c, values in enumerate(self.read(k, start, start + BLOCK_SAMPLES,
                                                         self.names)):
                        values = values[np.isfinite(values)]
                        if values.size:
                            low[c] = min(low[c], values.min())
                            high[c] = max(high[c], values.max())
            self._value_ranges = {n: (float(lo), float(hi)) if lo <= hi else None
                                  for n, lo, hi in zip(self.names, low, high)}
        return self._value_ranges[name]

    def read_parts(self) -> RecordingParts:
        """The whole journal in memory, as :class:`rig.files.layout.RecordingParts`."""
        longest = int(self.sweep_lengths.max(initial=0))
        signals = {n: np.full((self.n_sweeps, longest), np.nan) for n in self.names}
        for k, n in enumerate(self.sweep_lengths):
            for name, values in zip(self.names, self.read(k, 0, int(n), self.names)):
                signals[name][k, : values.size] = values
        return RecordingParts(signals, dict(self.units), self.sweep_lengths.copy(),
                         self.sample_interval_s, dict(self.metadata))

    def close(self) -> None:
        """Close the file (safe to call twice)."""
        handle = getattr(self, "_file", None)
        if handle is not None:
            handle.close()
            self._file = None

    def _open_file(self) -> BinaryIO:
        """The journal's file, or ValueError (as a closed file raises) once closed."""
        if self._file is None:
            raise ValueError(f"journal {self.path} is closed")
        return self._file

    def _pread(self, n: int, offset: int) -> bytes:
        """Up to n bytes at offset (fewer at the end of the file)."""
        chunks: list[bytes] = []
        while n > 0:
            data = os.pread(self._open_file().fileno(), n, offset)
            if not data:
                break
            chunks.append(data)
            n -= len(data)
            offset += len(data)
        return b"".join(chunks)

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        self.close()
        return False


def load_journal(path: StrPath) -> RecordingParts:
    """The parts of everything in a journal up to its last whole sample."""
    with Journal(path) as journal:
        if journal.n_samples == 0:
            raise VrigError(f"journal {path} holds no samples")
        return journal.read_parts()


def _uniform_groups(offsets: np.ndarray, counts: np.ndarray,
                    width: int) -> list[tuple[int, int]]:
    """(first index, length) of runs of records with equal frame counts that follow
    each other directly (no event record between), so that they can be read as one
    strided array."""
    if offsets.size == 0:
        return []
    expected = offsets[:-1] + counts[:-1] * width + _RECORD.size + _DATA.size
    breaks = np.flatnonzero((counts[1:] != counts[:-1]) | (offsets[1:] != expected)) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [offsets.size]])
    return list(zip(starts.tolist(), (ends - starts).tolist()))
