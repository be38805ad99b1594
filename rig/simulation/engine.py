"""The engine: owns the simulation state and steps it synchronously.

No threads here: :mod:`rig.acquisition.runner` wraps this for the window; tests, the CLI and
notebooks call it directly and get the same numbers. Public values are SI (V, A, s,
ohm) with temperature in degC; the kernel underneath works in mV, ms, pA, nS, pF.
"""

import json
import math
from dataclasses import replace

import numpy as np

from rig import units
from rig.clamp import Mode
from rig.version import __version__

from rig.simulation import kernel, layout

from rig.model import limits

from rig.model import physics
from rig.amplifier.circuit import Amplifier, OutputChain, input_range
from rig.model.cell import load_cell, specific_capacitance_for
from rig.model.channels import TABLE_V_MAX_MV, TABLE_V_MIN_MV
from rig.simulation.episodes import run_protocol
from rig.errors import VrigError
from rig.simulation.membrane import compile_membrane, leak_reversal_mv, reversal_potentials_mv
from rig.model.pharmacology import Perfusion, load_drug
from rig.model.solutions import check_permeant, load_solution, parse_ion_override
from rig.simulation.steady_state import is_stable, steady_voltage_mv

DEFAULT_DT_S = 10e-6
PERFUSION_BLOCK_S = 0.01  # drug effects are updated at least this often while washing
UNSTABLE_SETTLE_S = 0.3  # run time that brings a cell off an unstable rest onto its firing
GAP_SAMPLE_STEPS = 100  # steps per (unrecorded) sample while holding between sweeps


class Rig:
    """A cell in a bath, with a pipette solution, at a temperature, on an amplifier.

    cell: a :class:`rig.model.cell.Cell`; bath, pipette: :class:`rig.model.solutions.Solution`;
    temperature_c: degC (default: the cell's); dt: the largest time step in s (the
    step actually used divides the sample interval evenly); series_resistance: access
    resistance in ohm (0 = ideal clamp; default: the cell's); amplifier: an
    :class:`rig.amplifier.circuit.Amplifier` (default: the cell's electrode, no artefacts);
    seed: for every random number the rig draws (instrument noise).

    A membrane driven past its breakdown voltage (+/-400 mV; see :mod:`rig.model.limits`)
    is lost: advance()
    and hold() then raise a VrigError, and keep raising it (``lost`` says why) until
    settle() puts a fresh cell in place.
    """

    def __init__(self, cell, bath, pipette, temperature_c=None, dt=DEFAULT_DT_S,
                 series_resistance=None, seed=0, amplifier=None):
        self.cell = cell
        self._bath = check_permeant(bath, "bath")
        self._pipette = check_permeant(pipette, "pipette")
        self._temperature_c = physics.check_temperature(
            cell.temperature_c if temperature_c is None else temperature_c)
        self.dt = limits.check_dt(dt)
        if amplifier is None:
            amplifier = Amplifier.for_cell(cell)
            if series_resistance is not None:
                amplifier = amplifier.changed(series_resistance=float(series_resistance))
        self.amplifier = amplifier
        self.seed = limits.check_seed(seed)
        self.rng = np.random.default_rng(self.seed)
        self.output_chain = OutputChain(self.rng)
        self.overloaded = False  # the output would have clipped since the last settle
        self.last_overload = False  # ... in the last block advanced
        self._membranes = {}
        self._inputs_membrane = None
        self._inputs_key = None
        self._inputs = None
        self.perfusion = Perfusion(cell.preparation)
        self.lost = ""  # why the cell was lost (membrane breakdown); "" while it is intact
        self.mode = Mode.CC
        self.holding = {Mode.VC: units.mv_to_v(-65.0), Mode.CC: 0.0, Mode.I0: 0.0}
        self.state = np.zeros(1 + len(cell.gates()))
        self.electrode = np.zeros(layout.N_EL)
        self.time_s = 0.0
        self.settle()

    @classmethod
    def from_presets(cls, cell="hh-squid", bath=None, pipette=None, temperature_c=None,
                     ion_overrides=(), **kwargs):
        """A Rig from preset names; bath and pipette default to the cell's own.

        ion_overrides: iterable of 'out:Na=44' / 'in:K=140' strings (mM).
        """
        cell_preset = load_cell(cell)
        bath_solution = load_solution(bath or cell_preset.bath)
        pipette_solution = load_solution(pipette or cell_preset.pipette)
        for text in ion_overrides:
            side, ion, mm = parse_ion_override(text)
            if side == "out":
                bath_solution = bath_solution.with_ion(ion, mm)
            else:
                pipette_solution = pipette_solution.with_ion(ion, mm)
        return cls(cell_preset, bath_solution, pipette_solution, temperature_c, **kwargs)

    # --- settings -------------------------------------------------------------------

    @property
    def bath(self):
        """The bath (outside) Solution."""
        return self._bath

    @property
    def pipette(self):
        """The pipette (inside) Solution."""
        return self._pipette

    @property
    def temperature_c(self):
        """Bath temperature in degC."""
        return self._temperature_c

    @property
    def series_resistance(self):
        """Access resistance in ohm (0 = ideal clamp)."""
        return self.amplifier.series_resistance

    def set_amplifier(self, **changes):
        """Change amplifier settings (see rig.amplifier.circuit.Amplifier); validated first.
        A smaller range (a larger feedback resistor) is refused while the CC holding
        current is beyond it."""
        amplifier = self.amplifier.changed(**changes)
        limits.check_holding(Mode.CC, self.holding[Mode.CC], amplifier)
        self.amplifier = amplifier

    def set_capacitance(self, capacitance_f):
        """Change the cell's membrane capacitance (F) by its specific capacitance (the
        area, and so every conductance, stays); 0.1-10 uF/cm^2 are allowed."""
        self.cell = replace(self.cell, specific_capacitance_uf_per_cm2=(
            specific_capacitance_for(self.cell, capacitance_f)))
        self._membranes.clear()

    def set_solutions(self, bath=None, pipette=None):
        """Change the bath and/or pipette solution; reversal potentials follow at once."""
        self._bath = check_permeant(bath, "bath") if bath else self._bath
        self._pipette = check_permeant(pipette, "pipette") if pipette else self._pipette
        self._membranes.clear()

    def set_temperature(self, temperature_c):
        """Change the temperature (degC): kinetics scale by Q10, reversals by RT/F."""
        self._temperature_c = physics.check_temperature(temperature_c)
        self._membranes.clear()

    def set_mode(self, mode):
        """Switch clamp mode (a Mode, or 'VC', 'CC', 'I0') without touching the cell's state."""
        mode = Mode.parse(mode)
        if mode != self.mode:
            # The pipette is where the membrane is at the switch, so nothing jumps.
            self.electrode[layout.EL_ILAG] = 0.0
            self.electrode[layout.EL_VPRED] = self.state[0]
        self.mode = mode

    def set_holding(self, value, mode=None):
        """Holding level of a mode (V for VC, A for CC); each mode remembers its own."""
        mode = Mode.parse(mode or self.mode)
        self.holding[mode] = limits.check_holding(mode, value, self.amplifier)

    def apply_drug(self, drug, concentration_m, side="outside", steady_state=False):
        """Perfuse a drug (name or pharmacology.Drug) at a concentration (M) on a side
        ('outside' = bath, 'inside' = pipette). steady_state=True applies it at once."""
        drug = load_drug(drug) if isinstance(drug, str) else drug
        self.perfusion.apply(drug, concentration_m, side, steady_state)

    def wash_drug(self, name=None):
        """Wash one drug (by name) or all drugs out of the bath and pipette."""
        self.perfusion.wash(None if name is None else load_drug(name).name)

    # --- derived quantities ----------------------------------------------------------

    def membrane(self, dt_ms=None):
        """The compiled membrane for a time step (ms), cached until a setting changes."""
        dt_ms = units.s_to_ms(self.dt) if dt_ms is None else dt_ms
        key = round(dt_ms, 12)
        if key not in self._membranes:
            self._membranes[key] = compile_membrane(
                self.cell, self._bath, self._pipette, self._temperature_c, dt_ms)
        return self._membranes[key]

    def reversal_potentials(self):
        """{ion: V} for each permeant ion on both sides, plus 'leak' (chord average).
        Reads only immutable settings, so any thread may call it."""
        bath, pipette, temperature = self._bath, self._pipette, self._temperature_c
        result = {ion: units.mv_to_v(e) for ion, e in
                  reversal_potentials_mv(bath, pipette, temperature).items()}
        result["leak"] = units.mv_to_v(leak_reversal_mv(self.cell, bath, pipette, temperature))
        return result

    def resting_potential(self):
        """The membrane's steady-state potential (V) with no current applied (in a
        high-K bath this steady state can be unstable, and the cell fires instead)."""
        return units.mv_to_v(self._steady_voltage_mv(Mode.I0))

    @property
    def membrane_potential(self):
        """The present (true) membrane potential in V."""
        return units.mv_to_v(self.state[0])

    @property
    def saturated(self):
        """True once the headstage has hit its rails (over-compensation, oscillation)."""
        return self.electrode[layout.EL_RAIL_HITS] > 0

    def signal_names(self):
        """Names of the signals advance() returns, in order, with their SI units."""
        m = self.membrane()
        names = [("Vm", "V"), ("Im", "A"), ("command", self.mode.command_unit),
                 ("Vmem", "V")]
        if m.gate_charge_fc.any():
            names.append(("Igating", "A"))
        names += [(name, unit) for name, unit, _ in m.output_names()]
        return names

    # --- stepping -------------------------------------------------------------------

    def settle(self):
        """Put the cell and electrode at their steady state for the present mode and
        holding level, and clear the output filters and the rail flag.

        In current clamp the steady state can be unstable (a held current in the
        repetitive-firing range, a high-K bath): then the cell is nudged off it and
        run for UNSTABLE_SETTLE_S, so that it is found firing, as a real cell would be.
        """
        self.lost = ""
        v = self._steady_voltage_mv(self.mode)
        m = self.membrane()
        self.state = np.concatenate(([v], m.steady_gates(v)))
        self._settle_electrode(v)
        self.output_chain.reset()
        self.overloaded = False
        if abs(v) > self.cell.breakdown_mv:
            # The holding level itself would destroy the cell: it is lost from the start.
            self.lost = limits.breakdown_message(v, self.cell.breakdown_mv,
                                                 " at this holding level")
        elif self.mode != Mode.VC and not self._rest_is_stable(m):
            # Settling happens before the experiment: the clock does not move.
            clock, drugs = self.time_s, self.perfusion.snapshot()
            self.state[0] += 1.0
            self.hold(UNSTABLE_SETTLE_S)
            self.time_s = clock
            self.perfusion.restore(drugs)
            self.output_chain.reset()

    def _rest_is_stable(self, m):
        chan_g, floor = self._kernel_inputs(m)[:2]
        injected = units.a_to_pa(self.holding[Mode.CC]) if self.mode == Mode.CC else 0.0
        g_seal = units.ohm_to_ns(self.amplifier.seal_resistance)
        return is_stable(lambda y: m.derivatives(y, injected, chan_g, floor, g_seal), self.state)

    def _settle_electrode(self, v):
        holding = self._holding_kernel()
        e = self.electrode
        e[:] = 0.0
        e[layout.EL_VPRED] = holding if self.mode == Mode.VC else v
        if self.mode == Mode.VC:
            current = self._steady_membrane_current_pa(v)
            e[layout.EL_ILAG] = current
            a = self.amplifier
            e[layout.EL_VP] = holding + units.ohmic_drop_mv(
                a.rs_correction * a.whole_cell_resistance, current)
        else:
            injected = holding if self.mode == Mode.CC else 0.0
            e[layout.EL_VP] = v + units.ohmic_drop_mv(self.series_resistance, injected)
        e[layout.EL_VLAG] = e[layout.EL_VP]

    def _kernel_mode(self):
        if self.mode == Mode.VC:
            return layout.MODE_VC_IDEAL if self.series_resistance == 0 else layout.MODE_VC
        return layout.MODE_CC if self.mode == Mode.CC else layout.MODE_I0

    def _command_to_kernel(self, command_si):
        command = np.asarray(command_si, dtype=float)
        return self.mode.from_si(command)

    def _holding_kernel(self):
        return float(self._command_to_kernel(self.holding[self.mode]))

    def _steady_membrane_current_pa(self, v_mv):
        m = self.membrane()
        chan_g, floor = m.drug_arrays(self.perfusion.effects())
        seal_ns = units.ohm_to_ns(self.amplifier.seal_resistance)
        return m.steady_state_current_pa(v_mv, chan_g, floor) + seal_ns * v_mv

    def _steady_voltage_mv(self, mode):
        holding = (units.v_to_mv(self.holding[Mode.VC]) if mode == Mode.VC
                   else units.a_to_pa(self.holding[Mode.CC]) if mode == Mode.CC else 0.0)
        if mode == Mode.VC and self.series_resistance == 0:
            return holding
        if mode == Mode.VC:
            # Rs correction shrinks the effective access resistance by its fraction.
            a = self.amplifier
            rs_ohm = max(a.series_resistance - a.rs_correction * a.whole_cell_resistance,
                         0.01 * a.series_resistance)
            g_eff = units.ohm_to_ns(rs_ohm)
            return steady_voltage_mv(self._steady_membrane_current_pa,
                                     lambda v: g_eff * (holding - v))
        return steady_voltage_mv(self._steady_membrane_current_pa,
                                 lambda v: np.full_like(np.asarray(v, dtype=float), holding))

    def steps_per_sample(self, sample_interval_s):
        """Kernel steps per sample: the fewest that keep the step at or below dt."""
        steps = int(np.ceil(sample_interval_s / self.dt - 1e-9))
        return max(1, steps)

    def advance(self, command_si, sample_interval_s):
        """Step through a block of samples; returns {signal: SI array}.

        command_si: per-sample command (V in VC, A in CC; ignored in I0).
        sample_interval_s: time between samples (s); the step is the largest that
        divides it and does not exceed ``self.dt``. Sets ``self.overloaded`` (and
        ``last_overload`` for this call's last block) when the output exceeded the
        digitiser's range.
        """
        command = self._command_to_kernel(command_si)
        limits.check_command(self.mode, command, self.amplifier)
        self._check_intact()
        steps = self.steps_per_sample(sample_interval_s)
        m = self.membrane(units.s_to_ms(sample_interval_s) / steps)
        t0 = self.time_s
        if self.perfusion.settled:
            out = self._run_kernel(m, command, steps)
        else:
            # Drug effects are refreshed at least every PERFUSION_BLOCK_S while washing.
            block = max(1, int(PERFUSION_BLOCK_S / sample_interval_s))
            out = np.concatenate([self._run_kernel(m, command[i: i + block], steps)
                                  for i in range(0, command.size, block)], axis=1)
        self.time_s += command.size * sample_interval_s
        # The command signal is the caller's own (copied), not a round trip through mV.
        command_si = (np.array(command_si, dtype=float) if self.mode != Mode.I0
                      else np.zeros(command.size))
        return self._signals(m, out, command_si, sample_interval_s, t0)

    def hold(self, duration_s):
        """Advance at the holding level without recording (e.g. between sweeps)."""
        m = self.membrane()
        self._check_intact()
        if self._kernel_mode() == layout.MODE_VC_IDEAL and self.perfusion.settled:
            # The voltage is imposed, so the gates relax exactly; no need to step.
            holding = self._holding_kernel()
            if abs(holding) > self.cell.breakdown_mv:
                self.lost = limits.breakdown_message(holding, self.cell.breakdown_mv)
                raise VrigError(self.lost)
            self.state[0] = holding
            self.state[1:] = m.relax_gates(self.state[1:], holding, units.s_to_ms(duration_s))
            self.electrode[layout.EL_VP] = holding
            self.time_s += duration_s
            self.output_chain.reset()
            return
        sample_s = units.ms_to_s(m.dt_ms) * GAP_SAMPLE_STEPS
        n = int(round(duration_s / sample_s))
        if n == 0:
            return
        block = np.full(min(n, 10_000), self._holding_kernel())
        if not self.perfusion.settled:
            block = block[: max(1, int(PERFUSION_BLOCK_S / sample_s))]
        for start in range(0, n, block.size):
            self._run_kernel(m, block[: min(block.size, n - start)], GAP_SAMPLE_STEPS)
        self.time_s += n * sample_s
        self.output_chain.reset()

    def _kernel_inputs(self, m):
        """(conductances, gate floors, amplifier array, label matrix) for the kernel,
        recomputed only when the membrane, the drugs or the amplifier change."""
        # The membrane is compared by identity, and held, so a new one can never be
        # mistaken for an old one that happened to live at the same address.
        key = (tuple(self.perfusion.present.items()), self.amplifier)
        if self._inputs_membrane is not m or self._inputs_key != key:
            chan_g, floor = m.drug_arrays(self.perfusion.effects())
            amp = layout.amplifier_parameters(self.amplifier)
            amp[layout.AMP_BREAKDOWN] = self.cell.breakdown_mv
            rows = m.output_names()
            to_si = [1 / units.MV_PER_V, 1 / units.PA_PER_A, 1 / units.MV_PER_V,
                     1 / units.PA_PER_A]  # the OUT_* rows: Vm, Im, Vmem, Igating
            scale = np.array(to_si + [factor for _, _, factor in rows])[:, None]
            self._inputs = (chan_g, floor, amp, m.channel_label_index, [name for name, _, _ in rows], scale)
            self._inputs_membrane, self._inputs_key = m, key
        return self._inputs

    def _run_kernel(self, m, command, steps):
        """Step the kernel through command (kernel units), then let drugs move on."""
        out = np.empty((layout.FIRST_LABEL_ROW + 2 * len(m.labels) + m.gate_channel.size,
                        command.size))
        chan_g, floor, amp, chan_label, _, _ = self._kernel_inputs(m)
        v_grid = m.x_inf.shape[1]
        kernel.advance(self.state, self.electrode, command, steps, m.dt_ms,
                       self._kernel_mode(), m.cm_pf, amp,
                       m.gate_channel, m.gate_power, floor, m.gate_charge_fc,
                       m.x_inf, m.decay, TABLE_V_MIN_MV,
                       (v_grid - 1) / (TABLE_V_MAX_MV - TABLE_V_MIN_MV),
                       chan_g, m.chan_e_mv, chan_label, out)
        if not self.perfusion.settled:
            self.perfusion.advance(command.size * steps * units.ms_to_s(m.dt_ms))
        if self.electrode[layout.EL_BREAKDOWN]:
            self.lost = limits.breakdown_message(self.electrode[layout.EL_BREAKDOWN],
                                                 self.cell.breakdown_mv)
            raise VrigError(self.lost)
        # A non-finite gate or node reaches the membrane potential within a step.
        if not (math.isfinite(self.state[0]) and math.isfinite(self.electrode[layout.EL_VP])):
            raise VrigError("the simulation became unstable (non-finite state); "
                            "reset the cell and use a smaller time step")
        return out

    def _check_intact(self):
        if self.lost:
            raise VrigError(self.lost)

    def _signals(self, m, out, command_si, sample_interval_s, t0_s):
        """Kernel output rows as SI signals: scaled in place, returned as views, so a
        long run allocates its output once. t0_s: time of the first sample (s)."""
        names, scale = self._kernel_inputs(m)[4:]
        out *= scale
        voltage, current, overloaded = self.output_chain.process(
            self.amplifier, self.mode, out[layout.OUT_VM], out[layout.OUT_IM],
            sample_interval_s, t0_s)
        self.overloaded = self.overloaded or overloaded
        self.last_overload = overloaded
        signals = {"Vm": voltage, "Im": current,
                   "command": command_si,
                   "Vmem": out[layout.OUT_VMEM]}
        if m.gate_charge_fc.any():
            signals["Igating"] = out[layout.OUT_IGATE]
        signals.update(zip(names, out[layout.FIRST_LABEL_ROW:]))
        return signals

    # --- protocols ------------------------------------------------------------------

    def run(self, protocol, progress=None, leak_subtraction=None):
        """Run every sweep of a protocol from the settled state; returns a Recording.

        progress: optional callable(sweep_index, n_sweeps) called after each sweep.
        leak_subtraction: P/N sub-sweeps per sweep (overrides the protocol's; 0 = off).
        """
        return run_protocol(self, protocol, progress, leak_subtraction)

    def metadata(self, protocol=None, dt_s=None):
        """Everything needed to reproduce a recording, as text for file headers.

        It only reads immutable settings (cell, solutions, amplifier) and copies of the
        drug table, so the window may call it while the runner owns the engine."""
        bath, pipette, temperature = self._bath, self._pipette, self._temperature_c
        e_rev = self.reversal_potentials()
        meta = {
            "vrig_version": __version__,
            "protocol": protocol.name if protocol else "continuous",
            "mode": self.mode,
            "cell": self.cell.name,
            "membrane_area_um2": f"{self.cell.area_um2:g}",
            "membrane_capacitance_pF": f"{self.cell.capacitance_pf:g}",
            "temperature_C": f"{temperature:g}",
            "sample_rate_kHz": f"{protocol.sample_rate_khz:g}" if protocol else "",
            "dt_us": f"{(dt_s or self.dt) * 1e6:g}",
            "seed": str(self.seed),
            "series_resistance_MOhm": f"{units.ohm_to_mohm(self.series_resistance):g}",
            "amplifier": self.amplifier.describe(),
            "bath": bath.name,
            "bath_mM": bath.summary(),
            "pipette": pipette.name,
            "pipette_mM": pipette.summary(),
            "E_rev_mV": " ".join(f"{ion}={units.v_to_mv(v):.1f}" for ion, v in e_rev.items()),
            "drugs": self.perfusion.summary() or "none",
        }
        held = self.perfusion.held_summary()
        if held:
            meta["irreversible_effects"] = held
        if self.overloaded:
            v_range, i_range = input_range(self.amplifier, self.mode)
            meta["overload"] = (f"the recorded output clipped at +/-{i_range * 1e9:g} nA or "
                                f"+/-{v_range * 1e3:g} mV (see the amplifier's range and gain)")
        if protocol is not None:
            meta["holding"] = f"{protocol.holding:g} {protocol.units}"
            meta["sweeps"] = str(protocol.sweeps)
            meta["sweep_interval_ms"] = f"{protocol.sweep_interval_ms:g}"
            meta["protocol_json"] = json.dumps(protocol.to_dict())
        return meta

