"""The headless part of the ``vrig`` command: a thin shell over the Python API.

The console script is :func:`ui.cli.main`, which adds the window and the screenshot
to the commands here (so that this package never imports Qt). Errors in what the
user gave (files, names, values) print one line on stderr and exit with status 2;
they never show a traceback. Text from the user (names, paths) is printed with control
characters escaped, so a message is always one line.

``vrig run`` streams the run into its output (bounded memory), writes it completely or
not at all, shows progress on a terminal for runs longer than a few seconds, and on
SIGTERM or SIGHUP removes its temporary files and exits with 128 + the signal number.
"""

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from rig import resources, units
from rig.analysis.report import add_parser as add_analyze_parser
from rig.analysis.report import cmd_analyze
from rig.cli.dynamics_cli import (
    add_bifurcation_parser,
    add_sweep_parser,
    cmd_bifurcation,
    cmd_sweep,
)
from rig.cli.exercise import add_parser as add_exercise_parser
from rig.cli.exercise import cmd_exercise
from rig.cli.ljp import add_parser as add_ljp_parser
from rig.cli.ljp import cmd_ljp
from rig.cli.rig_from_args import apply_run_options, build_rig, parse_number
from rig.errors import VrigError
from rig.files.formats import check_output_path
from rig.model import limits
from rig.resources import option_number, printable
from rig.version import __version__

if TYPE_CHECKING:  # loaded by the commands that simulate, not by `vrig list`
    from rig.simulation.engine import Rig

EXIT_USAGE = 2
PROGRESS_AFTER_S = 2.0  # runs shorter than this print no progress
PROGRESS_EVERY_S = 0.25


class Terminated(BaseException):
    """A termination signal arrived (raised in the main thread, so that every
    temporary file is removed on the way out)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def terminate_cleanly() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` for the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise Terminated(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class TerminalProgress:
    """A progress line on a terminal (stderr), shown once a run has taken
    PROGRESS_AFTER_S of wall time, and erased at the end.

    label: what runs; clock: s (injected in tests)."""

    def __init__(self, stream: TextIO, label: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.label = printable(label)[:60]
        self.clock = clock
        self.start = clock()
        self.last: float | None = None
        self.shown = False

    def __call__(self, done_s: float, total_s: float, sweep: int, sweeps: int) -> None:
        now = self.clock()
        if now - self.start < PROGRESS_AFTER_S or (self.last is not None
                                                    and now - self.last < PROGRESS_EVERY_S):
            return
        self.last = now
        fraction = min(done_s / total_s, 1.0) if total_s > 0 else 0.0
        elapsed = int(now - self.start)
        self.stream.write(f"\rvrig: {self.label}: sweep {sweep + 1} of {sweeps}, "
                          f"{100 * fraction:.0f}% of {total_s:.4g} s simulated, "
                          f"{elapsed // 60}:{elapsed % 60:02d} elapsed\x1b[K")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        """Erase the line (if one was shown)."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise VrigError(message)


def _on_off(text: str) -> bool:
    if text not in ("on", "off"):
        raise VrigError(f"expected on or off, got {text!r}")
    return text == "on"


def add_cell_options(parser: argparse.ArgumentParser) -> None:
    """--cell, --temperature, --bath, --pipette, --ion, --seed, --dt-us."""
    parser.add_argument("--cell", default="hh-squid", help="cell preset (default hh-squid)")
    parser.add_argument("--temperature", help="degC (default: the cell's)")
    parser.add_argument("--bath", help="bath solution preset (default: the cell's)")
    parser.add_argument("--pipette", help="pipette solution preset (default: the cell's)")
    parser.add_argument("--ion", action="append", default=[], metavar="SIDE:ION=MM",
                        help="override one concentration, e.g. out:Na=44 or in:K=140 (repeatable)")
    parser.add_argument("--seed", default="0", help="random seed (default 0)")
    parser.add_argument("--dt-us", default="10", help="largest time step in us (default 10)")
    parser.add_argument("--stochastic", type=_on_off, default=None, metavar="on|off",
                        help="every channel a random molecule (default: on for patches, "
                             "off for whole cells)")
    parser.add_argument("--channels", metavar="N|LABEL=N[,...]", default=None,
                        help="channels counted one by one, e.g. 50 (a patch with one kind) "
                             "or Na=600,K=180")
    parser.add_argument("--patch-config", default=None,
                        metavar="cell-attached|inside-out|outside-out",
                        help="a patch's recording configuration (default: the preset's); "
                             "cell-attached and inside-out hold the pipette at -Vm and "
                             "show inward currents upward, as an Axopatch does")


def add_amplifier_options(parser: argparse.ArgumentParser) -> None:
    """The amplifier settings shared by `run` and `membrane-test`."""
    parser.add_argument("--rs", metavar="MOHM", help="access (series) resistance in MOhm; "
                        "0 = ideal clamp (default: the cell's)")
    parser.add_argument("--rs-comp", metavar="PCT", default="0",
                        help="Rs compensation, prediction and correction in %% (0-98); "
                             "turns pipette and whole-cell capacitance compensation on "
                             "first, as on the amplifier")
    parser.add_argument("--cm-comp", type=_on_off, default=False, metavar="on|off",
                        help="pipette and whole-cell capacitance compensation (default off)")
    parser.add_argument("--filter-khz", metavar="F", default="0",
                        help="4-pole Bessel low-pass corner in kHz (0 = bypass, default)")
    parser.add_argument("--noise", type=_on_off, default=False, metavar="on|off",
                        help="instrument noise (default off)")
    parser.add_argument("--hum", choices=["off", "50", "60"], default="off",
                        help="mains hum (default off)")
    parser.add_argument("--digitizer", type=_on_off, default=False, metavar="on|off",
                        help="16-bit digitiser with a finite range (default off)")
    parser.add_argument("--gain", default="1", help="output gain (1, 2, 5, 10, ... 500)")
    parser.add_argument("--ljp-correction", type=_on_off, default=True, metavar="on|off",
                        help="subtract the liquid junction potential (see `vrig ljp`) that "
                             "the pipette offset left as an error in whole-cell (default "
                             "on: Vm is the true potential; off: Vm reads that much high)")


def build_parser() -> tuple[argparse.ArgumentParser, "argparse._SubParsersAction[Any]"]:
    """The argument parser and its subparsers for the headless subcommands."""
    parser = _Parser(prog="vrig", description="vRig, a virtual electrophysiology rig. "
                     "Without a command, opens the rig window.")
    parser.add_argument("--version", action="version", version=f"vrig {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    run = sub.add_parser("run", help="run a protocol headless and write a recording")
    run.add_argument("protocol", help="a protocol file (.json) or a shipped protocol's name")
    run.add_argument("-o", "--output", required=True,
                     help="output file: .csv, .npz, .abf or .nwb; or .wav: Vm as the "
                          "amplifier's audio monitor, each spike a click")
    add_cell_options(run)
    add_amplifier_options(run)
    run.add_argument("--leak-sub", metavar="N", default=None,
                     help="P/N leak subtraction with N sub-sweeps (VC); Im_pA is then the "
                          "subtracted current and Im_raw_pA the raw one")
    run.add_argument("--drug", action="append", default=[], metavar="[in:]NAME=CONC",
                     help="a drug at steady state from the start, e.g. TTX=300nM, TEA=10mM, "
                          "in:Cs=120mM for the pipette, TTX=1uM@40:50mm on a stretch of a "
                          "fibre (repeatable; see `vrig list drugs`)")
    run.add_argument("--signals", choices=["basic", "all"], default="basic",
                     help="'all' adds each channel's current and the gates")
    run.add_argument("--stim-at", metavar="MM", default=None,
                     help="on a fibre: where the amplifier's electrode sits, in mm from "
                          "the first end (default 0)")
    run.add_argument("--record-at", metavar="MM[,MM...]", default=None,
                     help="on a fibre: recording sites in mm; each adds a Vm_mV@<MM>mm "
                          "column")
    run.add_argument("--length-mm", metavar="L", default=None,
                     help="on a fibre: its length in mm (default: the cell's; a bare fibre "
                          "keeps its compartment length, a myelinated one its internodes)")
    run.add_argument("--diameter-um", metavar="D", default=None,
                     help="on a fibre: its diameter in um (default: the cell's)")
    run.add_argument("--compartments", metavar="N", default=None,
                     help="on a bare fibre: the number of compartments it is cut into "
                          "(default: the cell's; at most what the fibre's memory allows)")
    run.add_argument("--stim2", action="append", default=[],
                     metavar="AT_MM:DELAY_MS:WIDTH_MS:AMP_UA",
                     help="on a fibre: a pulse from a second stimulating electrode (an "
                          "isolated stimulator, +/-1000 uA) at AT_MM, DELAY_MS after the "
                          "start of each sweep, WIDTH_MS long, AMP_UA (positive "
                          "depolarises); repeat for more pulses, all at the same AT_MM, e.g. "
                          "--stim2 30:1:0.1:20 for collision or antidromic stimulation")
    run.add_argument("--temperature-at", action="append", default=[], metavar="DEGC@A:Bmm",
                     help="on a fibre: heat or cool the stretch from A to B mm to DEGC, e.g. "
                          "5@10:20mm (its kinetics follow their Q10; repeatable)")
    run.add_argument("--demyelinate", action="append", default=[], metavar="A:Bmm",
                     help="on a myelinated fibre: strip the myelin from the internodes from "
                          "A to B mm, e.g. 8:10mm (bare axolemma there; repeatable)")
    run.add_argument("--pump", type=_on_off, default=None, metavar="on|off",
                     help="the Na/K pump (default: the cell preset's, off for all shipped)")
    run.add_argument("--accumulation", type=_on_off, default=None, metavar="on|off",
                     help="internal Na, K, Cl (and periaxonal K) as state, moved by the "
                          "currents; --signals all adds Na_in_mM, K_in_mM, K_out_mM, E_Na_mV, "
                          "E_K_mV (default: the preset's, off for all shipped)")
    run.add_argument("--pump-density", metavar="UA_PER_CM2", default=None,
                     help="the pump's maximal current density in uA/cm^2 (default: "
                          "resources/pumps/na-k-atpase.json for the cell's preparation)")
    run.add_argument("--fast-forward", metavar="S", default=None,
                     help="before the protocol, let the cell rest S seconds in I=0 with the "
                          "drugs given, fast-forwarded exactly on its slow manifold (needs "
                          "--accumulation on; refused if the cell would fire)")
    run.add_argument("--axial-wire", choices=["on", "off"], default=None,
                     help="on a fibre in voltage clamp: hold the whole fibre (on, the "
                          "default, as HH's axial wire) or only the electrode's end (off)")

    test = sub.add_parser("membrane-test", help="measure Rt, Ra, Rm and Cm with a 10 mV step")
    add_cell_options(test)
    add_amplifier_options(test)
    test.add_argument("--holding", default="-65", help="holding potential in mV (default -65)")

    lister = sub.add_parser(
        "list", help="list what ships: protocols, cells, solutions, channels, schemes "
        "(Markov channels) or drugs")
    lister.add_argument("what", choices=["protocols", "cells", "solutions", "channels",
                                         "schemes", "drugs"])

    bench = sub.add_parser("bench", help="print speed figures, one 'name: value unit' a line")
    bench.add_argument("--quick", action="store_true", help="shorter runs")
    add_analyze_parser(sub)
    add_ljp_parser(sub)
    add_bifurcation_parser(sub)
    add_sweep_parser(sub)
    add_exercise_parser(sub)
    return parser, sub


def cmd_run(args: argparse.Namespace) -> None:
    """Run a protocol and save the recording (streamed; complete or not at all)."""
    from rig.acquisition.run_to_file import run_to_file
    from rig.protocols.protocol import load_protocol

    protect = (args.protocol,)  # `vrig run p.npz -o p.npz` must not replace the protocol
    audio = str(args.output).lower().endswith(".wav")  # the audio monitor, not a recording
    if audio:
        from rig.files.audio import check_wav_target

        check_wav_target(args.output, protect)
    else:
        check_output_path(args.output, protect)
    protocol = load_protocol(args.protocol)
    setup = build_rig(args)
    leak_sub = None if args.leak_sub is None else parse_number(args.leak_sub, "--leak-sub", int)
    apply_run_options(setup, args)
    corner = setup.amplifier.filter_hz
    if corner and corner >= 0.45 * units.khz_to_hz(protocol.sample_rate_khz):
        raise VrigError(f"--filter-khz {units.hz_to_khz(corner):g} is too close to the protocol's "
                        f"{protocol.sample_rate_khz:g} kHz sample rate to filter anything; "
                        f"use at most {0.45 * protocol.sample_rate_khz:g} kHz or 0 (bypass)")
    if audio:
        _write_audio(setup, protocol, args.output)
        return
    progress = TerminalProgress(sys.stderr, protocol.name) if _is_terminal(sys.stderr) else None
    try:
        with terminate_cleanly():
            samples = run_to_file(setup, protocol, args.output, args.signals, leak_sub,
                                  progress, protect)
    finally:
        if progress is not None:
            progress.close()
    print(f"wrote {printable(args.output)}: {printable(protocol.name)}, {protocol.sweeps} "
          f"sweep(s), {samples} samples")


def _write_audio(setup: "Rig", protocol: Any, path: str) -> None:
    """Run the protocol and write its Vm as the amplifier's audio monitor (WAV)."""
    from rig.files.audio import AUDIO_RATE_HZ, recording_audio, write_wav

    with terminate_cleanly():
        audio = recording_audio(setup.run(protocol))
        write_wav(path, audio)
    print(f"wrote {printable(path)}: {printable(protocol.name)}, audio monitor of Vm, "
          f"{audio.size / AUDIO_RATE_HZ:.4g} s at {AUDIO_RATE_HZ} Hz")


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def cmd_membrane_test(args: argparse.Namespace) -> None:
    """Print the membrane-test readouts, one 'name: value unit' a line."""
    from rig.amplifier.membrane_test import run_membrane_test

    limit_mv = units.v_to_mv(limits.VC_HOLDING_LIMIT_V)
    holding_mv = option_number(args.holding, "--holding", -limit_mv, limit_mv, "mV")
    setup = build_rig(args)
    if setup.series_resistance == 0:
        raise VrigError(f"cell {args.cell!r} is clamped ideally (no access resistance), so "
                        "there is no transient to measure; give --rs MOHM or use --cell model-cell")
    result = run_membrane_test(setup, holding_v=units.mv_to_v(holding_mv))
    print("\n".join(result.lines()))


def cmd_list(args: argparse.Namespace) -> None:
    """Print each shipped preset that loads, with its one-line description; a broken
    preset is left out and named, with what is wrong, on stderr (the others still list)."""
    from rig.model import catalogue

    scanners = catalogue.scanners()
    if args.what in scanners:
        good, problems = scanners[args.what]()
        entries = {name: _describe_preset(args.what, obj) for name, obj in good.items()}
    else:
        entries, problems = {}, []
        for name in resources.preset_names(args.what):
            try:
                data = resources.load_preset(args.what, name)
            except VrigError as exc:
                problems.append((str(resources.resources_dir() / args.what / f"{name}.json"),
                                 str(exc)))
                continue
            data = data if isinstance(data, dict) else {}
            entries[name] = (f"[{data.get('mode')}] {data.get('name', '')}: "
                             f"{data.get('description', '')}")
    for name, text in entries.items():
        print(f"{name:24s} {' '.join(str(text).split())}")
    if problems:
        print(f"vrig: warning: {len(problems)} {args.what} preset(s) could not be read and "
              "are left out: " + "; ".join(f"{path}: {message}" for path, message in problems),
              file=sys.stderr)


def _describe_preset(kind: str, preset: Any) -> str:
    """The one-line description `vrig list` prints for a loaded preset."""
    if kind == "drugs":
        return f"{preset.name} ({preset.effect} {preset.target}): {preset.description}"
    return getattr(preset, "description", "")


def cmd_bench(args: argparse.Namespace) -> None:
    """Print the benchmark figures."""
    from rig.cli.bench import run_benchmarks

    for name, value, unit in run_benchmarks(quick=args.quick):
        print(f"{name}: {value:.4g} {unit}".rstrip(), flush=True)


def main(argv: Sequence[str] | None = None,
         extend: Callable[[argparse.ArgumentParser, Any], object] | None = None,
         handlers: Mapping[str | None, Callable[[argparse.Namespace], int | None]] | None = None
         ) -> int:
    """Parse argv and run the subcommand; returns the exit status.

    extend: optional callable(parser, subparsers) adding more options and subcommands; handlers:
    {command or None: callable(args) -> status or None} for them (None is the
    handler used when no subcommand is given).
    """
    argv = sys.argv[1:] if argv is None else argv
    parser, sub = build_parser()
    if extend is not None:
        extend(parser, sub)
    table = {"run": cmd_run, "list": cmd_list, "bench": cmd_bench,
             "membrane-test": cmd_membrane_test, "analyze": cmd_analyze, "ljp": cmd_ljp,
             "bifurcation": cmd_bifurcation, "sweep": cmd_sweep, "exercise": cmd_exercise,
             **(handlers or {})}
    try:
        args = parser.parse_args(argv)
        if args.command not in table:
            parser.print_help()
            return EXIT_USAGE
        return table[args.command](args) or 0
    except VrigError as exc:
        print(f"vrig: error: {printable(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("vrig: interrupted", file=sys.stderr)
        return 130
    except Terminated as exc:
        print(f"vrig: terminated by signal {exc.signum}; no output was written and the "
              "temporary files were removed", file=sys.stderr)
        return 128 + exc.signum
    except BrokenPipeError:
        # the reader went away (`vrig list protocols | head -1`): not an error of ours
        _silence_stdout()
        return 0


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
