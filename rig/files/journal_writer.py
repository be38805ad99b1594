"""The disk side of a live recording: a writer thread that appends to journals, a
finisher thread that turns finished journals into their final files, the free-space
guard, and the recovery of journals a crash left behind.

Lifecycle (driven by :class:`rig.acquisition.live_recorder.LiveRecorder`, which owns the queue):

1. :class:`JournalWriter` takes items from a :class:`ByteQueue`: ``Run`` (start a new
   file of the series: open ``<final name>.part``, write its header), ``Data`` (one
   chunk's frames), ``Note`` (an event), ``Stop``. It writes and flushes after each
   batch, and about once a second fsyncs and checks the free space.
2. When a run ends (a new Run, a Stop, an error), its journal is closed and handed to
   the finisher thread, which converts it (streaming, from a memory map) to the final
   ``.abf``/``.nwb``/``.npz``/``.csv`` beside it and removes it. Conversions never hold
   up the writer, so a long conversion cannot make the queue overflow.
3. A full disk (the guard, or ENOSPC/EIO from the file system) stops the recording:
   the journal so far is cut at its last whole sample by construction, and is
   converted if there is room, else kept, with a message saying where the data is.

Finishing a journal and recovering those a crash left are in :mod:`rig.files.journal_finish`.
"""

import contextlib
import errno
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from rig import units
from rig.files import journal as jn
from rig.files.journal_finish import fcntl, finish_journal
from rig.files.layout import StrPath

RESERVE_BYTES = 256 * 1024 * 1024  # kept free for the system, beyond the conversion room
CHECK_EVERY_S = 1.0
CHECK_EVERY_BYTES = 8 * 1024 * 1024
# final file size / journal size (float32 frames), to keep room for the conversion
FINAL_SIZE_RATIO = {".abf": 0.5, ".npz": 2.0, ".nwb": 2.1, ".csv": 4.0}


@dataclass(frozen=True)
class Run:
    """Start a new file: names, units ({name: SI unit}), sample interval (s),
    acquisition ('continuous' or 'episodic') and metadata ({key: text})."""

    names: tuple[str, ...]
    units: dict[str, str]
    sample_interval_s: float
    acquisition: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class Data:
    """One chunk's samples for the current run: sweep (file sweep number), first
    (sample within the sweep), n (samples), signals ({name: SI array}; a missing
    signal is written as NaN), time_s (simulated s at the chunk's end)."""

    sweep: int
    first: int
    n: int
    signals: dict[str, Any]
    time_s: float


@dataclass(frozen=True)
class Note:
    """An event in the current run, at a simulated time (s)."""

    text: str
    time_s: float


@dataclass(frozen=True)
class Stop:
    """End the recording; reason is kept as the status message if not empty."""

    reason: str = ""


class ByteQueue:
    """A FIFO bounded by the bytes it holds: put never blocks, it refuses instead."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self._items: queue.SimpleQueue[tuple[object, int]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self.bytes = 0

    def offer(self, item: object, nbytes: int) -> bool:
        """Queue item if it fits; returns False (and queues nothing) if it does not."""
        with self._lock:
            if self.bytes + nbytes > self.limit:
                return False
            self.bytes += nbytes
        self._items.put((item, nbytes))
        return True

    def put(self, item: object) -> None:
        """Queue a small control item (not counted against the limit)."""
        self._items.put((item, 0))

    def get(self, timeout: float | None) -> object | None:
        """The next item, or None after timeout s."""
        try:
            item, nbytes = self._items.get(timeout=timeout)
        except queue.Empty:
            return None
        with self._lock:
            self.bytes -= nbytes
        return item


@dataclass
class Progress:
    """What the threads have done; read under the writer's lock."""

    state: str = "recording"
    current_file: Path | None = None
    files: list[Path] = field(default_factory=list)
    simulated_s: float = 0.0
    bytes_written: int = 0
    free_bytes: int | None = None
    message: str = ""


def _free_bytes(disk_usage: Callable[[StrPath], Any], folder: StrPath) -> int | None:
    try:
        return int(disk_usage(folder).free)
    except OSError:
        return None


def format_bytes(n: float) -> str:
    """A byte count for people: '812 kB', '41.2 MB', '3.1 GB'."""
    for unit, size in (("GB", units.BYTES_PER_GB), ("MB", units.BYTES_PER_MB),
                       ("kB", units.BYTES_PER_KB)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


class JournalWriter:
    """The writer and finisher threads of one live recording.

    folder: where the files go; name_for(index): the final file name of the index-th
    file of the series (1, 2, ...); next_index(start): the first index from start that
    is free on disk; extension: '.abf', '.nwb', '.npz' or '.csv';
    opener(path): the binary file object journals are written through (tests inject
    a full or stalled disk); disk_usage(folder): like shutil.disk_usage; clock: s;
    reserve_bytes: free space never to go below.
    """

    def __init__(self, items: ByteQueue, folder: StrPath, name_for: Callable[[int], str],
                 next_index: Callable[[int], int], extension: str,
                 opener: Callable[[Path], BinaryIO] | None = None,
                 disk_usage: Callable[[StrPath], Any] = shutil.disk_usage,
                 clock: Callable[[], float] = time.monotonic,
                 reserve_bytes: int = RESERVE_BYTES) -> None:
        self.items = items
        self.folder = Path(folder)
        self.name_for = name_for
        self.next_index = next_index
        self.extension = extension
        # the writer keeps each journal open until it finishes it
        self.opener: Callable[[Path], BinaryIO] = (
            opener or (lambda path: open(path, "xb")))  # noqa: SIM115
        self.disk_usage = disk_usage
        self.clock = clock
        self.reserve_bytes = reserve_bytes
        self.lock = threading.Lock()
        self.progress = Progress(free_bytes=_free_bytes(disk_usage, folder))
        self._index = 0
        self._file: BinaryIO | None = None  # journal being written
        self._journal: Path | None = None  # its Path
        self._journal_bytes = 0
        self._dtype = np.dtype("<f4")
        self._names: tuple[str, ...] = ()
        self._interval = 0.0
        self._pending_bytes = 0  # journals waiting for conversion
        self._finish: queue.SimpleQueue[tuple[Path, int] | None] = queue.SimpleQueue()
        self._failed = False
        self._kept_journal = False
        self._last_check = clock()
        self._bytes_at_check = 0
        self._writer = threading.Thread(target=self._write_loop, name="vrig-recorder", daemon=True)
        self._finisher = threading.Thread(target=self._finish_loop, name="vrig-converter",
                                          daemon=True)
        self._writer.start()
        self._finisher.start()

    # --- the writer thread ----------------------------------------------------------

    def _write_loop(self) -> None:
        try:
            # A failure (disk full, the guard) ends the loop: the recorder takes no more.
            while not self._failed:
                item = self.items.get(timeout=0.25)
                if item is None:
                    continue
                if isinstance(item, Stop):
                    self._end_run()
                    if item.reason:
                        self._set(message=item.reason)
                    break
                try:
                    self._handle(item)
                except OSError as exc:
                    self._disk_failed(exc)
        except Exception as exc:
            self._set(message=f"recording stopped by an internal error: "
                              f"{type(exc).__name__}: {exc}")
            self._failed = True
            self._end_run()
        finally:
            self._finish.put(None)

    def _handle(self, item: object) -> None:
        if isinstance(item, Run):
            self._end_run()
            self._start_run(item)
        elif isinstance(item, Data) and self._file is not None:
            frames = np.empty((item.n, len(self._names)), dtype=self._dtype)
            for c, name in enumerate(self._names):
                frames[:, c] = item.signals.get(name, np.nan)
            self._append(jn.data_head(item.sweep, item.first, frames))
            self._append(frames.data.cast("B"))
            with self.lock:
                self.progress.simulated_s += item.n * self._interval
            if self.items.bytes == 0:
                self._file.flush()
            self._check(item.time_s)
        elif isinstance(item, Note) and self._file is not None:
            self._append(jn.encode_event(item.time_s, 0, 0, item.text))

    def _open_file(self) -> BinaryIO:
        """The journal being written; only called while a run is open."""
        if self._file is None:
            raise ValueError("no journal is open")
        return self._file

    def _append(self, data: bytes | memoryview) -> None:
        self._open_file().write(data)
        self._journal_bytes += len(data)
        with self.lock:
            self.progress.bytes_written += len(data)

    def _start_run(self, run: Run) -> None:
        self._index = self.next_index(self._index + 1)
        name = self.name_for(self._index)
        target = self.folder / name
        journal = target.with_name(name + jn.SUFFIX)
        self._names = tuple(run.names)
        self._interval = run.sample_interval_s
        header = jn.encode_header(run.names, run.units, run.sample_interval_s,
                                  run.acquisition, run.metadata, name, self._dtype.str)
        self._file = self.opener(journal)
        self._journal = journal
        self._journal_bytes = 0
        if fcntl is not None and hasattr(self._file, "fileno"):
            with contextlib.suppress(OSError):
                fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with self.lock:
            self.progress.current_file = target
        self._append(header)
        self._file.flush()

    def _end_run(self) -> None:
        """Close the present journal and hand it to the finisher."""
        if self._file is None or self._journal is None:  # (both are set together)
            return
        handle, journal = self._file, self._journal
        self._file = None
        try:
            handle.flush()
            os.fsync(handle.fileno())
        except (OSError, AttributeError, ValueError):
            pass
        with contextlib.suppress(OSError):
            handle.close()
        with self.lock:
            self._pending_bytes += self._journal_bytes
        self._finish.put((journal, self._journal_bytes))

    def _check(self, time_s: float) -> None:
        """About once a second (or every few MB): fsync, and stop before the disk fills."""
        now = self.clock()
        written = self.progress.bytes_written
        if now - self._last_check < CHECK_EVERY_S and \
                written - self._bytes_at_check < CHECK_EVERY_BYTES:
            return
        self._last_check, self._bytes_at_check = now, written
        handle = self._open_file()
        handle.flush()
        if hasattr(handle, "fileno"):
            os.fsync(handle.fileno())
        free = _free_bytes(self.disk_usage, self.folder)
        with self.lock:
            self.progress.free_bytes = free
            pending = self._pending_bytes
        if free is None:
            return
        room = (self._journal_bytes + pending) * FINAL_SIZE_RATIO.get(self.extension, 4.0)
        if free - room < self.reserve_bytes:
            self._failed = True
            self._set(message=(
                f"recording stopped at t = {time_s:.3f} s: only {format_bytes(free)} left on "
                f"the disk of {self.folder} (vRig keeps {format_bytes(self.reserve_bytes)} "
                f"free plus room for the conversion). Everything recorded so far is kept: "
                f"{self._kept()}"))
            self._end_run()

    def _kept(self) -> str:
        with self.lock:
            names = [p.name for p in self.progress.files]
            current = self.progress.current_file
        if current is not None and current.name not in names:
            names.append(current.name)
        return ", ".join(names) + f" in {self.folder}"

    def _disk_failed(self, exc: OSError) -> None:
        """ENOSPC, EIO, ... while writing: stop; what is on disk stays loadable."""
        self._failed = True
        reason = errno.errorcode.get(exc.errno, "") if exc.errno else ""
        journal = self._journal
        self._set(message=(
            f"recording stopped: writing {journal.name if journal else 'the journal'} "
            f"failed ({exc.strerror or exc}{', ' + reason if reason else ''}). The data up "
            f"to the last whole sample is kept: {self._kept()}"))
        self._end_run()

    def _set(self, **values: Any) -> None:
        with self.lock:
            for key, value in values.items():
                if key == "message" and self.progress.message:
                    continue  # the first reason is the one that matters
                setattr(self.progress, key, value)

    # --- the finisher thread --------------------------------------------------------

    def _finish_loop(self) -> None:
        while True:
            item = self._finish.get()
            if item is None:
                break
            journal, size = item
            result = finish_journal(journal)
            with self.lock:
                self._pending_bytes -= size
                if result.path is not None:
                    self.progress.files.append(result.path)
                elif result.message:
                    self._kept_journal = True
                    if not self.progress.message:
                        self.progress.message = result.message
                    elif result.kept is not None:
                        self.progress.message += f" ({result.message})"
        with self.lock:
            self.progress.current_file = None
            self.progress.free_bytes = _free_bytes(self.disk_usage, self.folder)
            self.progress.state = "failed" if self._kept_journal else "done"

    # --- called from the recorder ---------------------------------------------------

    def join(self, timeout: float | None = None) -> bool:
        """Wait for both threads; True when both have finished."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in (self._writer, self._finisher):
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not (self._writer.is_alive() or self._finisher.is_alive())

    @property
    def stopping(self) -> bool:
        """True once the writer will take no more data (a failure or the guard)."""
        return self._failed
