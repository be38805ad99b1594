"""Which compiled kernel advances which model: the one place a new kind of model
(a cable of N compartments, Markov or stochastic channels) plugs in its kernel.

A kernel is a table {clamp configuration (layout.CLAMP_*): advance function}, every
advance function taking ``(model, amp, state, command, steps_per_sample, out)`` as
described in :mod:`rig.simulation.kernel`. It is registered under what the model
needs: (model kind, number of compartments), where the model kind is the compiled
membrane's ``kind``.
"""

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from rig.errors import VrigError
from rig.simulation import kernel
from rig.simulation.layout import HH_DETERMINISTIC

# (model kind, n_compartments) -> {CLAMP_*: advance function}
KERNELS = MappingProxyType({
    (HH_DETERMINISTIC, 1): kernel.STEPS,
})


def advance_function(model_kind: str, n_compartments: int, clamp: str) -> Callable[..., Any]:
    """The compiled advance function for a model kind on n_compartments compartments
    under a clamp configuration (layout.CLAMP_*)."""
    steps = KERNELS.get((model_kind, n_compartments))
    if steps is None:
        raise VrigError(f"no kernel simulates a {model_kind!r} model with {n_compartments} "
                        "compartments")
    return steps[clamp]
