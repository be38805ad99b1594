"""Reading a small text or JSON file (an exercise, a lesson) with errors that name the
file and the line."""

import json
from pathlib import Path
from typing import Any

from rig.errors import VrigError
from rig.resources import printable

MAX_BYTES = 1_000_000  # an exercise is a few hundred bytes; refuse anything huge


def read_text(path: str | Path, what: str, max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of a file of at most max_bytes; what: 'exercise file', 'lesson', ...
    for messages. Raises VrigError 'FILE: line N: ...' when it cannot be read."""
    name = printable(str(path))
    try:
        data = Path(path).read_bytes()[:max_bytes + 1]
    except OSError as exc:
        raise VrigError(f"{name}: cannot read the {what}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise VrigError(f"{name}: line 1: too large for a {what} (over {max_bytes} bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise VrigError(f"{name}: line {line}: not UTF-8 text; is this a {what}?") from None


def read_json(path: str | Path, what: str) -> tuple[dict[str, Any], str]:
    """(the top-level object, the text) of a JSON file; what: 'exercise', ... for messages.
    Raises VrigError 'FILE: line N: ...' for a file that cannot be read or parsed."""
    return parse_json(read_text(path, f"{what} file"), printable(str(path)), what)


def parse_json(text: str, name: str, what: str) -> tuple[dict[str, Any], str]:
    """(the top-level object, text) of JSON text; name: the file's, for messages."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VrigError(f"{name}: line {exc.lineno}: not valid JSON ({exc.msg}); is this an "
                        f"{what} file?") from None
    except RecursionError:
        raise VrigError(f"{name}: line 1: nested too deeply for an {what} file") from None
    if not isinstance(value, dict):
        raise VrigError(f"{name}: line 1: an {what} file holds a JSON object {{...}}")
    return value, text


def line_of(text: str, key: str) -> int:
    """The line (1-based) where "key": first appears in JSON text, else 1."""
    at = text.find(f'"{key}"')
    return text.count("\n", 0, at) + 1 if at >= 0 else 1
