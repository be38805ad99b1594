"""A lesson's steps applied to an engine without the window: what the student would
measure at each step, so the tests (and `vrig lesson`) can prove that every shipped
answer is what the shipped model gives.

It follows the window's rules: a new cell brings its own bath and pipette and no drugs;
an @ion change applies to the present solutions; drugs are taken at steady state (in
the window the student waits for the perfusion to settle, as the lessons say).
"""

import math
from typing import Any

import numpy as np

from rig import units
from rig.analysis.report import analyze
from rig.analysis.sweep_family import SweepFamily
from rig.clamp import Mode
from rig.errors import VrigError
from rig.model.cell import load_cell
from rig.model.pharmacology import parse_drug_option
from rig.protocols.protocol import load_protocol
from rig.simulation.engine import Rig
from rig.simulation.fibre import squid_axon_velocity
from rig.teaching.lesson import Action, Question, Step
from rig.teaching.lesson_check import Measurements

SETTLE_S = 1.0  # s held before reading Vm (the slowest lesson cell settles in < 0.2 s)
FIRING_RUN_S = 0.3  # s of steady firing the spike interval is averaged over
SAMPLE_S = 2e-5  # s: the rig's 50 kHz sampling
VELOCITY_RUN_S = 0.012  # s: long enough for the slowest shipped fibre's spike to pass


class HeadlessLesson:
    """The rig state a lesson's steps build up, and measurements on it."""

    def __init__(self) -> None:
        self.cell = "hh-squid"
        self.settings: dict[str, str] = {}
        self.ions: list[str] = []
        # (name, side) -> (name, molar, the @drug text)
        self.drugs: dict[tuple[str, str], tuple[str, float, str]] = {}

    def apply(self, actions: tuple[Action, ...]) -> None:
        """Take a step's actions in order."""
        for action in actions:
            if action.verb == "set" and action.key in ("cell", "gradients"):
                if action.key == "cell":
                    self.cell = action.value
                # a new engine: the cell's own solutions and temperature, no drugs
                self.settings = {k: v for k, v in self.settings.items()
                                 if k not in ("bath", "pipette", "temperature", "gradients")}
                self.ions, self.drugs = [], {}
                if action.key == "gradients":
                    self.settings["gradients"] = action.value
            elif action.verb == "set":
                self.settings[action.key] = action.value
                if action.key in ("bath", "pipette"):
                    side = "out:" if action.key == "bath" else "in:"
                    self.ions = [t for t in self.ions if not t.startswith(side)]
            elif action.verb == "ion":
                self.ions.append(action.value)
            elif action.verb == "drug":
                drug, side, molar = parse_drug_option(action.value)
                self.drugs[(drug.name, side)] = (drug.name, molar, action.value)
            elif action.verb == "wash":
                self.drugs = {} if action.value == "all" else {
                    k: v for k, v in self.drugs.items() if k[0].lower() != action.value.lower()}

    def rig(self) -> Rig:
        """A settled engine in the present state."""
        temperature = self.settings.get("temperature")
        gradients = self.settings.get("gradients") == "on"
        rig = Rig.from_presets(self.cell, self.settings.get("bath"), self.settings.get("pipette"),
                               None if temperature is None else float(temperature),
                               ion_overrides=self.ions, accumulation=gradients, pump=gradients)
        for (name, side), (_, molar, _text) in self.drugs.items():
            rig.apply_drug(name, molar, side, steady_state=True)
        mode = Mode.parse(self.settings.get("mode", "CC"))
        rig.set_mode(mode)
        if "holding" in self.settings and mode in (Mode.VC, Mode.CC):
            rig.set_holding(mode.to_si(float(self.settings["holding"])), mode)
        rig.settle()
        return rig

    def measure(self, question: Question) -> Measurements:
        """What the student measures for the question: Vm after settling, or the
        analysis of the step's protocol."""
        if question.measure == "axon:velocity":
            return Measurements(velocity_m_s=self.velocity())
        if question.measure == "cursor:dt":
            return Measurements(cursor_dt_ms=self.spike_interval_ms())
        rig = self.rig()
        if question.measure == "vm":
            rig.hold(SETTLE_S)
            return Measurements(vm_mv=units.v_to_mv(rig.membrane_potential))
        protocol = load_protocol(self.settings["protocol"])
        result = analyze(SweepFamily.from_recording(rig.run(protocol)))
        facts: dict[str, Any] = {fact.name: fact.value for fact in result.facts}
        return Measurements(facts=facts, rows=tuple(result.rows))


    def spike_interval_ms(self) -> float:
        """The interval between successive spike peaks (ms) in steady firing at the
        present holding, which a student measures with the two scope cursors (nan when
        the cell does not fire)."""
        rig = self.rig()
        rig.hold(SETTLE_S)  # past the first spikes' adaptation
        mode = Mode.parse(self.settings.get("mode", "CC"))
        level = mode.to_si(float(self.settings.get("holding", 0.0)))
        samples = round(FIRING_RUN_S / SAMPLE_S)
        vm = rig.advance(np.full(samples, level), SAMPLE_S)["Vm"]
        peaks = np.flatnonzero((vm[1:-1] > 0.0) & (vm[1:-1] >= vm[:-2]) & (vm[1:-1] > vm[2:]))
        if peaks.size < 2:
            return math.nan
        return float(np.mean(np.diff(peaks)) * units.s_to_ms(SAMPLE_S))

    def velocity(self) -> float:
        """The fibre's conduction velocity (m/s) between a third and two thirds of its
        length, as the Axon tab measures it, at the lesson's temperature."""
        geometry = load_cell(self.cell).geometry
        if geometry is None:
            raise VrigError(f"{self.cell} is not a fibre: it has no conduction velocity")
        length_m = geometry.total_length_um * 1e-6
        temperature = self.settings.get("temperature")
        velocity, _ = squid_axon_velocity(self.cell, near=length_m / 3, far=2 * length_m / 3,
                                          temperature_c=None if temperature is None
                                          else float(temperature),
                                          duration_s=VELOCITY_RUN_S)
        return float(velocity)


def state_after(steps: tuple[Step, ...], index: int) -> HeadlessLesson:
    """The rig state once steps 0..index have been taken in order."""
    state = HeadlessLesson()
    for step in steps[:index + 1]:
        state.apply(step.actions)
    return state


# the order a fresh cell takes the folded settings in: solutions before the ion changes
# made to them, the protocol before any run of it
CONTEXT_ORDER = ("gradients", "bath", "pipette", "temperature", "mode", "holding", "speed",
                 "scopes", "protocol")


def opening_actions(steps: tuple[Step, ...], index: int) -> tuple[Action, ...]:
    """What the window does to open step index on a fresh cell, whatever state it was
    in: the cell, then the settings, solution changes and drugs the earlier steps left
    in place, then the step's own actions (so a step opened directly, from the lesson
    list or a restart, shows the rig its text describes)."""
    state = HeadlessLesson()
    for step in steps[:index]:
        state.apply(step.actions)
    actions = [Action("set", "cell", state.cell)]
    actions += [Action("set", key, state.settings[key]) for key in CONTEXT_ORDER
                if key in state.settings]
    actions += [Action("ion", "", text) for text in state.ions]
    actions += [Action("drug", "", text) for _, _, text in state.drugs.values()]
    if state.settings.get("run") in ("on", "off"):
        actions.append(Action("set", "run", state.settings["run"]))
    return tuple(actions) + steps[index].actions


def walk(steps: tuple[Step, ...]) -> list[tuple[int, Step, HeadlessLesson]]:
    """(index, step, the state after it) for each step with a measured question (the
    state is copied so each entry can be measured on its own)."""
    state = HeadlessLesson()
    found = []
    for index, step in enumerate(steps):
        state.apply(step.actions)
        if step.question is not None and step.question.measure:
            snapshot = HeadlessLesson()
            snapshot.cell, snapshot.settings = state.cell, dict(state.settings)
            snapshot.ions, snapshot.drugs = list(state.ions), dict(state.drugs)
            found.append((index, step, snapshot))
    return found
