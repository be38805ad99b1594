"""Reading a small JSON file with errors that name the file and the line."""

import json
from pathlib import Path
from typing import Any

from rig.errors import VrigError
from rig.resources import printable

MAX_BYTES = 1_000_000  # an exercise is a few hundred bytes; refuse anything huge


def read_json(path: str | Path, what: str) -> tuple[dict[str, Any], str]:
    """(the top-level object, the text) of a JSON file; what: 'exercise', ... for messages.
    Raises VrigError 'FILE: line N: ...' for a file that cannot be read or parsed."""
    name = printable(str(path))
    try:
        data = Path(path).read_bytes()[:MAX_BYTES + 1]
    except OSError as exc:
        raise VrigError(f"{name}: cannot read the {what} file: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise VrigError(f"{name}: too large for an {what} file (over {MAX_BYTES} bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise VrigError(f"{name}: line {line}: not UTF-8 text; is this an {what} file?") from None
    return parse_json(text, name, what)


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
