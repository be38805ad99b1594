"""Running a protocol headless straight into a recording file, in bounded memory.

The sweeps come from :func:`rig.simulation.episodes.protocol_pieces` (the loop the live runner
shares) and go to a float64 journal beside the output (a hidden temporary file named
like the other temporary files, ``.<name>.vrig-<pid>-<random>.part``), which the
streamed writers then turn into the output; the journal is removed whatever happens.
So neither the recording nor the file is ever built in memory: the largest accepted
protocol with every signal takes a few tens of MB.

A sweep is simulated in one piece unless it is longer than ``PIECE_SAMPLES`` or needs
more than ``PIECE_STEPS`` kernel steps; then it comes in pieces within both (memory, and
a progress line and a SIGTERM that are never more than a fraction of a second away, even
at the smallest time step). The numbers are those of
:meth:`rig.simulation.engine.Rig.run` either way, except that with instrument noise on, the noise
of a sweep that long is drawn piece by piece (still reproducible with the seed).
"""

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from rig.errors import VrigError
from rig.files import journal as jn
from rig.files.formats import check_output_path, write_recording
from rig.files.layout import StrPath, basic_signals
from rig.files.output_files import NAME_PREFIX_CHARS, clear_stale_parts
from rig.protocols.protocol import Protocol, total_duration_s
from rig.simulation.engine import Rig
from rig.simulation.episodes import (
    PN_BASELINE_S,
    PN_SETTLE_S,
    leak_setting,
    protocol_pieces,
    recording_info,
)

PIECE_SAMPLES = 1 << 17  # 2.6 s at 50 kHz; every shipped sweep is shorter
# Kernel steps in one piece: about 0.05 s of computing (the kernel makes some 2e7 steps/s),
# so progress shows four times a second and a signal is handled at once.
PIECE_STEPS = 1_000_000
# progress(simulated s done, total s, sweep, sweeps)
Progress = Callable[[float, float, int, int], object]


def piece_samples(setup: Rig, protocol: Protocol) -> int:
    """Samples in one piece of a sweep: at most PIECE_SAMPLES and PIECE_STEPS kernel
    steps (at least one sample)."""
    steps = setup.steps_per_sample(protocol.sample_interval_s)
    return max(1, min(PIECE_SAMPLES, PIECE_STEPS // steps))


def run_to_file(setup: Rig, protocol: Protocol, path: StrPath, signals: str = "basic",
                leak_subtraction: int | None = None, progress: Progress | None = None,
                protect: Iterable[StrPath] = ()) -> int:
    """Run a protocol on a Rig and write the recording to path (.csv, .npz, .abf,
    .nwb), complete or not at all; returns the number of samples per signal.

    signals: 'basic' (Vm, Im, the command, and Im_raw with P/N) or 'all';
    progress: optional callable(simulated s done, total s, sweep, sweeps);
    protect: files the output must not overwrite (the protocol file).
    """
    if signals not in ("basic", "all"):
        raise VrigError(f"signals must be 'basic' or 'all', got {signals!r}")
    path = check_output_path(path, protect)
    clear_stale_parts(path.parent)
    try:
        fd, journal_name = tempfile.mkstemp(
            dir=path.parent, suffix=".part",
            prefix=f".{path.name[:NAME_PREFIX_CHARS]}.vrig-{os.getpid()}-")
    except OSError as exc:
        raise VrigError(f"cannot write {path}: {exc.strerror or exc}") from None
    journal = Path(journal_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            names = _record(setup, protocol, handle, path, signals, leak_subtraction, progress)
        with jn.Journal(journal) as source:
            write_recording(source, path, names)
            return source.n_samples
    except OSError as exc:
        raise VrigError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        journal.unlink(missing_ok=True)


def simulated_duration_s(protocol: Protocol, leak_subtraction: int | None = None) -> float:
    """Simulated time (s) a run takes: the protocol's, plus its P/N sub-sweeps (each as
    long as its sweep, after a baseline) and their settling (the progress line's 100%)."""
    total_s = total_duration_s(protocol)
    pn = leak_setting(protocol, leak_subtraction)
    if pn:
        sweeps_s = sum(protocol.sweep_samples(k) for k in range(protocol.sweeps)) \
            * protocol.sample_interval_s
        total_s += pn.subsweeps * (sweeps_s + protocol.sweeps * PN_BASELINE_S) \
            + protocol.sweeps * 2 * PN_SETTLE_S
    return total_s


def _record(setup: Rig, protocol: Protocol, handle: BinaryIO, path: Path, signals: str,
            leak_subtraction: int | None, progress: Progress | None) -> list[str]:
    """Simulate the protocol into an open journal file; returns the signal names."""
    total_s = simulated_duration_s(protocol, leak_subtraction)
    done_s = 0.0
    names: list[str] | None = None
    for piece in protocol_pieces(setup, protocol, leak_subtraction,
                                 piece_samples(setup, protocol)):
        done_s += piece.simulated_s
        if piece.kind == "sweep":
            if names is None:
                available = list(piece.signals)
                names = available if signals == "all" else basic_signals(available)
                units, metadata = recording_info(setup, protocol, leak_subtraction)
                handle.write(jn.encode_header(names, units, protocol.sample_interval_s,
                                              "episodic", metadata, path.name, "<f8"))
            frames = np.empty((piece.signals[names[0]].size, len(names)), dtype="<f8")
            for c, name in enumerate(names):
                frames[:, c] = piece.signals[name]
            handle.write(jn.data_head(piece.sweep, piece.first_sample, frames))
            handle.write(frames.data.cast("B"))
        if progress is not None:
            progress(done_s, total_s, piece.sweep, protocol.sweeps)
    return names or []
