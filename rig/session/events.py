"""A minimal event: callbacks connected to it are called with each emitted value.

The session's events are emitted on the thread that owns the session (the window's
GUI thread), so no locking is needed and callbacks may touch widgets.
"""

from collections.abc import Callable
from typing import Any

Callback = Callable[[Any], object]


class Event:
    """One kind of change. connect(callback) returns the callback (usable as a
    decorator); emit(value) calls every callback in connection order."""

    __slots__ = ("_callbacks", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callback] = []

    def connect(self, callback: Callback) -> Callback:
        """Call callback(value) on every emit."""
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callback) -> None:
        """Stop calling callback; a callback that is not connected is ignored."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, value: Any) -> None:
        """Call the connected callbacks with value (a copy of the list is walked, so a
        callback may connect or disconnect others)."""
        for callback in tuple(self._callbacks):
            callback(value)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self._callbacks)} callback(s))"
