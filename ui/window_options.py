"""What `vrig` was asked to open the window with (`--cell`, `--protocol`, `--speed`,
`--record`), checked before any window appears, so that a prepared desktop shortcut
with a typo fails with one `vrig: error:` line instead of a half-started window."""

from dataclasses import dataclass
from pathlib import Path

from rig.model.cell import scan_cells
from rig.errors import VrigError
from rig.protocols.protocol import load_protocol
from rig.files.formats import check_output_path


@dataclass(frozen=True)
class WindowOptions:
    """cell: a cell preset name; protocol: a shipped protocol's name or a .json path;
    speed: x real time (None = as fast as possible); record: the file to record to.
    None means "as saved from the last session"."""

    cell: str | None = None
    protocol: str | None = None
    speed: float | None | str = None
    record: Path | None = None

    @classmethod
    def from_args(cls, args):
        """Validate the window's command-line options (an argparse Namespace)."""
        cell = getattr(args, "cell", None)
        if cell is not None:
            usable, problems = scan_cells()
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
        return cls(cell, protocol, speed, record)
