"""The ``vrig`` console script: the headless commands of :mod:`rig.cli` plus the
window. Qt is imported only when a window is actually opened."""

import sys

from rig import cli as rig_cli


def _open_window(args):
    from ui.app import main as window_main

    return window_main([])


def main(argv=None):
    """Entry point of ``vrig``: no subcommand opens the rig window."""
    return rig_cli.main(argv, handlers={None: _open_window})


if __name__ == "__main__":
    sys.exit(main())
