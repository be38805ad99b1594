"""The current-clamp equations of a shipped point cell as a dynamical system.

The state is y = [V (mV), x_1 ... x_n (gates, 0-1)] as in
:mod:`rig.simulation.reference`, whose rate functions and currents are used as they
are: any shipped point cell works, with its own channels, solutions and temperature.
The parameters are the injected current (pA, into the cell), and, fixed when the
system is built, the temperature (degC), the bath and pipette solutions, and a
conductance scale per channel label ({'Na': 0.5} halves the Na conductance).

Time is in ms, so every right-hand side is per ms (mV/ms for V, 1/ms for the gates)
and every eigenvalue is in 1/ms.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from rig import units
from rig.errors import VrigError
from rig.model.cell import Cell, load_cell
from rig.model.channels import TABLE_V_MAX_MV, TABLE_V_MIN_MV
from rig.model.solutions import Solution, load_solution
from rig.simulation import reference
from rig.simulation.membrane import CompiledMembrane, compile_membrane

Array = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]  # eigenvalues, Floquet multipliers
JACOBIAN_STEP_V_MV = 1e-4  # central-difference steps: V in mV, gates (0-1)
JACOBIAN_STEP_GATE = 1e-7
GATE_GUARD = (-1.0, 2.0)  # gate values a solver's trial states are held within
ANY_DT_MS = 0.01  # the compiled tables' step; the equations here do not depend on it


@dataclass(frozen=True)
class PointSystem:
    """dy/dt of one isopotential cell in current clamp, with its parameters in force.

    chan_g_ns: conductances (nS) in force per kernel channel; gate_floor: fraction of
    each gate held open by drugs (0: none); g_seal_ns: the electrode's seal (nS,
    reversal 0 mV); area_um2: the membrane area, to give currents as densities.
    """

    membrane: CompiledMembrane
    chan_g_ns: Array
    gate_floor: Array
    g_seal_ns: float
    area_um2: float
    name: str = ""
    temperature_c: float = 6.3
    description: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Number of state variables (V and the gates)."""
        return 1 + len(self.membrane.gates)

    @property
    def variable_names(self) -> tuple[str, ...]:
        """'V' and the gate names, in state order."""
        return ("V",) + self.membrane.gate_names

    def rhs(self, y: npt.ArrayLike, current_pa: float) -> Array:
        """dy/dt (mV/ms, 1/ms) at y (shape (size,) or (size, k...) for k states at
        once) with current_pa (pA) injected."""
        y = np.asarray(y, dtype=float)
        # A solver's trial states can be far outside any physical one; the guard keeps
        # them finite (rates held at the table edges as the kernel does) and leaves
        # every physical state (|V| < 250 mV, gates in 0-1) as it is.
        v = np.clip(y[0], TABLE_V_MIN_MV, TABLE_V_MAX_MV)
        gates = np.clip(y[1:], GATE_GUARD[0], GATE_GUARD[1])
        ionic = reference.ionic_current_pa(self.membrane, v, gates, self.chan_g_ns,
                                           self.gate_floor) + self.g_seal_ns * v
        dv = (current_pa - ionic) / self.membrane.cm_pf
        dx = reference.gate_rates(self.membrane, v, gates)
        return np.concatenate((np.asarray(dv)[np.newaxis], dx.reshape((-1,) + np.shape(v))))

    def jacobian(self, y: npt.ArrayLike, current_pa: float) -> Array:
        """d(rhs)/dy (1/ms) at y by central differences (all columns in one call)."""
        y = np.asarray(y, dtype=float)
        steps = np.full(self.size, JACOBIAN_STEP_GATE)
        steps[0] = JACOBIAN_STEP_V_MV
        shifts = np.diag(steps)
        up = self.rhs(y[:, np.newaxis] + shifts, current_pa)
        down = self.rhs(y[:, np.newaxis] - shifts, current_pa)
        return np.asarray((up - down) / (2 * steps[np.newaxis, :]))

    def equilibrium_state(self, v_mv: float) -> Array:
        """The state whose gates are at steady state at v_mv (mV): the only
        equilibrium with that potential."""
        return np.concatenate(([v_mv], reference.steady_gates(self.membrane, v_mv)))

    def steady_current_pa(self, v_mv: npt.ArrayLike) -> Any:
        """The injected current (pA) that holds the cell at rest at v_mv (mV; a number
        or an array): the steady-state membrane current, seal included."""
        v = np.asarray(v_mv, dtype=float)
        return reference.steady_current_pa(self.membrane, v, self.chan_g_ns,
                                           self.gate_floor) + self.g_seal_ns * v

    def density_ua_per_cm2(self, current_pa: npt.ArrayLike) -> Any:
        """A current (pA) as a density over the membrane (uA/cm^2)."""
        return np.asarray(current_pa, dtype=float) * 1e-6 / (self.area_um2 * units.CM2_PER_UM2)

    def current_pa(self, density_ua_per_cm2: npt.ArrayLike) -> Any:
        """A current density (uA/cm^2) as the current (pA) over this membrane."""
        return (np.asarray(density_ua_per_cm2, dtype=float) * 1e6
                * self.area_um2 * units.CM2_PER_UM2)


def point_system(cell: str | Cell = "hh-squid", temperature_c: float | None = None,
                 bath: str | Solution | None = None, pipette: str | Solution | None = None,
                 conductance_scale: Mapping[str, float] | None = None,
                 reversal_mv: Mapping[str, float] | None = None) -> PointSystem:
    """The PointSystem of a cell (a preset name or a Cell) in its own solutions and at
    its own temperature unless given (degC; solution preset names or Solutions).

    conductance_scale: {channel label: factor} ('leak' scales every leak component).
    reversal_mv: {channel label: reversal in mV} replacing the Nernst values (e.g. to
    set a model's reversal potentials as a paper gives them).
    """
    cell = load_cell(cell) if isinstance(cell, str) else cell
    if cell.geometry is not None:
        raise VrigError(f"cell {cell.name!r} is a fibre of "
                        f"{cell.geometry.n_compartments} compartments; the dynamics "
                        "tools take a point cell (one compartment)")
    bath = load_solution(bath or cell.bath) if not isinstance(bath, Solution) else bath
    pipette = (load_solution(pipette or cell.pipette) if not isinstance(pipette, Solution)
               else pipette)
    temperature = cell.temperature_c if temperature_c is None else float(temperature_c)
    m = compile_membrane(cell, bath, pipette, temperature, ANY_DT_MS)
    scale = dict(conductance_scale or {})
    unknown = sorted((set(scale) | set(reversal_mv or {})) - set(m.labels))
    if unknown:
        raise VrigError(f"cell {cell.name!r} has no channel {unknown[0]!r}; its channels "
                        f"are {', '.join(m.labels)}")
    g = m.chan_g_ns * np.array([scale.get(label, 1.0) for label in m.channel_labels])
    if reversal_mv:
        e = np.array([reversal_mv.get(label, e) for label, e in
                      zip(m.channel_labels, m.chan_e_mv)])
        m = CompiledMembrane(**{**m.__dict__, "chan_e_mv": e})
    seal = 0.0 if np.isinf(cell.seal_resistance_gohm) else units.ohm_to_ns(
        units.gohm_to_ohm(cell.seal_resistance_gohm))
    return PointSystem(membrane=m, chan_g_ns=g, gate_floor=np.zeros(len(m.gates)),
                       g_seal_ns=seal, area_um2=cell.area_um2, name=cell.name,
                       temperature_c=temperature,
                       description={"cell": cell.name, "bath": bath.name,
                                    "pipette": pipette.name, "temperature_C": temperature,
                                    "conductance_scale": scale,
                                    "reversal_mV": dict(reversal_mv or {})})
