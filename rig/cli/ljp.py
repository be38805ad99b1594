"""`vrig ljp`: the liquid junction potential between a pipette solution and the bath."""

import argparse
from typing import Any

from rig import units
from rig.model import physics
from rig.model.junction import DEFAULT_TEMPERATURE_C, junction_potential
from rig.model.solutions import load_solution, with_ion_overrides
from rig.resources import option_number


def add_parser(sub: "argparse._SubParsersAction[Any]") -> None:
    """Register `vrig ljp` on the argparse subparsers."""
    p = sub.add_parser(
        "ljp", help="print the liquid junction potential of a pipette solution in a bath",
        description="The liquid junction potential from the generalised Henderson equation "
                    "(mobilities in resources/ions/mobilities.json): the bath's potential "
                    "with respect to the pipette, nulled in the bath with the pipette "
                    "offset. In whole-cell the true membrane potential is the recorded one "
                    "minus it.")
    p.add_argument("--bath", required=True, help="bath solution preset (vrig list solutions)")
    p.add_argument("--pipette", required=True, help="pipette solution preset")
    p.add_argument("--ion", action="append", default=[], metavar="SIDE:ION=MM",
                   help="override one concentration, e.g. out:Na=44 or in:K=140 (repeatable)")
    p.add_argument("--temperature", default=str(DEFAULT_TEMPERATURE_C),
                   help=f"degC (default {DEFAULT_TEMPERATURE_C:g}, that of the mobility tables)")


def cmd_ljp(args: argparse.Namespace) -> None:
    """Print `liquid_junction_potential: X mV`."""
    temperature = option_number(args.temperature, "--temperature", physics.MIN_TEMPERATURE_C,
                                physics.MAX_TEMPERATURE_C, "degC")
    bath, pipette = with_ion_overrides(load_solution(args.bath), load_solution(args.pipette),
                                       args.ion)
    v = junction_potential(pipette.concentrations_mm, bath.concentrations_mm, temperature)
    print(f"liquid_junction_potential: {units.v_to_mv(v):.2f} mV")
