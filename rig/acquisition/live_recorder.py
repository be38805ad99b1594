"""Recording live acquisition to disk without ever holding up the caller, one file per
run as Clampex does, and never losing what was recorded.

Lifecycle:

1. ``LiveRecorder(folder, base_name, extension, signals, units, metadata)`` checks the
   folder, the name, the format (a missing optional library is named here, at Rec) and
   the free space, then starts its threads (:mod:`rig.files.journal_writer`).
2. ``write(chunks)`` is called with each batch of :class:`rig.acquisition.commands.Chunk` on the
   acquisition's consumer thread (the window's GUI thread). It never blocks, never
   raises and does no formatting or I/O: it decides where each chunk belongs and
   puts references to the chosen signals on a queue bounded in bytes. If the queue is
   full (the disk is slower than the data), the recording stops cleanly with a
   message; everything queued before is kept.
3. A new file of the series (``name.abf``, ``name-2.abf``, ...) starts when a
   protocol starts or ends (episodic sweeps versus continuous acquisition), when the
   command's unit changes in continuous acquisition (VC versus CC/I=0), when the
   sample interval changes, after a gap (acquisition stopped and started again), and
   before a file would outgrow its format. Each file's metadata comes from
   ``metadata(chunk)`` at its first chunk, plus the mode, sample rate, acquisition
   kind, wall-clock start, and the events in it (a protocol's start, mode changes,
   drugs, notes).
4. ``stop()`` returns at once; the files are finished on the recorder's threads.
   ``wait(timeout)`` blocks until they are final. ``status()`` is a frozen snapshot
   for a display to poll.

Membrane-test chunks are not recorded (as on a real rig, the test is not data).
"""

import shutil
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from rig.acquisition.commands import Chunk
from rig.clamp import Mode
from rig.errors import VrigError
from rig.files.formats import FORMATS
from rig.files.journal_finish import recover_journals
from rig.files.journal_writer import (
    RESERVE_BYTES,
    ByteQueue,
    Data,
    JournalWriter,
    Note,
    Run,
    Stop,
    format_bytes,
)
from rig.files.layout import StrPath
from rig.files.output_files import name_limit
from rig.units import hz_to_khz

DEFAULT_SIGNALS = ("Vm", "Im", "command")
QUEUE_BYTES = 64 * 1024 * 1024
# samples of all channels in one file, so every format can hold it (ABF counts them in
# a signed 32-bit number): a longer stretch continues in the next file of the series
MAX_FILE_SAMPLES = {".abf": 2 ** 31 - 1}
STATES = ("recording", "finishing", "done", "failed")
# a file header: fixed {key: text}, or a callable giving it for the first chunk of a file
Metadata = Mapping[str, object] | Callable[[Chunk], Mapping[str, object]] | None

__all__ = [
    "LiveRecorder",
    "RecorderStatus",
    "default_base_name",
    "next_free_index",
    "recover_journals",
    "series_name",
]


@dataclass(frozen=True)
class RecorderStatus:
    """A snapshot of a recording. state: 'recording', 'finishing' (stopped, files being
    finished), 'done' or 'failed' (a journal had to be kept); current_file: the final
    name of the file being written (None when none); files: final files written;
    simulated_s: simulated seconds on disk; bytes_written: journal bytes; free_bytes:
    free space in the folder at the last check (None if unknown); message: why the
    recording stopped by itself, or what went wrong ('' if nothing)."""

    state: str
    current_file: Path | None
    files: tuple
    simulated_s: float
    bytes_written: int
    free_bytes: int | None
    message: str


def default_base_name(stamp: time.struct_time | None = None) -> str:
    """'vrig-20240131' for today (stamp: a time.struct_time)."""
    return time.strftime("vrig-%Y%m%d", stamp or time.localtime())


def series_name(base_name: str, extension: str, index: int) -> str:
    """The index-th file name of a series (1, 2, ...): name.abf, name-2.abf, ..."""
    return f"{base_name}{'' if index == 1 else f'-{index}'}{extension}"


def next_free_index(folder: StrPath, base_name: str, extension: str, start: int = 1) -> int:
    """The first index from start whose file and journal do not exist in folder."""
    index = start
    while True:
        name = series_name(base_name, extension, index)
        if not (Path(folder) / name).exists() and not (Path(folder) / (name + ".part")).exists():
            return index
        index += 1


def check_base_name(name: object) -> str:
    """A base file name as typed by a user, or a VrigError saying what is wrong."""
    if not isinstance(name, str) or not name.strip():
        raise VrigError("the recording's file name is empty; type a name such as cell1")
    name = name.strip()
    bad = [c for c in name if c in '/\\:*?"<>|' or ord(c) < 32 or ord(c) == 127]
    if bad or name.startswith("."):
        raise VrigError(f"the recording's file name {name!r} may not start with '.' or "
                        "contain / \\ : * ? \" < > | or control characters")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise VrigError("the recording's file name is not valid text") from None
    return name


def check_extension(extension: object) -> str:
    """The extension (lower case) if vRig can record to it here, else a VrigError
    (naming the package to install for an optional format)."""
    extension = str(extension).lower()
    if extension not in FORMATS:
        raise VrigError(f"cannot record as {extension!r}: choose one of {', '.join(FORMATS)}")
    if extension == ".nwb":
        try:
            import pynwb  # noqa: F401 - only to know it is there, before recording
        except ImportError:
            raise VrigError("recording as .nwb needs pynwb: install with "
                            "pip install 'vrig[nwb]', or choose .abf") from None
    return extension


class LiveRecorder:
    """Records chunks to a series of files in a folder (see the module docstring).

    folder: an existing folder; base_name: the files' name without extension;
    extension: '.abf' (default), '.nwb', '.npz' or '.csv'; signals: names to record
    (those a chunk lacks are skipped, or NaN when only some chunks have them); units:
    [(name, SI unit)] as from :meth:`rig.simulation.engine.Rig.signal_names` (the command's unit
    follows the clamp mode); metadata: a dict, or a callable(first Chunk) -> dict
    called on the calling thread when a file starts; queue_bytes: the queue's bound;
    reserve_bytes: free space never to use; opener, disk_usage, clock: injected for
    tests (see :class:`rig.files.journal_writer.JournalWriter`).
    """

    def __init__(self, folder: StrPath, base_name: str, extension: str = ".abf",
                 signals: Iterable[str] = DEFAULT_SIGNALS,
                 units: Mapping[str, str] | Iterable[tuple[str, str]] = (),
                 metadata: Metadata = None, queue_bytes: int = QUEUE_BYTES,
                 reserve_bytes: int = RESERVE_BYTES,
                 opener: Callable[[Path], BinaryIO] | None = None,
                 disk_usage: Callable[[StrPath], Any] = shutil.disk_usage,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise VrigError(f"cannot record to {self.folder}: the folder does not exist")
        self.base_name = check_base_name(base_name)
        self.extension = check_extension(extension)
        if len((self.base_name + "-9999" + self.extension + ".part").encode()) > \
                name_limit(self.folder):
            raise VrigError(f"the recording's file name {self.base_name[:40]}... is too long "
                            "for this file system; choose a shorter one")
        self.signals = tuple(dict.fromkeys(signals))
        if not self.signals:
            raise VrigError("choose at least one signal to record")
        if self.extension == ".abf" and len(self.signals) > 16:
            raise VrigError(f"an ABF file holds at most 16 signals; {len(self.signals)} are "
                            "chosen. Untick some, or record as .nwb or .npz")
        try:
            free = int(disk_usage(self.folder).free)
        except OSError as exc:
            raise VrigError(f"cannot record to {self.folder}: {exc.strerror or exc}") from None
        if free < reserve_bytes + queue_bytes:
            needed = format_bytes(reserve_bytes + queue_bytes)
            raise VrigError(f"only {format_bytes(free)} free on the disk of {self.folder}; "
                            f"recording needs more than {needed}. "
                            "Free some space or choose another folder")
        self._units = dict(units)
        self._metadata = metadata
        self._queue = ByteQueue(queue_bytes)
        limit = MAX_FILE_SAMPLES.get(self.extension)
        self._max_frames = None if limit is None else limit // len(self.signals)
        self._accepting = True
        self._reason = ""  # why stop() was called, if the recorder stopped itself
        self._stop_lock = threading.Lock()
        self._run: _RunState | None = None  # the file being filled (calling thread only)
        self._writer = JournalWriter(self._queue, self.folder, self._name_for,
                                     lambda start: next_free_index(self.folder, self.base_name,
                                                                   self.extension, start),
                                     self.extension,
                                     opener=opener, disk_usage=disk_usage, clock=clock,
                                     reserve_bytes=reserve_bytes)

    def _name_for(self, index: int) -> str:
        return series_name(self.base_name, self.extension, index)

    # --- the calling thread -----------------------------------------------------------

    @property
    def active(self) -> bool:
        """True while chunks are taken (until stop() or a stop by the recorder)."""
        return self._accepting and not self._writer.stopping

    def write(self, chunks: Iterable[Chunk]) -> None:
        """Queue chunks (in the order produced). O(chunks), no I/O; never raises."""
        if not self.active:
            return
        for chunk in chunks:
            if chunk.kind not in ("continuous", "sweep"):
                continue
            run = self._run
            if run is None or not run.continues(chunk, self._max_frames):
                run = self._start_run(chunk)
                if run is None:
                    return
            else:
                run.watch(chunk, self._queue)
            picked = {n: chunk.signals[n] for n in run.names if n in chunk.signals}
            n = chunk.n_samples
            data = Data(run.file_sweep, run.next_first, n, picked, chunk.time_s)
            if not self._queue.offer(data, n * 8 * max(len(picked), 1)):
                self.stop(f"recording stopped at t = {chunk.time_s:.3f} s: the disk could not "
                          f"keep up with the data (more than "
                          f"{format_bytes(self._queue.limit)} waiting). Everything before "
                          f"is kept in {self.folder}; record fewer signals or a lower rate")
                return
            run.advance(chunk)

    def _start_run(self, chunk: Chunk) -> "_RunState | None":
        names = [n for n in self.signals if n in chunk.signals]
        if not names:
            return None
        units = {n: Mode(chunk.mode).command_unit if n == "command" else self._units.get(n, "")
                 for n in names}
        if "Im_raw" in units and not units["Im_raw"]:
            units["Im_raw"] = "A"
        episodic = chunk.kind == "sweep"
        meta = self._metadata_for(chunk)
        start_s = chunk.time_s - chunk.n_samples * chunk.sample_interval_s
        meta.update({
            "acquisition": "episodic" if episodic else "continuous",
            "mode": chunk.mode,
            "sample_rate_kHz": f"{hz_to_khz(1.0 / chunk.sample_interval_s):g}",
            "signals": ",".join(names),
            "recorded_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "start_time_s": f"{start_s:.6f}",
        })
        self._queue.put(Run(tuple(names), units, chunk.sample_interval_s,
                            meta["acquisition"], meta))
        if episodic:
            self._queue.put(Note(f"protocol started: {meta.get('protocol', '')}".strip(),
                                 start_s))
        self._run = _RunState(chunk, names)
        return self._run

    def _metadata_for(self, chunk: Chunk) -> dict[str, str]:
        source = self._metadata
        if not callable(source):
            return {str(k): str(v) for k, v in dict(source or {}).items()}
        try:
            return {str(k): str(v) for k, v in dict(source(chunk)).items()}
        except Exception as exc:
            return {"metadata_error": f"{type(exc).__name__}: {exc}"}

    def note(self, text: str, time_s: float | None = None) -> None:
        """Record an event (text) in the present file, at simulated time_s (s;
        default: the end of the last chunk)."""
        if self.active and self._run is not None:
            self._queue.put(Note(str(text), self._run.time_s if time_s is None else time_s))

    def stop(self, reason: str = "") -> None:
        """Stop recording; returns at once (the files are finished in the background)."""
        with self._stop_lock:
            if not self._accepting:
                return
            self._accepting = False
            self._reason = reason
        self._queue.put(Stop(reason))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every file is final (at most timeout s); True if they are."""
        return self._writer.join(timeout)

    def status(self) -> RecorderStatus:
        """A :class:`RecorderStatus` snapshot (safe from any thread)."""
        writer = self._writer
        with writer.lock:
            p = writer.progress
            state = p.state
            if state == "recording" and not self.active:
                state = "finishing"
            return RecorderStatus(state, p.current_file, tuple(p.files), p.simulated_s,
                                  p.bytes_written, p.free_bytes, p.message or self._reason)


class _RunState:
    """Where the file being filled stands (calling thread only)."""

    def __init__(self, chunk: Chunk, names: list[str]) -> None:
        self.names = names
        self.kind = chunk.kind
        self.unit = Mode(chunk.mode).command_unit
        self.mode = chunk.mode
        self.interval = chunk.sample_interval_s
        self.source_sweep = chunk.sweep
        self.file_sweep = 0
        self.source_next = chunk.first_sample
        self.next_first = 0
        self.frames = 0
        self.time_s = chunk.time_s
        self.drugs = _drug_targets(chunk)

    def continues(self, chunk: Chunk, max_frames: int | None) -> bool:
        """True if the chunk belongs to this file."""
        if chunk.kind != self.kind or chunk.sample_interval_s != self.interval:
            return False
        if self.kind == "continuous":
            if Mode(chunk.mode).command_unit != self.unit or chunk.first_sample != self.source_next:
                return False
            return max_frames is None or self.frames + chunk.n_samples <= max_frames
        if chunk.sweep == self.source_sweep:
            return chunk.first_sample == self.source_next
        return chunk.sweep > self.source_sweep and chunk.first_sample == 0

    def watch(self, chunk: Chunk, items: ByteQueue) -> None:
        """Queue events the chunk shows: a mode change, a drug applied or washed."""
        if chunk.mode != self.mode:
            items.put(Note(f"mode {self.mode} -> {chunk.mode}", chunk.time_s))
            self.mode = chunk.mode
        drugs = _drug_targets(chunk)
        if drugs != self.drugs:
            for key in sorted(set(drugs) | set(self.drugs)):
                if drugs.get(key) != self.drugs.get(key):
                    name, side = key
                    target = drugs.get(key, 0.0)
                    items.put(Note(f"drug {name} ({side}) target {target:.4g} M", chunk.time_s))
            self.drugs = drugs
        if self.kind == "sweep" and chunk.sweep != self.source_sweep:
            self.source_sweep = chunk.sweep
            self.file_sweep += 1
            self.next_first = 0

    def advance(self, chunk: Chunk) -> None:
        n = chunk.n_samples
        self.source_next = chunk.first_sample + n
        self.next_first += n
        self.frames += n
        self.time_s = chunk.time_s


def _drug_targets(chunk: Chunk) -> dict[tuple[str, str], float]:
    return {(name, side): float(target) for name, side, _present, target in chunk.drugs
            if np.isfinite(target)}
