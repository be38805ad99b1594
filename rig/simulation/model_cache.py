"""What the engine derives from its settings and keeps until a setting changes: the
compiled membrane for each time step, and the kernel's inputs (the compiled-model
record with the drugs in force, the amplifier array, the signal names).

Units: dt in ms (kernel units); see :mod:`rig.simulation.layout` for the arrays.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rig import units
from rig.amplifier.circuit import Amplifier
from rig.model import limits
from rig.model.cell import Cell, uses_markov
from rig.model.pharmacology import Perfusion
from rig.model.solutions import Solution
from rig.simulation import layout, stochastic
from rig.simulation.cable import POINT_PLACEMENT, cable_model, cable_output_rows
from rig.simulation.membrane import CompiledMembrane, compile_membrane
from rig.simulation.registry import advance_function


@dataclass(frozen=True)
class KernelInputs:
    """Everything the kernel needs besides the state and the command.

    model: layout.KernelModel (drugs applied); record: the same as a plain tuple (what the kernel
    takes); amp: the amplifier array (AMP_*); advance: the compiled advance function (from the
    kernel registry) for the model and the clamp configuration of the kernel mode it was built for;
    names: signal names of the output rows after the OUT_* rows; n_rows: number of output rows.
    """

    model: layout.KernelModel
    record: tuple[Any, ...]
    amp: np.ndarray
    advance: Callable[..., Any]
    names: tuple[str, ...]
    n_rows: int


class ModelCache:
    """Compiled membranes by time step and the kernel inputs of the latest one.

    settings: a callable returning (cell, bath, pipette, temperature_c) as now set.
    """

    def __init__(self, settings: Callable[[], tuple[Cell, Solution, Solution, float]],
                 extend: Callable[[CompiledMembrane], CompiledMembrane] | None = None) -> None:
        self._settings = settings
        self._extend = extend  # adds to each compiled membrane (the pump channel)
        self._membranes: dict[float, CompiledMembrane] = {}
        # (membrane, key, KernelInputs), swapped whole
        self._entry: tuple[CompiledMembrane | None, Any, KernelInputs | None] = (None, None, None)

    def clear(self) -> None:
        """Forget everything (a setting of the cell, solutions or temperature changed)."""
        self._membranes.clear()

    def membrane(self, dt_ms: float) -> CompiledMembrane:
        """The CompiledMembrane for a time step (ms)."""
        key = round(dt_ms, 12)
        if key not in self._membranes:
            cell, bath, pipette, temperature_c = self._settings()
            compile_for = stochastic.compile_markov if uses_markov(cell) else compile_membrane
            m = compile_for(cell, bath, pipette, temperature_c, dt_ms)
            if cell.geometry is not None:
                m = replace(m, n_compartments=cell.geometry.n_compartments)
            if self._extend is not None:
                m = self._extend(m)
            self._membranes[key] = m
        return self._membranes[key]

    def kernel_inputs(self, m: CompiledMembrane, perfusion: Perfusion, amplifier: Amplifier,
                      breakdown_mv: float, kernel_mode: int,
                      where: Any = POINT_PLACEMENT) -> KernelInputs:
        """KernelInputs for membrane m with the drugs of perfusion (a Perfusion), an
        Amplifier, the breakdown potential (mV), the kernel mode (layout.MODE_*) and, on a
        fibre, the electrodes' Placement (its recording sites' rows follow the others),
        rebuilt only when one of them changed."""
        # The membrane and the amplifier (frozen) are compared by identity, and held, so
        # a new one can never be mistaken for an old one that lived at the same address.
        key = (amplifier, breakdown_mv, kernel_mode, tuple(perfusion.present.items()), where)
        # One read and one write of the entry, so that another thread (the window asking
        # for signal names) can never pair one membrane with another's inputs.
        cached_m, cached, inputs = self._entry
        if (inputs is None or cached_m is not m or cached is None or cached[0] is not amplifier
                or cached[1:] != key[1:]):
            amp = layout.amplifier_parameters(amplifier)
            amp[layout.AMP_BREAKDOWN] = breakdown_mv
            amp[layout.AMP_COMMAND_SCALE], amp[layout.AMP_COMMAND_LIMIT] = _command_scale(
                kernel_mode, amplifier)
            names = tuple(name for name, _, _ in m.output_names())
            n_rows = layout.output_rows(len(m.labels), len(m.gate_names))
            if m.n_compartments > 1:
                # the profile's compartments are recorded as sites after the named ones
                chan_g, floor = m.drug_arrays(perfusion.effects())
                model = cable_model(m, self._settings()[0], chan_g, floor, where.stim,
                                    where.sites + where.profile, where.local,
                                    where.axial_wire, where.stim2, where.stim2_pulses(),
                                    where.local_temperature, where.demyelinated)
                names += where.names
                n_rows = cable_output_rows(m, len(where.sites) + len(where.profile))
            elif m.markov is not None:
                model = stochastic.kernel_model(m, stochastic.drugs_in_force(m, perfusion))
            else:
                model = m.kernel_model(*m.drug_arrays(perfusion.effects()))
            inputs = KernelInputs(
                model=model, record=tuple(model), amp=amp,
                advance=advance_function(m.kind, m.n_compartments,
                                         layout.clamp_kind(kernel_mode, amp)),
                names=names, n_rows=n_rows)
            self._entry = (m, key, inputs)
        return inputs


def _command_scale(kernel_mode: int, amplifier: Amplifier) -> tuple[float, float]:
    """(kernel units per SI unit, largest |command| in kernel units) of the command in a
    kernel mode: mV/V and the VC command limit; pA/A and the headstage's current range
    in CC; 0 and no limit in I=0, where there is no command."""
    if kernel_mode in (layout.MODE_VC, layout.MODE_VC_IDEAL):
        return units.MV_PER_V, units.v_to_mv(limits.VC_COMMAND_LIMIT_V)
    if kernel_mode == layout.MODE_CC:
        return units.PA_PER_A, units.a_to_pa(amplifier.current_range)
    return 0.0, np.inf
