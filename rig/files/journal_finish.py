"""Turning recording journals into their final files: after a recording (on the
recorder's finisher thread) and after a crash (:func:`recover_journals`, which the
window calls at start on its recording folder).

A journal being written is locked (``flock``) by its writer, so recovery never touches
a live one, even another window's recording into the same folder.
"""

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from rig.errors import VrigError
from rig.files import journal as jn
from rig.files.formats import write_recording
from rig.files.layout import StrPath

fcntl: ModuleType | None
try:  # advisory locks: a journal being written is never "recovered" by another window
    import fcntl
except ImportError:  # pragma: no cover - not on Linux/macOS
    fcntl = None


@dataclass(frozen=True)
class Finished:
    """What became of a journal: path (the final file) or kept (the journal, still on
    disk), samples converted, and a message if something went wrong."""

    journal: Path
    path: Path | None
    kept: Path | None
    samples: int
    message: str = ""


def finish_journal(journal: StrPath) -> Finished:
    """Convert a journal to its final file beside it (named in its header; another
    name of the series if that exists) and remove it. Never raises: a journal that
    cannot be converted is kept, and the message says where."""
    journal = Path(journal)
    try:
        with jn.Journal(journal) as source:
            if source.n_samples == 0:
                source.close()
                journal.unlink(missing_ok=True)
                return Finished(journal, None, None, 0, "")
            target = _free_name(journal.parent / Path(source.target).name)
            write_recording(source, target, source.names)
            samples = source.n_samples
    except VrigError as exc:
        if "holds no samples" in str(exc) or "cut inside its header" in str(exc):
            journal.unlink(missing_ok=True)
            return Finished(journal, None, None, 0, "")
        return Finished(journal, None, journal, 0,
                        f"could not finish {journal.name}: {exc}; the data is safe in "
                        f"{journal} (vRig converts it at its next start)")
    except OSError as exc:
        return Finished(journal, None, journal, 0,
                        f"could not finish {journal.name}: {exc.strerror or exc}; the data "
                        f"is safe in {journal} (vRig converts it at its next start)")
    journal.unlink(missing_ok=True)
    return Finished(journal, target, None, samples)


def _free_name(target: Path) -> Path:
    """target, or target with '-recovered', '-recovered-2', ... if it exists."""
    if not target.exists():
        return target
    k = 1
    while True:
        tag = "-recovered" if k == 1 else f"-recovered-{k}"
        candidate = target.with_name(target.stem + tag + target.suffix)
        if not candidate.exists():
            return candidate
        k += 1


def _in_use(path: Path) -> bool:
    """True if another writer holds the journal's lock (it is being recorded)."""
    if fcntl is None:
        return False
    try:
        with open(path, "rb") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except OSError:
        return True
    return False


def recover_journals(folder: StrPath) -> list[Finished]:
    """Finish the recording journals in a folder that no running recorder holds
    (left by a crash or kill -9); only files with the journal's magic are touched.
    Returns a Finished for each journal found (empty ones are removed)."""
    results: list[Finished] = []
    try:
        candidates = sorted(Path(folder).glob("*" + jn.SUFFIX))
    except OSError:
        return results
    for path in candidates:
        if path.name.startswith(".") or not path.is_file() or not jn.is_journal(path):
            continue
        if _in_use(path):
            continue
        results.append(finish_journal(path))
    return results
