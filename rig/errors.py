"""The one exception type that reaches a user: its message says what was wrong and
what is allowed, so the CLI and the window can show it without a traceback."""


class VrigError(ValueError):
    """A problem with user input, a file or a preset (never a bug in vRig)."""
