"""What `vrig` was asked to open the window with (`--cell`, `--protocol`, `--speed`, `--record`,
`--theme`, `--large-text`), checked before any window appears, so that a prepared desktop shortcut
with a typo fails with one `vrig: error:` line instead of a half-started window."""

from dataclasses import dataclass
from pathlib import Path

from rig.errors import VrigError
from rig.files.formats import check_output_path
from rig.model.cell import scan_cells
from rig.protocols.protocol import load_protocol

# ui.look.theme_palettes' THEMES and LARGE_TEXT_SCALE, named here without importing Qt (the
# command line checks its options before Qt loads); a test keeps them equal.
THEME_NAMES = ("dark", "light")
LARGE_TEXT_SCALE = 1.4


@dataclass(frozen=True)
class WindowOptions:
    """cell: a cell preset name; protocol: a shipped protocol's name or a .json path;
    speed: x real time (None = as fast as possible); record: the file to record to;
    theme: 'dark' or 'light'; large_text: True for large text.
    None means "as saved from the last session"."""

    cell: str | None = None
    protocol: str | None = None
    speed: float | str | None = None
    record: Path | None = None
    theme: str | None = None
    large_text: bool | None = None

    @classmethod
    def from_args(cls, args):
        """Validate the window's command-line options (an argparse Namespace)."""
        cell = getattr(args, "cell", None)
        if cell is not None:
            usable, problems = scan_cells()  # patches and fibres (the Axon tab shows these)
            if cell not in usable:
                broken = [problem for path, problem in problems if Path(path).stem == cell]
                raise VrigError(f"--cell {cell!r}: " + (broken[0] if broken else
                                "unknown cell") + f"; usable cells: {', '.join(usable)}")
        protocol = getattr(args, "protocol", None)
        if protocol is not None:
            load_protocol(protocol)  # a bad protocol is reported now, not in the window
        speed = getattr(args, "speed", None)
        if speed is not None:
            speed = "max" if speed == "max" else float(speed)
        record = getattr(args, "record", None)
        if record is not None:
            record = check_output_path(record)
        theme = check_theme(getattr(args, "theme", None))
        large_text = True if getattr(args, "large_text", False) else None
        return cls(cell, protocol, speed, record, theme, large_text)


def check_theme(name):
    """A --theme value: None or one of THEME_NAMES; VrigError otherwise."""
    if name is not None and name not in THEME_NAMES:
        raise VrigError(f"--theme {name!r}: use one of {', '.join(THEME_NAMES)}")
    return name
