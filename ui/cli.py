"""The ``vrig`` console script: the headless commands of :mod:`rig.cli.main` plus the
window, ``vrig screenshot`` and the window's part of ``vrig bench``. Qt is imported
only when one of those actually runs."""

import ctypes.util
import os
import sys

from rig.cli import main as rig_cli
from rig.errors import VrigError
from rig.resources import option_number, printable
from ui.window.window_options import LARGE_TEXT_SCALE, THEME_NAMES

QT_XCB_PACKAGES = ("libegl1 libgl1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 "
                   "libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0")


def check_display(environ=os.environ, platform=sys.platform, find_library=ctypes.util.find_library):
    """Raise VrigError with the fix when Qt could not open a window here (Qt itself
    would abort the interpreter instead of raising)."""
    if not platform.startswith("linux") or environ.get("QT_QPA_PLATFORM"):
        return
    if not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")):
        raise VrigError("no display to open the window on (DISPLAY is not set); run vrig "
                        "in a desktop session, or render it with `vrig screenshot OUT.png`")
    display = environ.get("DISPLAY", "")
    if display.startswith(":") and not environ.get("WAYLAND_DISPLAY"):
        socket = f"/tmp/.X11-unix/X{display[1:].split('.')[0]}"
        if not os.path.exists(socket):
            raise VrigError(f"cannot reach the X display {display} (no {socket}); start the "
                            "X server or set DISPLAY to a running one")
    if not environ.get("WAYLAND_DISPLAY") and find_library("xcb-cursor") is None:
        raise VrigError(f"Qt needs system libraries for X11 windows; install them with: "
                        f"sudo apt-get install {QT_XCB_PACKAGES}")


SPEED_CHOICES = ("0.1", "0.25", "1", "2", "10", "max")


def _open_window(args):
    from ui.window.window_options import WindowOptions

    options = WindowOptions.from_args(args)
    if args.kiosk:  # large type for a projector or a kiosk screen
        options = WindowOptions(options.cell, options.protocol, options.speed, None,
                                options.theme, True)
    check_display()
    if args.kiosk:
        from ui.kiosk import run_kiosk

        return run_kiosk(options, args.kiosk_log)
    from ui.app import main as window_main

    return window_main(options)


def _extend(parser, sub):
    window = parser.add_argument_group("the window (no command)")
    window.add_argument("--cell", help="start with this cell preset (see `vrig list cells`)")
    window.add_argument("--protocol", help="load this shipped protocol or .json, ready to run")
    window.add_argument("--speed", choices=SPEED_CHOICES,
                        help="simulation speed (x real time; max for protocols)")
    window.add_argument("--record", metavar="FILE",
                        help="start recording to FILE (.abf, .nwb, .npz or .csv) at once")
    window.add_argument("--kiosk", action="store_true",
                        help="demo station: full screen, large type, a loop of narrated "
                             "demonstrations that a touch pauses; errors go to a log")
    window.add_argument("--kiosk-log", metavar="FILE",
                        help="the kiosk's error log (default: vrig-kiosk.log in the "
                             "application data folder)")
    _look_options(window)
    shot = sub.add_parser("screenshot", help="render the rig window to a PNG after running")
    shot.add_argument("output", help="the .png to write")
    shot.add_argument("--protocol", help="a shipped protocol's name or a .json to run")
    shot.add_argument("--seconds", default="2",
                      help="seconds to run before the picture (default 2)")
    shot.add_argument("--size", default="1280x800", help="window size WxH (default 1280x800)")
    shot.add_argument("--holding-pa", default=None,
                      help="CC holding current in pA (e.g. 120: repetitive firing)")
    shot.add_argument("--traces", default="", help="optional traces, e.g. INa,IK,m,h,n")
    shot.add_argument("--tab", choices=("scopes", "protocol", "analysis", "axon"),
                      default=None, help="the centre tab in the picture (default scopes; "
                      "axon for a fibre)")
    shot.add_argument("--cell", default=None,
                      help="a cell preset (a fibre, e.g. squid-axon, is stimulated once)")
    shot.add_argument("--bath", choices=("show", "hide"),
                      help="show or hide the Bath & drugs dock (default: by the size)")
    _look_options(shot)
    bench = sub.choices["bench"]
    bench.add_argument("--gui-only", action="store_true", help="only the window's figures")
    bench.add_argument("--no-gui", action="store_true", help="only the engine's figures")


def _look_options(group):
    """--theme and --large-text, for the window and for screenshots."""
    group.add_argument("--theme", choices=THEME_NAMES,
                       help="dark (default) or light: high contrast for projectors")
    group.add_argument("--large-text", action="store_true",
                       help=f"every font {LARGE_TEXT_SCALE:g} times larger (projectors)")


def _screenshot(args):
    from ui.screenshot import HOLDING_PA_LIMIT, MAX_SECONDS, parse_size, render

    # checked as typed, before any conversion (1e400 is not reported as 'inf')
    seconds = option_number(args.seconds, "--seconds", 0.0, MAX_SECONDS, "s")
    holding_pa = None if args.holding_pa is None else option_number(
        args.holding_pa, "--holding-pa", -HOLDING_PA_LIMIT, HOLDING_PA_LIMIT, "pA")
    traces = [t for t in args.traces.split(",") if t]
    out = render(args.output, args.protocol, seconds, parse_size(args.size),
                 holding_pa, traces, look=(args.theme or "dark", args.large_text),
                 bath=args.bath, tab=args.tab, cell=args.cell)
    print(f"wrote {printable(out)}")


def _bench(args):
    if not args.gui_only:
        rig_cli.cmd_bench(args)
    if args.no_gui:
        return
    from ui.bench_window import run_axon_bench, run_patch_bench, run_window_bench

    seconds = 2.0 if args.quick else 5.0
    for name, value, unit in (run_window_bench(seconds=seconds) + run_axon_bench(seconds)
                              + run_patch_bench(seconds)):
        print(f"window_{name}: {value:.4g} {unit}".rstrip(), flush=True)


def main(argv=None):
    """Entry point of ``vrig``: no subcommand opens the rig window."""
    return rig_cli.main(argv, extend=_extend,
                        handlers={None: _open_window, "screenshot": _screenshot,
                                  "bench": _bench})


if __name__ == "__main__":
    sys.exit(main())
