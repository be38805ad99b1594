"""Recording a live stream of chunks to disk, so that nothing recorded is ever lost.

Lifecycle:

1. ``LiveRecorder(path, names_units, metadata)`` checks the target (.csv or .npz) and
   opens a journal beside it, ``<target>.part`` for a .csv target and
   ``<target>.csv.part`` for an .npz one. The journal is a CSV in exactly the layout of
   :meth:`rig.recording.Recording.save` (``# key: value`` metadata, then
   ``sweep,time_ms,Vm_mV,...``), so even a half-written journal loads with
   :func:`rig.recording.load_recording` once renamed to .csv.
2. ``write(chunks)`` appends rows and flushes, so a crash of the window (or of the
   machine, up to the operating system's cache) leaves every chunk written so far on
   disk. Each contiguous stretch -- a stretch of continuous acquisition, or one sweep of
   a protocol -- becomes one recorded sweep, numbered from 0, its time counted from the
   stretch's start. Events (a protocol starting, a mode change) are written as ``#``
   comment lines, which readers skip.
3. ``stop()`` closes the journal and produces the target: a .csv journal is renamed
   over it; for .npz the journal is read back and written as .npz, then removed. If
   that conversion fails the journal stays, and the error says where it is.

The command column keeps the unit of the mode the recording started in (mV in VC, pA
in CC/I=0); samples taken in a clamp mode with another command unit are written as
NaN there, with a comment line saying so, rather than mixing units in one column.
"""

import os
from pathlib import Path

import numpy as np

from rig.errors import VrigError
from rig.recording import (BASIC_SIGNALS, FILE_UNITS, Recording, _load_csv, _one_line,
                           check_output_path)

COMMAND_UNIT = {"VC": "V", "CC": "A", "I0": "A"}


class LiveRecorder:
    """Streams chunks (:class:`rig.commands.Chunk`) to a recording file.

    path: target .csv or .npz; names_units: [(signal name, SI unit)] as from
    :meth:`rig.engine.Rig.signal_names`; mode: clamp mode at the start ('VC', 'CC',
    'I0'); metadata: {key: text} for the header; signals: 'basic' (Vm, Im, command)
    or 'all'.
    """

    def __init__(self, path, names_units, mode, metadata=None, signals="basic"):
        self.path = check_output_path(path)
        units = dict(names_units)
        units["command"] = COMMAND_UNIT[mode]
        if signals == "all":
            names = list(units)
        elif signals == "basic":
            names = [n for n in BASIC_SIGNALS if n in units]
        else:
            raise VrigError(f"signals must be 'basic' or 'all', got {signals!r}")
        self.names = names
        self._units = units
        self._scales = [FILE_UNITS[units[n]][1] for n in names]
        self._command_unit = units["command"]
        suffix = ".part" if self.path.suffix.lower() == ".csv" else ".csv.part"
        self.journal = self.path.with_name(self.path.name + suffix)
        self.samples = 0
        self.sweeps = 0
        self._stretch = None  # (kind, sweep) of the stretch being written
        self._next_sample = 0  # where the present stretch expects its next chunk
        self._stretch_start = 0
        self._mode = mode
        try:
            self._file = open(self.journal, "w", encoding="utf-8", newline="\n")
        except OSError as exc:
            raise VrigError(f"cannot record to {self.journal}: {exc.strerror or exc}") from None
        header = Recording({}, units, np.zeros(0, int), 0.0).column_names(names)
        for key, value in (metadata or {}).items():
            self._file.write(f"# {key}: {_one_line(value)}\n")
        self._file.write(",".join(["sweep", "time_ms"] + header) + "\n")
        self._file.flush()
        self._fmt = ",".join(["%d", "%.5f"] + ["%.7g"] * len(names))

    @property
    def active(self):
        """True until stop() has been called."""
        return self._file is not None

    def note(self, text):
        """Write a comment line (an event) into the journal."""
        if self._file is not None:
            self._file.write(f"# event: {_one_line(text)}\n")

    def write(self, chunks):
        """Append chunks (in the order they were produced) and flush to disk."""
        if self._file is None:
            return
        for chunk in chunks:
            self._write_chunk(chunk)
        self._file.flush()

    def _write_chunk(self, chunk):
        key = (chunk.kind, chunk.sweep)
        # A new stretch starts with a new protocol sweep, a change between continuous
        # and episodic, or a gap in the sample numbering (acquisition was stopped).
        if key != self._stretch or chunk.first_sample != self._next_sample:
            if self._stretch is not None:
                self.sweeps += 1
            self._stretch = key
            self._stretch_start = chunk.first_sample
        if chunk.mode != self._mode:
            self._mode = chunk.mode
            self.note(f"mode {chunk.mode}")
        n = chunk.n_samples
        self._next_sample = chunk.first_sample + n
        t_ms = ((chunk.first_sample - self._stretch_start + np.arange(n))
                * chunk.sample_interval_s * 1e3)
        columns = [np.full(n, self.sweeps), t_ms]
        for name, scale in zip(self.names, self._scales):
            if name == "command" and COMMAND_UNIT[chunk.mode] != self._command_unit:
                columns.append(np.full(n, np.nan))
            else:
                columns.append(np.asarray(chunk.signals[name], dtype=float) * scale)
        np.savetxt(self._file, np.column_stack(columns), fmt=self._fmt)
        self.samples += n

    def stop(self):
        """Close the journal and produce the target file; returns its Path.

        Safe to call twice. Raises VrigError (naming the journal, which is kept) if
        the target cannot be written.
        """
        if self._file is None:
            return self.path
        self._file.close()
        self._file = None
        try:
            if self.path.suffix.lower() == ".csv":
                os.replace(self.journal, self.path)
            else:
                _load_csv(self.journal).save(self.path, signals="all")
                self.journal.unlink()
        except (OSError, VrigError) as exc:
            raise VrigError(f"could not write {self.path} ({exc}); the data recorded so "
                            f"far is in {self.journal}") from None
        return self.path


def default_path(folder, stamp, extension=".csv"):
    """A recording path in a folder from a time stamp ('20240131-142501'), not
    overwriting an existing file."""
    folder = Path(folder)
    candidate = folder / f"vrig-{stamp}{extension}"
    k = 1
    while candidate.exists() or Path(str(candidate) + ".part").exists():
        candidate = folder / f"vrig-{stamp}-{k}{extension}"
        k += 1
    return candidate

