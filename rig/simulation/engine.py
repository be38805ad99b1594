"""The engine: owns the simulation state and steps it synchronously.

No threads here: :mod:`rig.acquisition.runner` wraps this for the window; tests, the CLI and
notebooks call it directly and get the same numbers. Public values are SI (V, A, s,
ohm) with temperature in degC; the kernel underneath works in mV, ms, pA, nS, pF.

The parts: :mod:`rig.simulation.model_cache` (compiled membranes and kernel inputs),
:mod:`rig.simulation.stepping` (kernel runs, holding, signals),
:mod:`rig.simulation.steady_state` (settling), :mod:`rig.simulation.metadata` (file
headers), :mod:`rig.simulation.state` (the arrays the kernel advances).
"""

import math
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from rig import units
from rig.amplifier.circuit import Amplifier, OutputChain
from rig.clamp import Mode
from rig.errors import VrigError
from rig.files.recording import Recording
from rig.model import limits, physics
from rig.model.cell import (
    Cell,
    load_cell,
    specific_capacitance_for,
    uses_markov,
    with_channel_counts,
)
from rig.model.junction import junction_potential
from rig.model.pharmacology import Drug, Perfusion, drug_effects, format_concentration, load_drug
from rig.model.solutions import Solution, check_permeant, load_solution, with_ion_overrides
from rig.protocols.protocol import Protocol
from rig.simulation import channel_random, ion_blocks, layout, steady_state, stepping
from rig.simulation.accumulation import SIGNALS as ACCUMULATION_SIGNALS
from rig.simulation.accumulation import gradient_store, with_pump_channel
from rig.simulation.cable import LocalEffect, Stimulator, placement, profile_compartments
from rig.simulation.episodes import run_protocol
from rig.simulation.membrane import CompiledMembrane, leak_reversal_mv, reversal_potentials_mv
from rig.simulation.metadata import recording_metadata
from rig.simulation.model_cache import KernelInputs, ModelCache
from rig.simulation.state import SimulationState
from rig.simulation.stochastic import configured, state_rows

DEFAULT_DT_S = 10e-6
# advance()'s key for the space-time profile of a fibre (see Rig.set_profile): not a
# signal (signal_names() leaves it out), so recordings and files never carry it
PROFILE = "profile"


class Rig:
    """A cell in a bath, with a pipette solution, at a temperature, on an amplifier.

    cell: a :class:`rig.model.cell.Cell`; bath, pipette: :class:`rig.model.solutions.Solution`;
    temperature_c: degC (default: the cell's); dt: the largest time step in s (the
    step actually used divides the sample interval evenly); series_resistance: access
    resistance in ohm (0 = ideal clamp; default: the cell's); amplifier: an
    :class:`rig.amplifier.circuit.Amplifier` (default: the cell's electrode, no artefacts);
    seed: for every random number the rig draws (instrument noise, and channel gating
    from a generator of its own, so that noise on or off leaves the openings alone);
    stochastic: True to simulate every channel as a random molecule (its Markov scheme,
    counted from density x area / unitary conductance), False for the mean (default:
    the cell's own, on for patches); channel_counts: {label: number of channels}
    (e.g. {'Na': 50}) counted one by one, replacing the cell's; giving counts turns
    stochastic on unless it is False; accumulation, pump:
    internal Na, K, Cl (and periaxonal K) as state, and the Na/K pump (None: the cell
    preset's, off for every shipped cell; see rig.simulation.accumulation, and
    rig.simulation.fast_forward for running it down over hours); pump_density: the
    pump's maximal current density in uA/cm^2 (default from resources/pumps);
    patch_configuration: a patch's recording configuration (cell-attached, inside-out,
    outside-out; None: the preset's; see rig.simulation.stochastic.polarity).

    A cell with a cable geometry (a fibre) runs in CC, I=0 and VC (through Rs as on a
    patch; CC with pipette capacitance is refused): the amplifier's electrode at stim_at
    (m from the first end), a 'Vm@<mm>mm' signal for each position in record_at (m), and
    in VC the whole fibre held (axial_wire True, HH's space clamp) or only the
    electrode's compartment; a second stimulating electrode, stimulator (a
    rig.simulation.cable.Stimulator: an isolated stimulator at another position, its
    pulses timed from the start of each protocol sweep, from a settle, or from
    trigger_stimulator()), for collision and antidromic stimulation. The amplifier's
    current is limited by the headstage's range, which the cell preset chooses (the
    squid-axon's giant-axon headstage passes +/-1 mA, enough to excite it); in VC a
    settle starts the whole fibre at the holding potential, which without the axial wire
    is only approximately its steady state.

    A membrane driven past its breakdown voltage (+/-400 mV; see :mod:`rig.model.limits`)
    is lost: advance() and hold() then raise a VrigError, and keep raising it (``lost``
    says why) until settle() puts a fresh cell in place.
    """

    def __init__(self, cell: Cell, bath: Solution, pipette: Solution,
                 temperature_c: float | None = None, dt: float = DEFAULT_DT_S,
                 series_resistance: float | None = None, seed: int = 0,
                 amplifier: Amplifier | None = None, stim_at: float = 0.0,
                 record_at: tuple[float, ...] = (), axial_wire: bool = True,
                 stimulator: Stimulator | None = None, stochastic: bool | None = None,
                 channel_counts: dict[str, int] | None = None,
                 accumulation: bool | None = None, pump: bool | None = None,
                 pump_density: float | None = None,
                 patch_configuration: str | None = None) -> None:
        cell = configured(cell, patch_configuration)
        if channel_counts:
            cell = with_channel_counts(cell, channel_counts)
            # counting channels asks for their noise, unless it is turned off
            stochastic = True if stochastic is None else stochastic
        if stochastic is not None:
            cell = replace(cell, stochastic=bool(stochastic))
        if uses_markov(cell) and cell.geometry is not None:
            raise VrigError(f"cell {cell.name!r} is a fibre: channels counted one by one "
                            "run on a single compartment only; use --stochastic off")
        self.cell = cell
        self.placement = placement(cell, stim_at, record_at, axial_wire, stimulator)
        # the electrodes' positions as given (m from the first end)
        self.stim_at_m = float(stim_at)
        self.record_at_m = tuple(float(x) for x in record_at)
        self._bath = check_permeant(bath, "bath")
        self._pipette = check_permeant(pipette, "pipette")
        self._temperature_c = physics.check_temperature(
            cell.temperature_c if temperature_c is None else temperature_c)
        self.dt = limits.check_dt(dt)
        if amplifier is None:
            amplifier = Amplifier.for_cell(cell)
            if series_resistance is not None:
                amplifier = amplifier.changed(series_resistance=float(series_resistance))
        self.amplifier = amplifier.changed(junction_potential=self._nulled_junction())
        self.seed = limits.check_seed(seed)
        self.rng = np.random.default_rng(self.seed)
        self.channel_rng = np.random.default_rng([self.seed, 1])  # channel states drawn
        self.channel_stream = channel_random.new_stream(self.seed, 2)  # gating, compiled
        self.output_chain = OutputChain(self.rng)
        self.overloaded = False  # the output would have clipped since the last settle
        self.last_overload = False  # ... in the last block advanced
        # concentrations as state and the Na/K pump (None: neither; see accumulation)
        self.ions = gradient_store(cell, self._bath, self._pipette, accumulation, pump,
                                   pump_density)
        self._cache = ModelCache(lambda: (self.cell, self._bath, self._pipette,
                                          self._temperature_c), self._extend_membrane)
        self.perfusion = Perfusion(cell.preparation)
        self.lost = ""  # why the cell was lost (membrane breakdown); "" while it is intact
        self.mode = Mode.CC
        self.holding = {Mode.VC: units.mv_to_v(-65.0), Mode.CC: 0.0, Mode.I0: 0.0}
        self.sim = SimulationState.zeros(  # what the kernel advances
            state_rows(cell) if uses_markov(cell) else len(cell.gates()),
            cell.geometry.n_compartments if cell.geometry else 1)
        self.time_s = 0.0
        self.settle()

    @classmethod
    def from_presets(cls, cell: str | Cell = "hh-squid", bath: str | None = None,
                     pipette: str | None = None, temperature_c: float | None = None,
                     ion_overrides: Iterable[str] = (), **kwargs: Any) -> "Rig":
        """A Rig from preset names (the cell: a name or a Cell, e.g. a preset's fibre
        resized by rig.model.cell.resize_fibre); bath and pipette default to the cell's own.

        ion_overrides: iterable of 'out:Na=44' / 'in:K=140' strings (mM).
        """
        cell_preset = cell if isinstance(cell, Cell) else load_cell(cell)
        bath_solution, pipette_solution = with_ion_overrides(
            load_solution(bath or cell_preset.bath),
            load_solution(pipette or cell_preset.pipette), ion_overrides)
        return cls(cell_preset, bath_solution, pipette_solution, temperature_c, **kwargs)

    # --- settings -------------------------------------------------------------------

    @property
    def bath(self) -> Solution:
        """The bath (outside) Solution."""
        return self._bath

    @property
    def pipette(self) -> Solution:
        """The pipette (inside) Solution."""
        return self._pipette

    @property
    def temperature_c(self) -> float:
        """Bath temperature in degC."""
        return self._temperature_c

    @property
    def series_resistance(self) -> float:
        """Access resistance in ohm (0 = ideal clamp)."""
        return self.amplifier.series_resistance

    def set_amplifier(self, **changes: Any) -> None:
        """Change amplifier settings (see rig.amplifier.circuit.Amplifier); validated first.
        A smaller range (a larger feedback resistor) is refused while the CC holding
        current is beyond it."""
        amplifier = self.amplifier.changed(**changes)
        limits.check_holding(Mode.CC, self.holding[Mode.CC], amplifier)
        self.amplifier = amplifier

    def set_capacitance(self, capacitance_f: float) -> None:
        """Change the cell's membrane capacitance (F) by its specific capacitance (the
        area, and so every conductance, stays); 0.1-10 uF/cm^2 are allowed."""
        self.cell = replace(self.cell, specific_capacitance_uf_per_cm2=(
            specific_capacitance_for(self.cell, capacitance_f)))
        self._cache.clear()

    def set_solutions(self, bath: Solution | None = None,
                      pipette: Solution | None = None) -> None:
        """Change the bath and/or pipette solution; reversal potentials follow at once."""
        self._bath = check_permeant(bath, "bath") if bath else self._bath
        if self.ions is not None:
            self.ions.bath = self._bath
        self._pipette = check_permeant(pipette, "pipette") if pipette else self._pipette
        if pipette:
            # a new pipette is offset-nulled in the bath of the moment; a bath changed
            # later leaves the nulled junction (and so the error in whole-cell) as it was
            self.amplifier = self.amplifier.changed(junction_potential=self._nulled_junction())
            # ... and it fills the cell afresh: followed concentrations start from it
            self.reset_ions()
        self._cache.clear()

    def _nulled_junction(self) -> float:
        """The liquid junction potential (V) of the pipette solution in the bath."""
        return junction_potential(self._pipette.concentrations_mm, self._bath.concentrations_mm,
                                  self._temperature_c)

    def set_temperature(self, temperature_c: float) -> None:
        """Change the temperature (degC): kinetics scale by Q10, reversals by RT/F."""
        self._temperature_c = physics.check_temperature(temperature_c)
        self._cache.clear()

    def set_mode(self, mode: Mode | str) -> None:
        """Switch clamp mode (a Mode, or 'VC', 'CC', 'I0') without touching the cell's state."""
        mode = Mode.parse(mode)
        if mode != self.mode:
            # The pipette is where the membrane is at the switch, so nothing jumps.
            self.sim.electrode[layout.EL_ILAG] = 0.0
            self.sim.electrode[layout.EL_VPRED] = self.sim.v_mv[self.placement.stim]
            self.mode = mode
            # The first sample after the switch reads the new mode's current.
            self.sim.electrode[layout.EL_IM] = steady_state.present_current_pa(self)
            self.sim.electrode[layout.EL_IGATE] = 0.0
        self.mode = mode

    def set_holding(self, value: float, mode: Mode | str | None = None) -> None:
        """Holding level of a mode (V for VC, A for CC); each mode remembers its own."""
        mode = Mode.parse(mode or self.mode)
        self.holding[mode] = limits.check_holding(mode, value, self.amplifier)

    def apply_drug(self, drug: str | Drug, concentration_m: float, side: str = "outside",
                   steady_state: bool = False) -> None:
        """Perfuse a drug (name or pharmacology.Drug) at a concentration (M) on a side
        ('outside' = bath, 'inside' = pipette). steady_state=True applies it at once."""
        drug = load_drug(drug) if isinstance(drug, str) else drug
        self.perfusion.apply(drug, concentration_m, side, steady_state)

    def apply_local_drug(self, drug: "str | Drug", concentration_m: float, start_m: float,
                         end_m: float) -> None:
        """Apply a drug (name or pharmacology.Drug) outside on the stretch of a fibre from
        start_m to end_m (m from its first end), at a concentration (M), at steady state
        at once (a local application has no perfusion kinetics here)."""
        if self.cell.geometry is None:
            raise VrigError(f"cell {self.cell.name!r} is a single compartment: a drug on a "
                            "stretch needs a fibre; apply it to the whole bath instead")
        drug = load_drug(drug) if isinstance(drug, str) else drug
        change = LocalEffect(units.m_to_um(float(start_m)), units.m_to_um(float(end_m)),
                             drug_effects([(drug, "outside", float(concentration_m))],
                                          self.cell.preparation),
                             f"{drug.name} {format_concentration(float(concentration_m))}",
                             drug.name)
        self.cell.geometry.compartments_in(change.start_um, change.end_um)  # checks it
        self.placement = replace(self.placement, local=self.placement.local + (change,))

    def set_local_temperature(self, temperature_c: float, start_m: float,
                              end_m: float) -> None:
        """Heat or cool the stretch of a fibre from start_m to end_m (m from its first end)
        to temperature_c (degC): its kinetics follow their Q10 there (the reversal
        potentials stay the bath's); a later stretch overrides an earlier one where they
        overlap."""
        start_um, end_um = self._stretch_um(start_m, end_m, "a temperature on a stretch")
        temperature = physics.check_temperature(temperature_c)
        self.placement = replace(self.placement, local_temperature=(
            self.placement.local_temperature + ((start_um, end_um, temperature),)))

    def demyelinate(self, start_m: float, end_m: float) -> None:
        """Strip the myelin from the internodes of a myelinated fibre whose centres lie
        from start_m to end_m (m from its first end): bare axolemma there (the cell's
        capacitance and leak, no voltage-gated channels)."""
        start_um, end_um = self._stretch_um(start_m, end_m, "demyelination")
        if self.cell.geometry is not None and self.cell.geometry.myelin is None:
            raise VrigError(f"cell {self.cell.name!r} has no myelin to remove; choose a "
                            "myelinated fibre (myelinated-axon)")
        self.placement = replace(self.placement, demyelinated=(
            self.placement.demyelinated + ((start_um, end_um),)))

    def _stretch_um(self, start_m: float, end_m: float, what: str) -> tuple[float, float]:
        """(start, end) in um of a stretch of the fibre, checked (see
        CableGeometry.compartments_in)."""
        if self.cell.geometry is None:
            raise VrigError(f"cell {self.cell.name!r} is a single compartment: {what} "
                            "needs a fibre")
        start_um, end_um = units.m_to_um(float(start_m)), units.m_to_um(float(end_m))
        self.cell.geometry.compartments_in(start_um, end_um)
        return start_um, end_um

    def set_stimulator(self, stimulator: Stimulator | None) -> None:
        """Place the second stimulating electrode (a rig.simulation.cable.Stimulator) on
        the fibre, or remove it (None); its pulses run from the next trigger."""
        if stimulator is not None and self.cell.geometry is None:
            raise VrigError(f"cell {self.cell.name!r} is a single compartment: a second "
                            "stimulating electrode needs a fibre")
        where = self.placement
        if stimulator is None:
            self.placement = replace(where, stimulator=None, stim2=-1)
            return
        moved = placement(self.cell, 0.0, (), where.axial_wire, stimulator)
        self.placement = replace(where, stimulator=moved.stimulator, stim2=moved.stim2)

    def trigger_stimulator(self) -> None:
        """Start the second stimulator's pulse train now (each protocol sweep and each
        settle triggers it too)."""
        self.sim.electrode[layout.EL_STIM_CLOCK] = 0.0

    def wash_local_drugs(self) -> None:
        """Wash every drug applied on a stretch of the fibre (apply_local_drug) off, at
        once."""
        self.placement = replace(self.placement, local=())

    def move_electrodes(self, stim_at: float | None = None,
                        record_at: tuple[float, ...] | None = None,
                        axial_wire: bool | None = None) -> None:
        """Move the amplifier's electrode to stim_at and/or the recording sites to
        record_at (m from a fibre's first end) and/or switch the axial wire, at once:
        the fibre's state stays (no settle). None keeps the present value. The sites'
        signal names follow their positions (signal_names() changes with them)."""
        stim = self.stim_at_m if stim_at is None else float(stim_at)
        sites = self.record_at_m if record_at is None else tuple(float(x) for x in record_at)
        wire = self.placement.axial_wire if axial_wire is None else bool(axial_wire)
        moved = placement(self.cell, stim, sites, wire)  # checks every position first
        self.placement = replace(self.placement, stim=moved.stim, sites=moved.sites,
                                 names=moved.names, axial_wire=moved.axial_wire)
        self.stim_at_m, self.record_at_m = stim, sites

    def set_profile(self, points: int) -> None:
        """Record a space-time profile of a fibre: the membrane potential at up to points
        compartments evenly spaced along it (0: none), returned by advance() under the key
        PROFILE as a (samples, positions) array in V; profile_positions_m says where."""
        if self.cell.geometry is None:
            raise VrigError(f"cell {self.cell.name!r} is a single compartment: it has no "
                            "space-time profile")
        self.placement = replace(self.placement, profile=profile_compartments(
            self.cell.geometry, int(points)))

    @property
    def profile_positions_m(self) -> np.ndarray:
        """Positions (m from the first end) of the profile's compartments' centres."""
        if self.cell.geometry is None:
            return np.zeros(0)
        centres = self.cell.geometry.centres_um()
        return units.um_to_m(centres[list(self.placement.profile)])

    def wash_drug(self, name: str | None = None) -> None:
        """Wash one drug (by name) or all drugs out of the bath and pipette, and off the
        stretches of a fibre it was applied to (at once, as it was applied)."""
        drug = None if name is None else load_drug(name).name
        self.perfusion.wash(drug)
        local = tuple(change for change in self.placement.local
                      if drug is not None and change.drug != drug)
        if local != self.placement.local:
            self.placement = replace(self.placement, local=local)

    # --- derived quantities ----------------------------------------------------------

    def membrane(self, dt_ms: float | None = None) -> CompiledMembrane:
        """The compiled membrane for a time step (ms), cached until a setting changes."""
        return self._cache.membrane(units.s_to_ms(self.dt) if dt_ms is None else dt_ms)

    def kernel_inputs(self, m: CompiledMembrane) -> KernelInputs:
        """The kernel's inputs for the compiled membrane m with the present drugs,
        amplifier and mode (see rig.simulation.model_cache.KernelInputs)."""
        return self._cache.kernel_inputs(m, self.perfusion, self.amplifier,
                                         self.cell.breakdown_mv, self.kernel_mode(),
                                         self.placement)

    def reversal_potentials(self) -> dict[str, float]:
        """{ion: V} for each permeant ion on both sides, plus 'leak' (chord average).
        Reads only immutable settings, so any thread may call it."""
        bath, pipette, temperature = self._bath, self._pipette, self._temperature_c
        result = {ion: units.mv_to_v(e) for ion, e in
                  reversal_potentials_mv(bath, pipette, temperature).items()}
        result["leak"] = units.mv_to_v(leak_reversal_mv(self.cell, bath, pipette, temperature))
        return result

    def resting_potential(self) -> float:
        """The membrane's steady-state potential (V) with no current applied (in a
        high-K bath this steady state can be unstable, and the cell fires instead)."""
        return units.mv_to_v(steady_state.clamped_voltage_mv(self, Mode.I0))

    @property
    def membrane_potential(self) -> float:
        """The present (true) membrane potential in V where the amplifier's electrode is
        (on a fibre, its compartment)."""
        return units.mv_to_v(float(self.sim.v_mv[self.placement.stim]))

    @property
    def saturated(self) -> bool:
        """True once the headstage has hit its rails (over-compensation, oscillation)."""
        return self.sim.electrode[layout.EL_RAIL_HITS] > 0

    def signal_names(self) -> list[tuple[str, str]]:
        """Names of the signals advance() returns, in order, with their SI units."""
        m = self.membrane()
        names = [("Vm", "V"), ("Im", "A"), ("command", self.mode.command_unit),
                 ("Vmem", "V")]
        if m.gate_charge_fc.any():  # as the kernel record's has_charge
            names.append(("Igating", "A"))
        names += [(name, unit) for name, unit, _ in m.output_names()]
        names += [(name, "V") for name in self.placement.names]
        if self.ions is not None and self.ions.setup.accumulation:
            names += list(ACCUMULATION_SIGNALS)
        return names

    def reset_ions(self) -> None:
        """Concentrations back to the solutions' (a fresh cell), the pump as it was."""
        if self.ions is not None:
            self.ions = type(self.ions)(self.cell, self._bath, self._pipette, self.ions.setup)
            self._cache.clear()

    def _extend_membrane(self, m: CompiledMembrane) -> CompiledMembrane:
        """m with the pump channel (when the pump runs) and the live reversals."""
        if self.ions is None:
            return m
        if self.ions.setup.pump:
            m = with_pump_channel(m)
        ion_blocks.set_reversals(self, m)
        return m

    # --- stepping -------------------------------------------------------------------

    def settle(self) -> None:
        """Put the cell and electrode at their steady state for the present mode and
        holding level, and clear the output filters and the rail flag.

        In current clamp the steady state can be unstable (a held current in the
        repetitive-firing range, a high-K bath): then the cell is nudged off it and
        run for steady_state.UNSTABLE_SETTLE_S, so that it is found firing, as a real
        cell would be.
        """
        # (the second stimulator stays silent while the cell settles, then starts afresh)
        self.sim.electrode[layout.EL_STIM_CLOCK] = math.inf
        if self.ions is None:
            steady_state.settle(self)
        else:
            # the pump's tangent is taken at the voltage: settle, take it again, settle
            for _ in range(3):
                ion_blocks.prepare(self, self.membrane())
                steady_state.settle(self)
        self.trigger_stimulator()

    def kernel_mode(self) -> int:
        """The kernel's mode (layout.MODE_*): the clamp mode, VC split by whether an
        access resistance is in the way."""
        if self.mode == Mode.VC:
            return layout.MODE_VC_IDEAL if self.series_resistance == 0 else layout.MODE_VC
        return layout.MODE_CC if self.mode == Mode.CC else layout.MODE_I0

    def holding_kernel(self) -> float:
        """The present mode's holding level in kernel units (see kernel_level)."""
        return self.kernel_level(self.mode)

    def kernel_level(self, mode: Mode) -> float:
        """A mode's holding level as the kernel applies it: in VC the pipette potential
        (mV), which an uncorrected junction potential leaves below the command; in CC
        the current (pA); 0 in I=0."""
        if mode == Mode.I0:
            return 0.0
        if mode == Mode.VC:
            return units.v_to_mv(self.holding[mode] - self.amplifier.junction_error)
        return float(mode.from_si(self.holding[mode]))

    def steps_per_sample(self, sample_interval_s: float) -> int:
        """Kernel steps per sample: the fewest that keep the step at or below dt."""
        return max(1, math.ceil(sample_interval_s / self.dt - 1e-9))

    def advance(self, command_si: npt.ArrayLike,
                sample_interval_s: float) -> dict[str, np.ndarray]:
        """Step through a block of samples; returns {signal: SI array} (with a
        profile set, also PROFILE: a (samples, positions) array in V).

        command_si: per-sample command (V in VC, A in CC; ignored in I0).
        sample_interval_s: time between samples (s); the step is the largest that
        divides it and does not exceed ``self.dt``. Sets ``self.overloaded`` (and
        ``last_overload`` for this call's last block) when the output exceeded the
        digitiser's range.
        """
        # The command signal is the caller's own (copied), not a round trip through mV;
        # the kernel scales it and refuses it whole if it is beyond the amplifier.
        if self.mode == Mode.I0:
            command_si = np.zeros(np.size(command_si))
        else:
            command_si = np.array(command_si, dtype=float)
        self._check_intact()
        steps = self.steps_per_sample(sample_interval_s)
        m = self.membrane(units.s_to_ms(sample_interval_s) / steps)
        t0 = self.time_s
        out, peaks = stepping.run_blocks(self, m, command_si, steps, sample_interval_s)
        self.time_s += command_si.size * sample_interval_s
        result = stepping.signals(self, m, out, peaks, command_si, sample_interval_s, t0)
        n_profile = len(self.placement.profile)
        if n_profile:  # the last rows of the kernel's output (see cable.Placement)
            result[PROFILE] = out[out.shape[0] - n_profile:].T
        return result

    def hold(self, duration_s: float) -> None:
        """Advance at the holding level without recording (e.g. between sweeps)."""
        self._check_intact()
        stepping.hold(self, duration_s)

    def _check_intact(self) -> None:
        if self.lost:
            raise VrigError(self.lost)

    # --- protocols ------------------------------------------------------------------

    def run(self, protocol: Protocol, progress: Callable[[int, int], object] | None = None,
            leak_subtraction: int | None = None) -> Recording:
        """Run every sweep of a protocol from the settled state; returns a Recording.

        progress: optional callable(sweep_index, n_sweeps) called after each sweep.
        leak_subtraction: P/N sub-sweeps per sweep (overrides the protocol's; 0 = off).
        """
        return run_protocol(self, protocol, progress, leak_subtraction)

    def metadata(self, protocol: Protocol | None = None,
                 dt_s: float | None = None) -> dict[str, str]:
        """Everything needed to reproduce a recording, as text for file headers (see
        rig.simulation.metadata); safe to call while the runner owns the engine."""
        return recording_metadata(self, protocol, dt_s)
