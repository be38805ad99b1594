"""`vrig bifurcation`: the landmarks of a point cell's bifurcation diagram, one
`name: value unit` a line (see rig.dynamics.landmarks)."""

import argparse
from typing import Any

from rig.model import physics
from rig.resources import option_number

PARAMETERS = ("current",)  # what the diagram is drawn against (injected current, pA)


def add_bifurcation_parser(sub: "argparse._SubParsersAction[Any]") -> None:
    """Register `vrig bifurcation` on the argparse subparsers."""
    p = sub.add_parser(
        "bifurcation", help="print the Hopf points and the fold of cycles of a point cell",
        description="The bifurcations of a point cell against injected current, from its "
                    "full equations (every gate): hopf_lower (rest loses stability), "
                    "hopf_upper (depolarisation block) and fold_of_cycles (where repetitive "
                    "firing begins) in pA, each followed by its density in uA/cm2 (nan: "
                    "the cell has none).")
    p.add_argument("--cell", default="hh-squid", help="cell preset (default hh-squid)")
    p.add_argument("--param", default="current", choices=PARAMETERS,
                   help="the parameter varied (default current)")
    p.add_argument("--temperature", help="degC (default: the cell's)")
    p.add_argument("--bath", help="bath solution preset (default: the cell's)")
    p.add_argument("--pipette", help="pipette solution preset (default: the cell's)")


def cmd_bifurcation(args: argparse.Namespace) -> None:
    """Print the landmarks of the cell, one `name: value unit` a line."""
    from rig.dynamics.landmarks import landmarks
    from rig.dynamics.system import point_system

    temperature = None if args.temperature is None else option_number(
        args.temperature, "--temperature", physics.MIN_TEMPERATURE_C,
        physics.MAX_TEMPERATURE_C, "degC")
    system = point_system(args.cell, temperature, args.bath, args.pipette)
    for name, value, unit in landmarks(system).lines(system):
        print(f"{name}: {value:.6g} {unit}", flush=True)
