"""Which compiled kernel advances which model: the one place a new kind of model
(Markov or stochastic channels, a branched cell) plugs in its kernel.

A kernel is a table {clamp configuration (layout.CLAMP_*): advance function}, every
advance function taking ``(model, amp, state, command, steps_per_sample, out)`` as
described in :mod:`rig.simulation.kernel`. It is registered under what the model
needs: (model kind, topology), where the model kind is the compiled membrane's
``kind`` and the topology is POINT (one isopotential compartment: the patch kernel,
which also drives the electrode circuit in every clamp mode) or CABLE (a row of
compartments: :mod:`rig.simulation.cable_kernel`, which reduces to the patch kernel on
one compartment).
"""

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from rig.errors import VrigError
from rig.simulation import cable_kernel, kernel, stochastic_kernel
from rig.simulation.layout import HH_DETERMINISTIC, MARKOV

POINT = "point"  # one compartment
CABLE = "cable"  # an unbranched row of compartments, sealed ends

# (model kind, topology) -> {CLAMP_*: advance function}
KERNELS = MappingProxyType({
    (HH_DETERMINISTIC, POINT): kernel.STEPS,
    (HH_DETERMINISTIC, CABLE): cable_kernel.STEPS,
    (MARKOV, POINT): stochastic_kernel.STEPS,
})


def topology(n_compartments: int) -> str:
    """POINT for one compartment, CABLE for more."""
    return POINT if n_compartments == 1 else CABLE


def advance_function(model_kind: str, n_compartments: int, clamp: str) -> Callable[..., Any]:
    """The compiled advance function for a model kind on n_compartments compartments
    under a clamp configuration (layout.CLAMP_*)."""
    steps = KERNELS.get((model_kind, topology(n_compartments)))
    if steps is None:
        raise VrigError(f"no kernel simulates a {model_kind!r} model with {n_compartments} "
                        "compartments")
    if clamp not in steps and model_kind == MARKOV:
        raise VrigError("channels counted one by one run in ideal voltage clamp (Rs 0), "
                        "current clamp or I=0 without pipette capacitance for now; set Rs "
                        "and the pipette capacitance to 0, or --stochastic off")
    if clamp not in steps:
        raise VrigError(f"a fibre of {n_compartments} compartments runs in current clamp "
                        "and I=0 without the pipette capacitance only (the pipette as a node "
                        "of its own is not built on a fibre yet); set the pipette "
                        "capacitance to 0, or Rs to 0, or switch to VC")
    return steps[clamp]
