"""The cell in its solutions at a temperature, compiled to the arrays the kernel steps.

Everything here is derived: change a solution, the temperature or the step and build
a new CompiledMembrane. Units: mV, nS, pF, ms (kernel units).
"""

from dataclasses import dataclass

import numpy as np

from rig import units

from rig.model import channels
from rig.model.cell import NONSELECTIVE
from rig.model.solutions import reversal_potentials


@dataclass(frozen=True)
class CompiledMembrane:
    """Kernel arrays for one cell, solutions, temperature and time step."""

    channel_labels: tuple  # one per kernel channel; leak components are 'leak'
    gate_names: tuple
    chan_g_ns: np.ndarray
    chan_e_mv: np.ndarray
    gate_channel: np.ndarray
    gate_power: np.ndarray
    x_inf: np.ndarray
    decay: np.ndarray
    gates: tuple  # (Gate, kernel channel index) in kernel order
    gate_charge_fc: np.ndarray  # charge moved by each gate going from 0 to 1 (fC)
    gate_phi: np.ndarray  # temperature factor of each gate's rates
    cm_pf: float
    dt_ms: float

    @property
    def labels(self):
        """Distinct channel labels in order ('Na', 'K', 'leak')."""
        return tuple(dict.fromkeys(self.channel_labels))

    @property
    def channel_label_index(self):
        """Per kernel channel, the index of its label in ``labels``."""
        return np.array([self.labels.index(label) for label in self.channel_labels],
                        dtype=np.int64)

    def output_names(self):
        """(signal name, SI unit, factor from kernel units) for every kernel output row
        after the OUT_* rows: label currents, label conductances, gates."""
        return ([(f"I{label}", "A", 1 / units.PA_PER_A) for label in self.labels]
                + [(f"g{label}", "S", 1 / units.NS_PER_S) for label in self.labels]
                + [(name, "", 1.0) for name in self.gate_names])

    def steady_state_current_pa(self, v_mv, chan_g_ns=None, gate_floor=None):
        """Membrane current (pA, outward +) with every gate at steady state, at v_mv (mV).

        chan_g_ns, gate_floor: the conductances and gate floors in force (after drugs);
        by default the drug-free ones.
        """
        v = np.asarray(v_mv, dtype=float)
        chan_g_ns = self.chan_g_ns if chan_g_ns is None else chan_g_ns
        floors = np.zeros(len(self.gates)) if gate_floor is None else gate_floor
        open_fraction = np.ones((len(self.channel_labels),) + v.shape)
        for (gate, ch), floor in zip(self.gates, floors):
            x = floor + (1.0 - floor) * gate.steady_state(v)
            open_fraction[ch] = open_fraction[ch] * x ** gate.power
        g = chan_g_ns.reshape((-1,) + (1,) * v.ndim) * open_fraction
        return np.sum(g * (v - self.chan_e_mv.reshape((-1,) + (1,) * v.ndim)), axis=0)

    def steady_gates(self, v_mv):
        """Gate values (kernel order) at steady state at v_mv (mV)."""
        return np.array([gate.steady_state(v_mv) for gate, _ in self.gates], dtype=float)

    def derivatives(self, state, injected_pa, chan_g_ns, gate_floor, g_seal_ns):
        """d/dt of [Vm (mV), gates...] in mV/ms and 1/ms for a cell receiving
        injected_pa (pA) directly: the current-clamp ODE the kernel integrates."""
        v, gates = state[0], state[1:]
        open_fraction = np.ones(len(self.channel_labels))
        rates = np.empty(len(self.gates))
        for i, ((gate, ch), floor, phi) in enumerate(zip(self.gates, gate_floor, self.gate_phi)):
            x = floor + (1.0 - floor) * gates[i]
            open_fraction[ch] *= x ** gate.power
            rates[i] = phi * (gate.alpha(v) * (1.0 - gates[i]) - gate.beta(v) * gates[i])
        ionic = np.sum(chan_g_ns * open_fraction * (v - self.chan_e_mv)) + g_seal_ns * v
        return np.concatenate(([(injected_pa - ionic) / self.cm_pf], rates))

    def relax_gates(self, gate_values, v_mv, duration_ms):
        """Gate values after duration_ms at a fixed voltage (exact first-order relaxation)."""
        result = np.array(gate_values, dtype=float)
        for i, ((gate, _), phi) in enumerate(zip(self.gates, self.gate_phi)):
            x_inf = gate.steady_state(v_mv)
            result[i] = x_inf + (result[i] - x_inf) * np.exp(
                -duration_ms / gate.time_constant_ms(v_mv, phi))
        return result

    def drug_arrays(self, effects):
        """(chan_g_ns, gate_floor) with a pharmacology.Effects applied."""
        scale = np.array([effects.conductance_scale.get(label, 1.0)
                          for label in self.channel_labels])
        floor = np.array([effects.inactivation_removed.get(self.channel_labels[ch], 0.0)
                          if gate.inactivating else 0.0 for gate, ch in self.gates])
        return self.chan_g_ns * scale, floor


def reversal_potentials_mv(bath, pipette, temperature_c):
    """{ion: Nernst potential in mV} for the ions present on both sides."""
    return {ion: units.v_to_mv(v)
            for ion, v in reversal_potentials(bath, pipette, temperature_c).items()}


def leak_components(cell, e_mv):
    """(conductance density mS/cm^2, reversal mV) of each leak component that conducts."""
    components = []
    for ion, density in cell.leak_ms_per_cm2.items():
        reversal = 0.0 if ion == NONSELECTIVE else e_mv.get(ion)
        if reversal is not None and density > 0:
            components.append((density, reversal))
    return components


def leak_reversal_mv(cell, bath, pipette, temperature_c):
    """Chord-conductance reversal (mV) of the cell's leak in these solutions (nan if
    it has no leak)."""
    parts = leak_components(cell, reversal_potentials_mv(bath, pipette, temperature_c))
    total = sum(g for g, _ in parts)
    return sum(g * e for g, e in parts) / total if total > 0 else float("nan")


def gate_column_names(cell):
    """Signal names of the gates: the gate's own name where unique, else 'Label_name'."""
    pairs = [(cell.channels[i][0].label, gate.name) for i, gate in cell.gates()]
    names = [name for _, name in pairs]
    return tuple(name if names.count(name) == 1 else f"{label}_{name}" for label, name in pairs)


def compile_membrane(cell, bath, pipette, temperature_c, dt_ms):
    """Build the kernel arrays (drug-free; see CompiledMembrane.drug_arrays)."""
    e_mv = reversal_potentials_mv(bath, pipette, temperature_c)
    labels, g_ns, e_list = [], [], []
    gates, gate_channel, gate_power, gates_phi, charge = [], [], [], [], []
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
            charge.append(gate.charge_nc_per_cm2 * cell.area_um2 * units.CM2_PER_UM2 * 1e6)
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
