"""The cell in its solutions at a temperature, compiled to the arrays the kernel steps.

Everything here is derived: change a solution, the temperature or the step and build
a new CompiledMembrane. Units: mV, nS, pF, ms (kernel units). The equations these
arrays stand for are in :mod:`rig.simulation.reference` (Python) and
:mod:`rig.simulation.kernel` (compiled).
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from rig import units
from rig.model import channels
from rig.model.cell import NONSELECTIVE, Cell
from rig.model.channels import TABLE_V_MAX_MV, TABLE_V_MIN_MV, Gate
from rig.model.pharmacology import Effects
from rig.model.solutions import Solution, reversal_potentials
from rig.simulation.layout import HH_DETERMINISTIC, KernelModel

# SI factors of the kernel's OUT_* rows: Vm (mV), Im (pA), Vmem (mV), Igating (pA)
OUT_TO_SI = (1 / units.MV_PER_V, 1 / units.PA_PER_A, 1 / units.MV_PER_V, 1 / units.PA_PER_A)


@dataclass(frozen=True)
class CompiledMembrane:
    """Kernel arrays for one cell, solutions, temperature and time step."""

    channel_labels: tuple[str, ...]  # one per kernel channel; leak components are 'leak'
    gate_names: tuple[str, ...]
    chan_g_ns: np.ndarray
    chan_e_mv: np.ndarray
    gate_channel: np.ndarray
    gate_power: np.ndarray
    x_inf: np.ndarray
    decay: np.ndarray
    gates: tuple[tuple[Gate, int], ...]  # (Gate, kernel channel index) in kernel order
    gate_charge_fc: np.ndarray  # charge moved by each gate going from 0 to 1 (fC)
    gate_phi: np.ndarray  # temperature factor of each gate's rates
    cm_pf: float
    dt_ms: float
    kind: str = HH_DETERMINISTIC  # what kernel it needs (see rig.simulation.registry)
    n_compartments: int = 1
    markov: Any = None  # a Markov membrane's populations (rig.simulation.stochastic)

    @property
    def labels(self) -> tuple[str, ...]:
        """Distinct channel labels in order ('Na', 'K', 'leak')."""
        return tuple(dict.fromkeys(self.channel_labels))

    @property
    def channel_label_index(self) -> np.ndarray:
        """Per kernel channel, the index of its label in ``labels``."""
        return np.array([self.labels.index(label) for label in self.channel_labels],
                        dtype=np.int64)

    def output_names(self) -> list[tuple[str, str, float]]:
        """(signal name, SI unit, factor from kernel units) for every kernel output row
        after the OUT_* rows: label currents, label conductances, gates."""
        return ([(f"I{label}", "A", 1 / units.PA_PER_A) for label in self.labels]
                + [(f"g{label}", "S", 1 / units.NS_PER_S) for label in self.labels]
                + [(name, "", 1.0) for name in self.gate_names])

    def kernel_model(self, chan_g_ns: Any, gate_floor: Any) -> KernelModel:
        """The :class:`rig.simulation.layout.KernelModel` record of this membrane with
        the conductances (nS) and gate floors in force (see drug_arrays)."""
        gate_floor = np.asarray(gate_floor, dtype=float)
        scale = np.array(OUT_TO_SI + tuple(factor for _, _, factor in self.output_names()))
        n_v = self.x_inf.shape[1]
        return KernelModel(
            cm_pf=float(self.cm_pf), dt_ms=float(self.dt_ms), v_min_mv=TABLE_V_MIN_MV,
            inv_dv_mv=(n_v - 1) / (TABLE_V_MAX_MV - TABLE_V_MIN_MV),
            x_inf=self.x_inf, decay=self.decay, gate_channel=self.gate_channel,
            gate_power=self.gate_power, gate_floor=gate_floor,
            gate_charge_fc=self.gate_charge_fc, chan_g_ns=np.asarray(chan_g_ns, float),
            chan_e_mv=self.chan_e_mv, chan_label=self.channel_label_index,
            out_scale=scale, has_charge=bool(self.gate_charge_fc.any()),
            has_floor=bool(gate_floor.any()))

    def drug_arrays(self, effects: Effects) -> tuple[np.ndarray, np.ndarray]:
        """(chan_g_ns, gate_floor) with a pharmacology.Effects applied."""
        scale = np.array([effects.conductance_scale.get(label, 1.0)
                          for label in self.channel_labels])
        floor = np.array([effects.inactivation_removed.get(self.channel_labels[ch], 0.0)
                          if gate.inactivating else 0.0 for gate, ch in self.gates])
        return self.chan_g_ns * scale, floor


def reversal_potentials_mv(bath: Solution, pipette: Solution,
                           temperature_c: float) -> dict[str, float]:
    """{ion: Nernst potential in mV} for the ions present on both sides."""
    return {ion: units.v_to_mv(v)
            for ion, v in reversal_potentials(bath, pipette, temperature_c).items()}


def leak_components(cell: Cell, e_mv: dict[str, float]) -> list[tuple[float, float]]:
    """(conductance density mS/cm^2, reversal mV) of each leak component that conducts."""
    components = []
    for ion, density in cell.leak_ms_per_cm2.items():
        reversal = 0.0 if ion == NONSELECTIVE else e_mv.get(ion)
        if reversal is not None and density > 0:
            components.append((density, reversal))
    return components


def leak_reversal_mv(cell: Cell, bath: Solution, pipette: Solution,
                     temperature_c: float) -> float:
    """Chord-conductance reversal (mV) of the cell's leak in these solutions (nan if
    it has no leak)."""
    parts = leak_components(cell, reversal_potentials_mv(bath, pipette, temperature_c))
    total = sum(g for g, _ in parts)
    return sum(g * e for g, e in parts) / total if total > 0 else float("nan")


def gate_column_names(cell: Cell) -> tuple[str, ...]:
    """Signal names of the gates: the gate's own name where unique, else 'Label_name'."""
    pairs = [(cell.channels[i][0].label, gate.name) for i, gate in cell.gates()]
    names = [name for _, name in pairs]
    return tuple(name if names.count(name) == 1 else f"{label}_{name}" for label, name in pairs)


def compile_membrane(cell: Cell, bath: Solution, pipette: Solution, temperature_c: float,
                     dt_ms: float) -> CompiledMembrane:
    """Build the kernel arrays (drug-free; see CompiledMembrane.drug_arrays)."""
    e_mv = reversal_potentials_mv(bath, pipette, temperature_c)
    labels: list[str] = []
    g_ns: list[float] = []
    e_list: list[float] = []
    gates: list[tuple[Gate, int]] = []
    gate_channel: list[int] = []
    gate_power: list[int] = []
    gates_phi: list[tuple[Gate, float]] = []
    charge: list[float] = []
    for channel, density in cell.channels:
        index = len(labels)
        labels.append(channel.label)
        g_ns.append(units.density_to_ns(density, cell.area_um2))
        e_list.append(e_mv.get(channel.ion, 0.0) if channel.ion in e_mv else np.nan)
        phi = channel.phi(temperature_c)
        for gate in channel.gates:
            gates.append((gate, index))
            gate_channel.append(index)
            gate_power.append(gate.power)
            gates_phi.append((gate, phi))
            charge.append(units.charge_fc(gate.charge_nc_per_cm2, cell.area_um2))
    for density, reversal in leak_components(cell, e_mv):
        labels.append("leak")
        g_ns.append(units.density_to_ns(density, cell.area_um2))
        e_list.append(reversal)
    g = np.array(g_ns, dtype=float)
    e = np.array(e_list, dtype=float)
    # A channel whose ion is missing from one side conducts nothing (no driving force
    # can be defined); it stays in the arrays so signal columns keep their meaning.
    missing = np.isnan(e)
    g[missing] = 0.0
    e[missing] = 0.0
    x_inf, decay = channels.gate_tables(gates_phi, dt_ms)
    return CompiledMembrane(
        channel_labels=tuple(labels), gate_names=gate_column_names(cell),
        chan_g_ns=g, chan_e_mv=e,
        gate_channel=np.array(gate_channel, dtype=np.int64),
        gate_power=np.array(gate_power, dtype=np.int64),
        x_inf=x_inf, decay=decay, gates=tuple(gates),
        gate_charge_fc=np.array(charge, dtype=float),
        gate_phi=np.array([phi for _, phi in gates_phi], dtype=float),
        cm_pf=cell.capacitance_pf, dt_ms=dt_ms)
