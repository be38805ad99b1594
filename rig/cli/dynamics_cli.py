"""`vrig bifurcation`: the landmarks of a point cell's bifurcation diagram, one
`name: value unit` a line (see rig.dynamics.landmarks)."""

import argparse
import math
from typing import Any

from rig.model import physics
from rig.resources import option_number


def add_bifurcation_parser(sub: "argparse._SubParsersAction[Any]") -> None:
    """Register `vrig bifurcation` on the argparse subparsers."""
    p = sub.add_parser(
        "bifurcation", help="print the Hopf points and the fold of cycles of a point cell",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The bifurcations of a point cell from its full equations (every "
                    "gate).\n\nAgainst injected current (--param current, the default): "
                    "hopf_lower (rest loses stability), hopf_upper (depolarisation block), "
                    "fold_of_cycles (where repetitive firing begins) and saddle_node (where "
                    "a type I cell's rest vanishes) in pA, each followed by its density in "
                    "uA/cm2. A landmark the cell does not have is printed as 'none in "
                    "LOW..HIGH pA' (the currents searched: those holding the cell between "
                    "-120 and +80 mV).\n\nAgainst another parameter, at --current pA "
                    "injected: one 'hopf: VALUE UNIT' line per Hopf point in --range "
                    "(rising), each with the direction in which rest is stable, or 'hopf: "
                    "none in LOW..HIGH UNIT'. The names: current (pA); gLABEL, the density "
                    "of the cell's channel LABEL in mS/cm2 (gNa, gK; gleak scales every "
                    "leak component); bath.ION, the bath's concentration in mM (bath.K is "
                    "K_out); temperature (degC). Only Hopf points are found against these "
                    "(no cycles).")
    p.add_argument("--cell", default="hh-squid", help="cell preset (default hh-squid)")
    p.add_argument("--param", default="current", metavar="NAME",
                   help="the parameter varied: current (default), gLABEL (gNa, gK, gleak; "
                        "mS/cm2), bath.ION (mM), temperature (degC)")
    p.add_argument("--range", metavar="LOW:HIGH",
                   help="the values searched for --param other than current (default: 0 "
                        "to 3x a conductance, 0.1 to 10x a concentration, 0-45 degC)")
    p.add_argument("--current", default="0",
                   help="pA injected, for --param other than current (default 0)")
    p.add_argument("--temperature", help="degC (default: the cell's)")
    p.add_argument("--bath", help="bath solution preset (default: the cell's)")
    p.add_argument("--pipette", help="pipette solution preset (default: the cell's)")


def _range(text: str | None, default: tuple[float, float], unit: str) -> tuple[float, float]:
    from rig.errors import VrigError
    from rig.resources import printable

    if text is None:
        return default
    parts = text.split(":")
    try:
        low, high = (float(x) for x in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        low = high = None
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        raise VrigError(f"--range {printable(text)!r}: give LOW:HIGH in {unit}, e.g. 0:100")
    if high <= low:
        raise VrigError(f"--range {printable(text)!r}: HIGH must be above LOW")
    return low, high


def cmd_bifurcation(args: argparse.Namespace) -> None:
    """Print the landmarks of the cell, one `name: value unit` a line."""
    from rig.dynamics import parameters
    from rig.dynamics.equilibria import leading_pair_real, parameter_hopf_points
    from rig.dynamics.landmarks import landmarks
    from rig.dynamics.system import point_system
    from rig.errors import VrigError

    temperature = None if args.temperature is None else option_number(
        args.temperature, "--temperature", physics.MIN_TEMPERATURE_C,
        physics.MAX_TEMPERATURE_C, "degC")
    if args.param == "current":
        if args.range is not None or args.current != "0":
            raise VrigError("--range and --current go with --param other than current")
        system = point_system(args.cell, temperature, args.bath, args.pipette)
        for name, value, unit in landmarks(system).lines(system):
            print(f"{name}: {value} {unit}" if isinstance(value, str)
                  else f"{name}: {value:.6g} {unit}", flush=True)
        return
    chosen = parameters.parameter(args.param, args.cell, temperature, args.bath, args.pipette)
    low, high = _range(args.range, chosen.default_range, chosen.unit)
    current = option_number(args.current, "--current", -1e6, 1e6, "pA")
    try:
        found = parameter_hopf_points(chosen.system_of, parameters.grid_values(low, high),
                                      current)
    except ValueError as exc:  # a value the solutions or the tables refuse
        raise VrigError(f"--param {args.param} over {low:g}..{high:g} {chosen.unit}: "
                        f"{exc}") from None
    if not found:
        print(f"hopf: none in {low:.6g}..{high:.6g} {chosen.unit}")
    for hopf in found:
        above = hopf.parameter + 1e-3 * (high - low)
        stable_above = leading_pair_real(_rest_eigenvalues(chosen, above, current, hopf)) < 0
        side = "above" if stable_above else "below"
        print(f"hopf: {hopf.parameter:.6g} {chosen.unit} (rest stable {side}; "
              f"V = {hopf.v_mv:.4g} mV)", flush=True)


def _rest_eigenvalues(chosen: Any, value: float, current: float, hopf: Any) -> Any:
    """The Jacobian's eigenvalues of the equilibrium nearest the Hopf point's
    potential at parameter value."""
    from rig.dynamics.equilibria import equilibria_at

    found = equilibria_at(chosen.system_of(value), current)
    return min(found, key=lambda e: abs(e.v_mv - hopf.v_mv)).eigenvalues


def add_sweep_parser(sub: "argparse._SubParsersAction[Any]") -> None:
    """Register `vrig sweep` on the argparse subparsers."""
    from rig.dynamics import sweep_spec

    p = sub.add_parser(
        "sweep", help="run a protocol over a grid of parameters and write a table",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run a protocol at every point of a parameter grid and write a tidy "
                    "table (.csv, or .parquet with pyarrow): one row per point and "
                    "protocol sweep, with the point's parameters, the measures and the "
                    "run's metadata (meta_* columns). Finished points are cached beside "
                    "the table by a hash of their inputs, so an interrupted sweep "
                    "resumes.\n" + (sweep_spec.__doc__ or "").split("\n", 2)[2])
    p.add_argument("protocol", help="a protocol file (.json) or a shipped protocol's name")
    p.add_argument("--vary", action="append", required=True, metavar="NAME=START:STOP:N",
                   help="a parameter and its range (repeatable; the grid is their product)")
    p.add_argument("--measure", action="append", default=[], metavar="NAME[,NAME...]",
                   help="what to measure (repeatable; default all)")
    p.add_argument("-o", "--output", required=True, help="the table: .csv or .parquet")
    p.add_argument("--cell", default="hh-squid", help="cell preset (default hh-squid)")
    p.add_argument("--temperature", help="degC (default: the cell's)")
    p.add_argument("--bath", help="bath solution preset (default: the cell's)")
    p.add_argument("--pipette", help="pipette solution preset (default: the cell's)")
    p.add_argument("--seed", default="0", help="random seed of every point (default 0)")
    p.add_argument("--dt-us", default="10", help="largest time step in us (default 10)")
    p.add_argument("--noise", choices=["on", "off"], default="off",
                   help="the amplifier's recording noise, drawn from the seed (default off)")
    p.add_argument("--workers", default="0",
                   help="local worker processes (default 0: one per core)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run the points on this Dask distributed scheduler instead")
    p.add_argument("--cache", metavar="DIR",
                   help="where finished points are kept (default: OUTPUT.cache beside it)")


def cmd_sweep(args: argparse.Namespace) -> None:
    """Run the sweep and write the table."""
    import importlib.util
    import sys
    from pathlib import Path

    from rig import units
    from rig.dynamics import sweep_exec, sweep_spec
    from rig.dynamics.sweep_point import build
    from rig.errors import VrigError
    from rig.files.output_files import check_target
    from rig.model import limits
    from rig.model.cell import load_cell
    from rig.protocols.protocol import load_protocol
    from rig.resources import printable

    varies = [sweep_spec.parse_vary(text) for text in args.vary]
    points = sweep_spec.grid(varies)
    measures = sweep_spec.parse_measures(args.measure)
    output = Path(args.output)
    if output.suffix.lower() not in (".csv", ".parquet"):
        raise VrigError(f"cannot write {printable(output.name)[:80]}: the table is a .csv "
                        "or .parquet file")
    if output.suffix.lower() == ".parquet" and importlib.util.find_spec("pyarrow") is None:
        raise VrigError("writing .parquet needs pyarrow (pip install pyarrow); or write a "
                        ".csv table")
    check_target(output, (args.protocol,))
    temperature = None if args.temperature is None else option_number(
        args.temperature, "--temperature", physics.MIN_TEMPERATURE_C,
        physics.MAX_TEMPERATURE_C, "degC")
    dt_low, dt_high = (units.s_to_us(t) for t in limits.DT_RANGE_S)
    dt_us = option_number(args.dt_us, "--dt-us", dt_low, dt_high, "us")
    seed = int(option_number(args.seed, "--seed", 0, 2**32 - 1))
    workers = int(option_number(args.workers, "--workers", 0, 1024))
    if args.scheduler is not None and not args.scheduler.startswith("tcp://"):
        raise VrigError(f"--scheduler {printable(args.scheduler)!r}: give the Dask "
                        "scheduler's address as tcp://HOST:PORT")
    protocol = load_protocol(args.protocol)
    load_cell(args.cell)
    base = {"protocol": protocol.to_dict(), "cell": args.cell, "bath": args.bath,
            "pipette": args.pipette, "temperature": temperature, "dt_us": dt_us,
            "seed": seed, "noise": args.noise == "on", "measures": list(measures)}
    tasks = [{**base, "params": point} for point in points]
    for task in {0: tasks[0], -1: tasks[-1]}.values():
        build(task)  # a bad name or value in the grid fails here, before any work
    cache = Path(args.cache) if args.cache else output.with_name(output.name + ".cache")
    progress = _SweepProgress(sys.stderr)
    try:
        results = sweep_exec.run_tasks(tasks, cache, workers, args.scheduler, progress)
    finally:
        progress.close()
    rows = [row for point_rows in results for row in point_rows]
    sweep_exec.write_table(output, rows)
    print(f"wrote {printable(str(output))}: {len(rows)} rows, {len(points)} points "
          f"({progress.cached} from the cache in {printable(str(cache))})")


class _SweepProgress:
    """'sweep: done/total points' on stderr, rewritten in place on a terminal."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.cached = 0
        self.shown = False
        self.terminal = bool(getattr(stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int, cached: int) -> None:
        self.cached = cached
        if self.terminal:
            self.stream.write(f"\rsweep: {done}/{total} points ({cached} from the cache)")
            self.stream.flush()
            self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
