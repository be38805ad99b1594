"""Writing output files safely: checks before any work, and a file that appears
complete or not at all.

* :func:`check_target` refuses what would surprise a user before anything runs: a
  missing folder, a folder as target, a name too long for the file system, a target
  that is not a regular file (a FIFO, a device), a read-only file (it is not replaced:
  make it writable or choose another name) and a file that must be protected (the
  protocol being run).
* :func:`atomic_output` gives a temporary path beside the target and renames it over
  the target when the block succeeds; on any failure (or an interrupt, or SIGTERM in
  the command line) the temporary file is removed and the target is untouched.
  Temporary files are hidden and named ``.<name>.vrig-<pid>-<random>.part``; a kill -9
  can still leave one, so each new write removes those of its folder whose process no
  longer runs.
"""

import os
import re
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from rig.errors import VrigError

StrPath = str | os.PathLike[str]  # a path given as text or as a Path

TEMP_PATTERN = re.compile(r"^\..*\.vrig-(\d+)-[A-Za-z0-9_]+\.part$")
NAME_PREFIX_CHARS = 60  # of the target's name in a temporary name (room for the rest)


def name_limit(folder: StrPath) -> int:
    """Longest file name (bytes) the file system of a folder accepts."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def check_target(path: StrPath, protect: Iterable[StrPath] = ()) -> None:
    """Raise VrigError if a file cannot or should not be written at path.

    protect: paths that must not be overwritten (e.g. the protocol being run)."""
    path = Path(path)
    folder = path.parent
    try:
        if not folder.is_dir():
            raise VrigError(f"cannot write {path}: {_missing_folder(folder)}")
        size = len(os.fsencode(path.name))
        limit = name_limit(folder)
        if size > limit:
            raise VrigError(f"cannot write {path.name[:40]}...: the file name is {size} bytes "
                            f"long and this file system allows {limit}; choose a shorter name")
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(info.st_mode):
            raise VrigError(f"cannot write {path}: it is a folder")
        if not stat.S_ISREG(info.st_mode):
            raise VrigError(f"cannot write {path}: it exists and is not a regular file "
                            "(a device, a pipe or a socket); choose another name")
        if not info.st_mode & stat.S_IWUSR:
            raise VrigError(f"{path} exists and is read-only, so it is not replaced; make it "
                            "writable (chmod u+w) or choose another name")
        for other in protect:
            if os.path.exists(other) and os.path.samefile(path, other):
                raise VrigError(f"refusing to write the output over {other}, the file it "
                                "is made from; choose another output name")
    except OSError as exc:
        raise VrigError(f"cannot write {path}: {exc.strerror or exc}") from None


def _missing_folder(folder: Path) -> str:
    """Why folder cannot hold a file: it does not exist, or it (or a folder above it)
    is a file, not a folder."""
    in_the_way = file_in_the_way(folder)
    if in_the_way is not None:
        return f"{in_the_way} is a file, not a folder; choose a folder for the output"
    return f"folder {folder} does not exist"


def file_in_the_way(folder: StrPath) -> Path | None:
    """The nearest existing path at or above folder if it is not a folder (a file, a
    device), which no folder can be created under; else None."""
    for part in (Path(folder), *Path(folder).parents):
        try:
            info = os.stat(part)
        except OSError:
            continue
        return None if stat.S_ISDIR(info.st_mode) else part
    return None


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def clear_stale_parts(folder: StrPath) -> list[str]:
    """Remove temporary files of ours in folder whose writing process has died;
    returns their names."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = TEMP_PATTERN.match(entry.name)
        if match and not _pid_alive(int(match.group(1))):
            try:
                os.unlink(entry.path)
                removed.append(entry.name)
            except OSError:
                pass
    return removed


@contextmanager
def atomic_output(path: StrPath) -> Iterator[Path]:
    """Context manager yielding a temporary Path beside path (an empty file); when the
    block ends without an exception it is renamed over path with ordinary permissions.
    Any failure removes it; OSErrors become VrigErrors naming the target."""
    path = Path(path)
    clear_stale_parts(path.parent)
    prefix = f".{path.name[:NAME_PREFIX_CHARS]}.vrig-{os.getpid()}-"
    try:
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".part")
        os.close(fd)
    except OSError as exc:
        raise VrigError(f"cannot write {path}: {exc.strerror or exc}") from None
    temp = Path(temp_name)
    done = False
    try:
        yield temp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
        done = True
    except OSError as exc:
        raise VrigError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if not done:
            temp.unlink(missing_ok=True)


def open_for_writing(path: StrPath) -> BinaryIO:
    """The binary file object the writers write through (tests replace it to
    simulate a full disk)."""
    return open(path, "wb")
