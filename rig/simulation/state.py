"""The simulation state: everything the kernel advances, shaped for N compartments.

A cell is ``n_compartments`` isopotential pieces of membrane (1 today: the patch or
soma). Each holds a membrane potential and the value of every gate; the electrode
(pipette node and the amplifier's internal filters) is one per rig. ``extra`` is the
room later models need for per-channel state that is not one gate value per
compartment (Markov occupancies, stochastic channel counts, ion concentrations): a
name -> array map the model that needs it fills and its kernel advances.

Units: mV for potentials; gates are fractions (0-1); the electrode as in
:mod:`rig.simulation.layout` (EL_*).
"""

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rig.simulation.layout import N_EL


@dataclass
class SimulationState:
    """Mutable arrays the kernel updates in place.

    v_mv: (n_compartments,) membrane potentials (mV); gates: (n_gates, n_compartments)
    gate values, rows in the compiled model's gate order; electrode: (N_EL,) see EL_*;
    extra: per-channel state arrays of richer models, by name (empty for HH gates).
    """

    v_mv: np.ndarray
    gates: np.ndarray
    electrode: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def zeros(cls, n_gates: int, n_compartments: int = 1) -> "SimulationState":
        """A state of zeros for n_gates gates on n_compartments compartments."""
        return cls(np.zeros(n_compartments), np.zeros((n_gates, n_compartments)),
                   np.zeros(N_EL))

    @property
    def n_compartments(self) -> int:
        """Number of compartments (1 for an isopotential cell)."""
        return self.v_mv.size

    @property
    def soma_v_mv(self) -> float:
        """Membrane potential (mV) of the compartment the electrode is on (the first)."""
        return float(self.v_mv[0])

    def set_uniform(self, v_mv: float, gate_values: npt.ArrayLike) -> None:
        """Every compartment at v_mv (mV) with the gates at gate_values (one per gate)."""
        self.v_mv[:] = v_mv
        self.gates[:] = np.asarray(gate_values, dtype=float)[:, None]

    def vector(self, compartment: int = 0) -> np.ndarray:
        """[V (mV), gates...] of one compartment: the variables of the reference
        right-hand side (:mod:`rig.simulation.reference`)."""
        return np.concatenate(([self.v_mv[compartment]], self.gates[:, compartment]))

    def copy(self) -> "SimulationState":
        """An independent copy (extra arrays copied too)."""
        return SimulationState(self.v_mv.copy(), self.gates.copy(), self.electrode.copy(),
                               {name: value.copy() for name, value in self.extra.items()})
