"""The recording formats, one writer and one reader per file suffix.

A writer streams the signals ``names`` of a sweep source (see :mod:`rig.files.recording`)
to a path; a reader returns :class:`rig.files.layout.RecordingParts`. Files are written
completely or not at all (:func:`rig.files.output_files.atomic_output`).
"""

import os
import stat
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from rig.errors import VrigError
from rig.files import abf, csv_file, journal, npz, nwb
from rig.files.layout import RecordingParts, StrPath, SweepSource
from rig.files.output_files import atomic_output, check_target

WRITERS: dict[str, Callable[[SweepSource, Sequence[str], Path], None]] = {
    ".abf": abf.write_abf, ".nwb": nwb.write_nwb, ".npz": npz.write_npz,
    ".csv": csv_file.write_csv}
READERS: dict[str, Callable[[StrPath], RecordingParts]] = {
    ".abf": abf.read_abf, ".nwb": nwb.read_nwb, ".npz": npz.read_npz,
    ".csv": csv_file.read_csv}
FORMATS = tuple(WRITERS)


def check_output_path(path: StrPath, protect: Iterable[StrPath] = ()) -> Path:
    """The path as a Path if a recording can be written there, else a VrigError
    (see :func:`rig.files.output_files.check_target`; protect: files not to overwrite)."""
    path = Path(path)
    if path.suffix.lower() not in WRITERS:
        raise VrigError(f"cannot write {path.name[:80]}: the extension must be one of "
                        f"{', '.join(FORMATS)}")
    check_target(path, protect)
    return path


def write_recording(source: SweepSource, path: StrPath, names: Sequence[str]) -> None:
    """Stream the signals `names` of a sweep source (a Recording or a Journal) to a
    .csv, .npz, .abf or .nwb file chosen by the extension; complete or not at all."""
    path = check_output_path(path)
    if not names:
        raise VrigError(f"cannot write {path.name}: no signals chosen")
    with atomic_output(path) as temp:
        WRITERS[path.suffix.lower()](source, names, temp)


def read_parts(path: StrPath) -> RecordingParts:
    """The parts of a recording file (.csv, .npz, .abf, .nwb) or of a recording journal
    (a ``.part`` file), as :class:`rig.files.layout.RecordingParts`."""
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise VrigError(f"recording {path} does not exist") from None
    except OSError as exc:
        raise VrigError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise VrigError(f"cannot read {path}: it is not a regular file")
    if journal.is_journal(path):
        return journal.load_journal(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise VrigError(f"cannot read {path.name}: expected one of {', '.join(FORMATS)} "
                        "or a recording journal (.part)")
    return reader(path)
