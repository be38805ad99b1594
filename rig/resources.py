"""Finding and reading the shipped presets in ``resources/`` (data, not code)."""

import importlib.util
import json
import math
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from rig.errors import VrigError

MAX_PRESET_BYTES = 1_000_000


def resources_dir() -> Path:
    """The folder of the shipped presets: the package data ``rig.presets`` of an
    installed vRig (the project's ``resources/`` folder, mapped by pyproject.toml), or
    ``resources/`` beside the ``rig`` package in a source tree that is not installed."""
    # rig.presets is a folder of data without an __init__.py (a namespace package):
    # its spec names the folder.
    spec = importlib.util.find_spec("rig.presets")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parent.parent / "resources"


def preset_names(kind: str) -> list[str]:
    """Sorted names of the presets of a kind ('cells', 'solutions', 'protocols', ...)."""
    return sorted(p.stem for p in (resources_dir() / kind).glob("*.json"))


def read_json(path: str | os.PathLike[str], what: str,
              max_bytes: int = MAX_PRESET_BYTES) -> Any:
    """Parse a JSON file, turning every failure into a VrigError naming the file.

    Only a regular file is read (a FIFO, a device such as /dev/zero or a symlink to
    one is refused before reading), and at most max_bytes of it. A leading UTF-8 byte
    order mark (as Windows editors write) is skipped: it is not part of the JSON."""
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise VrigError(f"{what} file {shown_path(path)} does not exist") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        raise VrigError(f"cannot read {what} file {shown_path(path)}: "
                        f"{getattr(exc, 'strerror', None) or exc}") from None
    try:
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise VrigError(f"{what} file {shown_path(path)} is not a regular file (a "
                                "folder, a pipe or a device); give a .json file")
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise VrigError(f"cannot read {what} file {shown_path(path)}: "
                        f"{exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise VrigError(f"{what} file {shown_path(path)} is larger than {max_bytes} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise VrigError(f"{what} file {shown_path(path)} is not UTF-8 text: {exc.reason} "
                        f"at byte {exc.start}") from None
    return parse_json(text, f"{what} file {shown_path(path)}")


def shown_path(path: object, limit: int = 120) -> str:
    """A path for a message: escaped as by :func:`printable`, a very long one shortened."""
    text = printable(str(path))
    return text if len(text) <= limit else text[: limit // 2] + "..." + text[-limit // 2:]


def printable(text: object) -> str:
    """Text safe to print on one line of a terminal: control characters, line
    separators and lone surrogates are shown as escapes (\\n, \\x1b, \\udcff)."""
    out = []
    for ch in str(text):
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        elif code < 32 or code == 127 or 0x80 <= code < 0xA0 or code in (0x2028, 0x2029):
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def parse_json(text: str, source: str) -> Any:
    """Parse JSON text; any failure (syntax, NaN/Infinity, absurd numbers, nesting,
    duplicate keys, text that is not valid Unicode) becomes a VrigError naming the
    source and, where there is one, the key."""
    try:
        return json.loads(text, parse_constant=_reject_constant,
                          object_pairs_hook=lambda pairs: _object(pairs, source))
    except RecursionError:
        raise VrigError(f"{source} is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or an integer of over 4300 digits
        if isinstance(exc, VrigError):
            raise
        raise VrigError(f"{source} is not valid JSON: {exc}") from None


def _object(pairs: list[tuple[str, Any]], source: str) -> dict[str, Any]:
    """A JSON object as a dict, refusing duplicate keys and lone surrogates."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if not valid_text(key):
            raise VrigError(f"{source}: a key ({printable(key)[:40]}) is not valid Unicode "
                            "(a lone surrogate); fix the file")
        if key in result:
            raise VrigError(f"{source}: key {printable(key)[:40]!r} appears twice; keep one",
                            field=key)
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, str) and not valid_text(item):
                raise VrigError(f"{source}: field {printable(key)[:40]!r} is not valid Unicode "
                                f"text ({printable(item)[:40]}: a lone surrogate)", field=key)
            if isinstance(item, list):
                stack.extend(item)
        result[key] = value
    return result


def valid_text(text: str) -> bool:
    """True if text is valid Unicode (no lone surrogates), so it can be written out."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _reject_constant(name: str) -> NoReturn:
    raise VrigError(f"{name} is not allowed in a vRig file; use a finite number")


def load_preset(kind: str, name: str) -> Any:
    """The parsed JSON of a shipped preset, or a VrigError listing what exists."""
    names = preset_names(kind)
    if name not in names:
        raise VrigError(
            f"unknown {kind[:-1]} preset {printable(name)[:80]!r}; available: {', '.join(names)}"
        )
    return read_json(resources_dir() / kind / f"{name}.json", kind[:-1])


def option_number(text: str, option: str, low: float = -math.inf, high: float = math.inf,
                  unit: str = "", bypass: float | None = None) -> float:
    """The number typed for a command-line option, checked in the option's own unit
    (so that a value too large for SI, 1e308 kHz, is reported as typed): finite and
    within low..high, or exactly bypass (e.g. 0 for no filter) when given."""
    try:
        value = float(text)
    except ValueError:
        raise VrigError(f"{option} {printable(text)!r} is not a valid number") from None
    if value == bypass or (math.isfinite(value) and low <= value <= high):
        return value
    if math.isinf(low) and math.isinf(high):
        raise VrigError(f"{option} {printable(text)} is not a finite number")
    also = f" (or {bypass:g} for none)" if bypass is not None else ""
    raise VrigError(f"{option} {printable(text)} is outside the allowed {low:g} to {high:g} "
                    f"{unit}".rstrip() + also)


def number(data: Mapping[str, Any], key: str, what: str, low: float = -math.inf,
           high: float = math.inf, default: float | None = None) -> float:
    """A finite float from a dict, within [low, high], or a VrigError naming the field."""
    if key not in data:
        if default is not None:
            return float(default)
        raise VrigError(f"{what}: missing field {key!r}", field=key)
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise VrigError(f"{what}: {key} must be a number, got {value!r:.40}", field=key)
    try:
        value = float(value)
    except OverflowError:
        raise VrigError(f"{what}: {key} is an absurdly large number", field=key) from None
    if math.isnan(value) or not low <= value <= high or (math.isinf(value) and value != high):
        raise VrigError(f"{what}: {key} = {data[key]!r} is outside the allowed {low:g} to {high:g}",
                        field=key)
    return value
