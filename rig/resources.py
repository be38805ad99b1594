"""Finding and reading the shipped presets in ``resources/`` (data, not code)."""

import json
import math
from pathlib import Path

from rig.errors import VrigError

MAX_PRESET_BYTES = 1_000_000


def resources_dir():
    """The ``resources/`` folder beside the ``rig`` package."""
    return Path(__file__).resolve().parent.parent / "resources"


def preset_names(kind):
    """Sorted names of the presets of a kind ('cells', 'solutions', 'protocols', ...)."""
    return sorted(p.stem for p in (resources_dir() / kind).glob("*.json"))


def read_json(path, what):
    """Parse a JSON file, turning every failure into a VrigError naming the file."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_PRESET_BYTES:
            raise VrigError(f"{what} file {path} is larger than {MAX_PRESET_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise VrigError(f"{what} file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise VrigError(f"cannot read {what} file {path}: {exc}") from None
    return parse_json(text, f"{what} file {path}")


def parse_json(text, source):
    """Parse JSON text; any failure (syntax, NaN/Infinity, absurd numbers, nesting)
    becomes a VrigError naming the source."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise VrigError(f"{source} is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or an integer of over 4300 digits
        if isinstance(exc, VrigError):
            raise
        raise VrigError(f"{source} is not valid JSON: {exc}") from None


def _reject_constant(name):
    raise VrigError(f"{name} is not allowed in a vRig file; use a finite number")


def load_preset(kind, name):
    """The parsed JSON of a shipped preset, or a VrigError listing what exists."""
    names = preset_names(kind)
    if name not in names:
        raise VrigError(
            f"unknown {kind[:-1]} preset {name!r}; available: {', '.join(names)}"
        )
    return read_json(resources_dir() / kind / f"{name}.json", kind[:-1])


def number(data, key, what, low=-math.inf, high=math.inf, default=None):
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
