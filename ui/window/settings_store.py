"""Reading the window's saved settings safely.

The settings file (QSettings) is written by vRig but can be edited by hand, copied
between machines or corrupted. Every value read back goes through one of the typed
readers here: a value of the wrong type, out of range, not finite, too large or too
deeply nested is dropped with one log line naming the key, and the caller gets its
default, so the window always starts.
"""

import json
import logging
import math

from PySide6.QtCore import QByteArray

log = logging.getLogger("vrig.settings")

MAX_TEXT = 4096  # characters in one saved text value
MAX_BYTES = 1_000_000  # bytes in a saved binary value (window geometry and state)
MAX_JSON_DEPTH = 8


class SavedSettings:
    """Typed, validated reads from a QSettings."""

    def __init__(self, qsettings):
        self.qsettings = qsettings

    def _raw(self, key):
        return self.qsettings.value(key)

    def drop(self, key, value, why):
        """Log that a saved value is ignored (for checks made after reading it)."""
        log.warning("settings: ignoring %s=%.60r (%s)", key, value, why)

    def number(self, key, low, high, default=None):
        """A finite float within [low, high], or default."""
        value = self._raw(key)
        if value is None:
            return default
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.drop(key, value, "not a number")
            return default
        if not math.isfinite(number) or not low <= number <= high:
            self.drop(key, value, f"must be a finite number from {low:g} to {high:g}")
            return default
        return number

    def choice(self, key, choices, default):
        """One of the allowed text values, or default."""
        value = self._raw(key)
        if value is None:
            return default
        if not isinstance(value, str) or value not in choices:
            self.drop(key, value, f"must be one of {', '.join(map(str, choices))}")
            return default
        return value

    def text(self, key, default=""):
        """A text value of at most MAX_TEXT characters, or default."""
        value = self._raw(key)
        if value is None:
            return default
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            self.drop(key, value, "must be a single text value")
            return default
        return value

    def names(self, key):
        """A comma-separated list of names (Qt reads 'a,b' back as a list)."""
        value = self._raw(key)
        if value is None or value == "":
            return []
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not all(
                isinstance(item, str) and len(item) <= 100 for item in items):
            self.drop(key, value, "must be a list of names")
            return []
        return [item.strip() for item in items if item.strip()]

    def blob(self, key):
        """A QByteArray written by saveGeometry/saveState, or None."""
        value = self._raw(key)
        if value is None:
            return None
        if not isinstance(value, QByteArray) or value.size() > MAX_BYTES:
            self.drop(key, value, "not a saved window layout")
            return None
        return value

    def json_object(self, key):
        """A JSON object (dict) of modest size and nesting, or None."""
        value = self._raw(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str) or len(value) > MAX_BYTES:
            self.drop(key, value, "not a JSON text")
            return None
        try:
            data = json.loads(value)
        except (ValueError, RecursionError):
            self.drop(key, value, "not valid JSON")
            return None
        if not isinstance(data, dict) or _depth(data) > MAX_JSON_DEPTH:
            self.drop(key, value, f"not a JSON object nested at most {MAX_JSON_DEPTH} deep")
            return None
        return data


def _depth(data):
    """Nesting depth of parsed JSON (a scalar is 0), without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest
