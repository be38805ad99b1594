"""What a lesson step does to the window: its @set, @drug, @wash and @ion lines turned
into the window's own calls (the session for mode, holding and speed; runner commands
through the client for temperature, solutions and drugs), and what the student has
measured, read from the window (Vm of the newest chunk, the analysis table, the
scope's cursors and the Axon tab's velocity)."""

import numpy as np

from rig import units
from rig.acquisition import commands as c
from rig.errors import VrigError
from rig.model.pharmacology import parse_drug_option
from rig.model.solutions import load_solution, parse_ion_override
from rig.teaching.lesson_check import Measurements


def apply_actions(window, actions, fresh=False):
    """Apply a step's actions to the window in order; returns the problems (text).
    fresh: a cell action builds a new engine even for the cell already loaded (its own
    solutions and temperature, no drugs), so the rig starts from a known state."""
    problems = []
    for action in actions:
        try:
            _apply(window, action, fresh)
        except (VrigError, ValueError) as exc:
            problems.append(f"{action.verb} {action.key} {action.value}: {exc}")
    return problems


def _apply(window, action, fresh=False):
    session, send = window.session, window.client.send
    if action.verb == "drug":
        drug, side, molar = parse_drug_option(action.value)
        send(c.ApplyDrug(drug.name, molar, side))
    elif action.verb == "wash":
        send(c.WashDrug(None if action.value == "all" else action.value))
    elif action.verb == "ion":
        side, ion, mm = parse_ion_override(action.value)
        engine = session.engine
        if side == "out":
            send(c.SetSolutions(bath=engine.bath.with_ion(ion, mm)))
        else:
            send(c.SetSolutions(pipette=engine.pipette.with_ion(ion, mm)))
    elif action.key == "cell":
        if session.cell != action.value:
            window.set_cell(action.value)
        elif fresh:
            fresh_engine(window)
    elif action.key == "gradients":
        window.set_gradients(action.value == "on", action.value == "on")
    elif action.key == "mode":
        session.mode = action.value
    elif action.key == "holding":
        session.set_holding(session.mode, float(action.value))
    elif action.key == "speed":
        session.speed = float(action.value)
    elif action.key == "temperature":
        send(c.SetTemperature(float(action.value)))
    elif action.key in ("bath", "pipette"):
        send(c.SetSolutions(**{action.key: load_solution(action.value)}))
    elif action.key == "protocol":
        window.protocols.load_shipped(action.value)
    elif action.key == "run" and action.value == "protocol":
        window.protocols.run_current()
    elif action.key == "run":
        if (action.value == "on") != session.running:
            window.toggle_run()
    elif action.key == "view":
        show_view(window, action.value)
    elif action.key == "scopes":
        window.scopes.set_visible_traces(action.value.split(","))


def show_view(window, view):
    """Bring a view to the front: 'gates' (the Gates dock beside the scopes), 'scopes'
    (the Scopes tab, the Gates dock put away) or 'axon' (the Axon tab of a fibre)."""
    gates = window.teaching.gates
    if view == "gates":
        gates.show()
        gates.raise_()
    else:
        gates.hide()
    if view == "axon" and window.session.electrodes is not None:
        window.tabs.setCurrentWidget(window.axon)
    else:
        window.tabs.setCurrentWidget(window.scopes)


def fresh_engine(window):
    """A new engine of the present cell (its own solutions and temperature, no drugs),
    running if the old one was. Not set_cell: that rebuilds the scopes, and
    ScopeArea.set_signals leaks about 4.6 MB a call (found by the kiosk's soak
    benchmark); the same cell has the same signals, so the scopes stay."""
    rig = window._make_rig(window.session.cell)
    if rig is None:
        return
    was_running = window.session.running
    window.recording.stop()  # as set_cell does: a recording does not span two engines
    window.client.replace(rig)
    window.send_settings()
    if was_running:
        window.start()


def measurements(window):
    """What the student has measured in the window: Vm now (mV) and the analysis table."""
    vm_mv = None
    newest = window.client.newest
    if newest is not None and "Vm" in newest.signals:
        vm_mv = units.v_to_mv(float(np.mean(newest.signals["Vm"])))
    axon = getattr(window, "axon", None)
    velocity = getattr(axon, "velocity", None) if window.session.electrodes else None
    cursors = window.scopes.scope.cursors
    dt_ms = units.s_to_ms(cursors.readout().dt) if cursors.enabled else None
    result = getattr(window.analysis, "result", None)
    facts = {} if result is None else {fact.name: fact.value for fact in result.facts}
    rows = () if result is None else tuple(result.rows)
    return Measurements(vm_mv=vm_mv, facts=facts, rows=rows, velocity_m_s=velocity,
                        cursor_dt_ms=dt_ms)
