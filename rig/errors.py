"""The one exception type that reaches a user: its message says what was wrong and
what is allowed, so the CLI and the window can show it without a traceback."""


class VrigError(ValueError):
    """A problem with user input, a file or a preset (never a bug in vRig).

    epoch, field: where in a protocol the problem is (0-based epoch index and the
    field name), when it is in an epoch, so an editor can mark the cell.
    """

    def __init__(self, message: str, epoch: int | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.field = field
