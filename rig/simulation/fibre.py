"""A fibre on the bench, from Python: a cable cell in its solutions at a temperature,
a stimulating electrode at one position and recording sites at others, stepped in
current clamp by the cable kernel; and the conduction velocity between two sites.

SI at this boundary (m, s, V, A; temperature in degC), kernel units inside. A bench
without the amplifier: its stimulator reaches 1 mA (the squid axon takes tens of uA,
beyond the headstage's range), and it steps one block with nothing else in the way.
:class:`rig.simulation.engine.Rig` carries a fibre too (CC, I=0, ideal VC), with the
amplifier, protocols and files.
"""

import math

import numpy as np

from rig import units
from rig.errors import VrigError
from rig.model import limits, physics
from rig.model.cell import load_cell
from rig.model.pharmacology import drug_effects
from rig.model.solutions import check_permeant, load_solution
from rig.simulation import layout, reference
from rig.simulation.cable import STIMULATOR_LIMIT_A, LocalEffect, cable_model, cable_output_rows
from rig.simulation.membrane import compile_membrane
from rig.simulation.registry import advance_function
from rig.simulation.state import SimulationState
from rig.simulation.steady_state import steady_voltage_mv

DEFAULT_FIBRE_DT_S = 25e-6


class Fibre:
    """A cable cell (a :class:`rig.model.cell.Cell` with a geometry) in current clamp.

    bath, pipette: Solution values (default: the cell's own); temperature_c: degC
    (default: the cell's); dt: time step (s); stim_at: position of the stimulating
    electrode (m from the first end); record_at: positions of the recording sites (m);
    local_drugs: (drug name or Drug, concentration (M), start (m), end (m)) applied
    outside on a stretch of the fibre.
    """

    def __init__(self, cell, bath=None, pipette=None, temperature_c=None,
                 dt=DEFAULT_FIBRE_DT_S, stim_at=0.0, record_at=(), local_drugs=()):
        if cell.geometry is None:
            raise VrigError(f"cell {cell.name!r} is a single compartment, not a fibre; "
                            "choose a cell preset with a cable geometry")
        self.cell = cell
        self.geometry = cell.geometry
        self.bath = check_permeant(bath or load_solution(cell.bath), "bath")
        self.pipette = check_permeant(pipette or load_solution(cell.pipette), "pipette")
        self.temperature_c = physics.check_temperature(
            cell.temperature_c if temperature_c is None else temperature_c)
        self.dt = limits.check_dt(dt)
        self.stim_at = float(stim_at)
        self.record_at = tuple(float(x) for x in record_at)
        self.stim = self.geometry.compartment_at(units.m_to_um(self.stim_at))
        self.sites = np.array([self.geometry.compartment_at(units.m_to_um(x))
                               for x in self.record_at], dtype=np.int64)
        self.local = tuple(self._local_effect(*entry) for entry in local_drugs)
        self.membrane = compile_membrane(cell, self.bath, self.pipette, self.temperature_c,
                                         units.s_to_ms(self.dt))
        m = self.membrane
        self.model = cable_model(m, cell, m.chan_g_ns, np.zeros(len(m.gates)), self.stim,
                                 self.sites, self.local)
        self.record = tuple(self.model)
        self.amp = np.zeros(layout.N_AMP)
        self.amp[layout.AMP_BREAKDOWN] = cell.breakdown_mv
        self.amp[layout.AMP_COMMAND_SCALE] = units.PA_PER_A
        self.amp[layout.AMP_COMMAND_LIMIT] = units.a_to_pa(STIMULATOR_LIMIT_A)
        self.advance_function = advance_function(m.kind, self.geometry.n_compartments,
                                                 layout.CLAMP_CC)
        self.sim = SimulationState.zeros(len(m.gates), self.geometry.n_compartments)
        self.settle()

    def _local_effect(self, drug, concentration_m, start_m, end_m):
        from rig.model.pharmacology import load_drug

        drug = load_drug(drug) if isinstance(drug, str) else drug
        effects = drug_effects([(drug, "outside", float(concentration_m))],
                               self.cell.preparation)
        return LocalEffect(units.m_to_um(float(start_m)), units.m_to_um(float(end_m)), effects)

    def resting_potential_mv(self):
        """The potential (mV) of the bare membrane with no current (the whole fibre's
        rest when it is uniform)."""
        m = self.membrane
        return steady_voltage_mv(lambda v: reference.steady_current_pa(m, v),
                                 lambda v: np.zeros_like(np.asarray(v, dtype=float)))

    def settle(self):
        """Every compartment at the membrane's rest, gates at steady state."""
        v = self.resting_potential_mv()
        self.sim.set_uniform(v, reference.steady_gates(self.membrane, v))
        self.sim.electrode[layout.EL_VP] = v
        self.sim.electrode[layout.EL_IM] = 0.0  # at rest the stimulator passes nothing
        self.sim.electrode[layout.EL_IGATE] = 0.0

    def signal_names(self):
        """Names of the rows run() returns after 'Vmem' (the electrode's compartment):
        one 'Vm@<mm>mm' per recording site."""
        return tuple(f"Vm@{units.um_to_mm(units.m_to_um(x)):g}mm" for x in self.record_at)

    def run(self, command_a, sample_interval_s):
        """Step through a per-sample injected current (A) at the stimulating electrode;
        returns {'t': sample times (s; sample k is the state at k * interval, as a
        digitiser reads it), 'Vmem': V at the electrode
        (V), 'Vm@<x>mm': V at each site (V)}."""
        command = np.array(command_a, dtype=float)
        steps = max(1, math.ceil(sample_interval_s / self.dt - 1e-9))
        if not math.isclose(units.s_to_ms(sample_interval_s) / steps, self.membrane.dt_ms):
            raise VrigError(f"the sample interval must be a whole number of steps of "
                            f"{units.s_to_us(self.dt):g} us")
        out = np.empty((cable_output_rows(self.membrane, self.sites.size), command.size))
        sim = self.sim
        ok, _, _ = self.advance_function(self.record, self.amp,
                                         (sim.v_mv, sim.gates, sim.electrode), command,
                                         steps, out)
        if not ok:
            raise VrigError("stimulus out of range: it must be finite and within "
                            f"+/-{units.a_to_pa(STIMULATOR_LIMIT_A) / 1e6:g} uA")
        if not np.all(np.isfinite(sim.v_mv)):
            raise VrigError("the simulation became unstable (non-finite state); "
                            "use a smaller time step")
        result = {"t": np.arange(command.size) * sample_interval_s,
                  "Vmem": out[layout.OUT_VMEM]}
        first = out.shape[0] - self.sites.size
        result.update(zip(self.signal_names(), out[first:]))
        return result


def pulse_current_a(fibre, depolarisation_mv, duration_s):
    """A current (A) that depolarises the end of a fibre by about depolarisation_mv (mV)
    in a pulse of duration_s (s): the charge spreads over sqrt(t / (ra cm)), so the end
    admits about sqrt(cm / (ra t)) per unit voltage (cm per unit length, ra axial
    resistance per unit length), whatever the compartment length."""
    lengths = fibre.geometry.compartment_lengths_um()
    if lengths.size == 1:
        return units.pa_to_a(fibre.model.cm_pf[0] * depolarisation_mv
                             / units.s_to_ms(duration_s))
    cm_per_um = fibre.model.cm_pf[fibre.stim] / lengths[fibre.stim]
    ga_um = fibre.model.g_axial_ns[min(fibre.stim, lengths.size - 2)] * lengths[fibre.stim]
    admittance_ns = math.sqrt(cm_per_um * ga_um / units.s_to_ms(duration_s))
    return units.pa_to_a(admittance_ns * depolarisation_mv)


def crossing_time(t_s, v, level_v=0.0):
    """The first time (s) v rises through level_v, linearly interpolated between
    samples; nan if it never does."""
    v = np.asarray(v, dtype=float)
    above = np.flatnonzero((v[1:] >= level_v) & (v[:-1] < level_v))
    if above.size == 0:
        return math.nan
    i = above[0]
    return float(t_s[i] + (level_v - v[i]) / (v[i + 1] - v[i]) * (t_s[i + 1] - t_s[i]))


def conduction_velocity(t_s, v_near, v_far, distance_m, level_v=0.0):
    """Conduction velocity (m/s) between two sites distance_m apart (m), from the times
    the action potential rises through level_v (V) at each; nan if it fails to reach
    either."""
    delay = crossing_time(t_s, v_far, level_v) - crossing_time(t_s, v_near, level_v)
    return distance_m / delay if delay > 0 else math.nan


def squid_axon_velocity(cell="squid-axon", dt=DEFAULT_FIBRE_DT_S, near=0.01, far=0.02,
                        temperature_c=None, stimulus_a=None, duration_s=0.004):
    """(velocity m/s, Fibre) of a preset fibre stimulated at its first end by a 0.1 ms
    pulse (default: pulse_current_a for 60 mV) and recorded at near and far (m)."""
    fibre = Fibre(load_cell(cell) if isinstance(cell, str) else cell,
                  temperature_c=temperature_c, dt=dt, record_at=(near, far))
    if stimulus_a is None:
        stimulus_a = pulse_current_a(fibre, 60.0, 1e-4)
    n = round(duration_s / dt)
    command = np.zeros(n)
    command[: max(1, round(1e-4 / dt))] = stimulus_a
    trace = fibre.run(command, dt)
    names = fibre.signal_names()
    return conduction_velocity(trace["t"], trace[names[0]], trace[names[1]], far - near), fibre
