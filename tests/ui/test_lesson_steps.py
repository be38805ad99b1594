"""Every step of every shipped lesson sets the rig its text describes, however the
student reaches it (Next, Back, the list, a restart), and a first start shows one clear
thing: the first lesson, its first step applied, without the welcome card on top."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from rig.clamp import Mode
from rig.protocols.protocol import load_protocol
from rig.teaching.lesson import shipped_lessons
from rig.teaching.lesson_rig import state_after
from ui.look import theme
from ui.window.main_window import MainWindow

WAIT_MS = 20_000
LESSONS = shipped_lessons()[0]


def _open(qtbot, qapp, settings):
    theme.apply(qapp)
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    return window


def _expected(lesson, index):
    """(cell, Mode, protocol name or None, temperature or None, running or None) the
    step's folded @set lines name."""
    state = state_after(lesson.steps, index)
    run = state.settings.get("run")
    temperature = state.settings.get("temperature")
    return (state.cell, Mode.parse(state.settings.get("mode", "CC")),
            state.settings.get("protocol"),
            None if temperature is None else float(temperature),
            {"on": True, "off": False}.get(run))


def _is_running(window, lesson, index):
    cell, mode, protocol, temperature, running = _expected(lesson, index)
    session = window.session
    shown = window.protocols.protocol()
    return (session.cell == cell and session.mode is mode
            and (protocol is None
                 or (shown is not None and shown.name == load_protocol(protocol).name))
            and (temperature is None
                 or abs(session.engine.temperature_c - temperature) < 1e-9)
            and (running is None or session.running == running))


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.id for lesson in LESSONS])
def test_every_step_sets_what_it_names_whichever_way_it_is_reached(lesson, qtbot, qapp,
                                                                   settings):
    window = _open(qtbot, qapp, settings)
    dock = window.teaching.lessons
    dock.choose(LESSONS.index(lesson))
    last = len(lesson.steps) - 1
    # jumped to (the list, a restart): backwards from the end, on whatever the rig holds
    window.set_cell("thin-fibre")
    for index in range(last, -1, -1):
        dock.show_step(index)
        qtbot.waitUntil(lambda index=index: _is_running(window, lesson, index),
                        timeout=WAIT_MS)
    # walked with Next: each step adds to what the one before left
    for _ in range(last):
        dock.next()
        qtbot.waitUntil(lambda: _is_running(window, lesson, dock.index), timeout=WAIT_MS)
    assert dock.index == last
    window.close()


def test_a_first_start_opens_the_first_lesson_on_its_own_cell(qtbot, qapp, settings):
    settings.setValue("cell", "thin-fibre")  # a cell left from elsewhere, no saved mode
    window = _open(qtbot, qapp, settings)
    assert window.first_start and window.session.cell == "thin-fibre"
    dock = window.teaching.lessons
    assert dock.isVisible() and dock.lesson.id == "resting-potential" and dock.index == 0
    window.teaching.at_first_start()  # as ui.app.main does once the window is shown
    assert not window.teaching.wants_welcome()  # one guide at a time
    qtbot.waitUntil(lambda: _is_running(window, LESSONS[0], 0), timeout=WAIT_MS)
    assert window.session.holding("CC") == pytest.approx(100.0)
    window.close()


def test_a_first_start_on_a_chosen_cell_shows_its_welcome_card_not_lesson_1(qtbot, qapp,
                                                                           settings):
    window = _open(qtbot, qapp, settings)
    window.set_cell("thin-fibre")  # as vrig --cell thin-fibre starts
    window.teaching.at_first_start(cell_chosen=True)
    assert not window.teaching.lessons.isVisible() and window.teaching.wants_welcome()
    assert window.session.cell == "thin-fibre"
    window.close()


def test_a_later_start_without_the_lesson_shows_the_welcome_card(qtbot, qapp, settings):
    first = _open(qtbot, qapp, settings)
    first.teaching.lessons.hide()
    first.close()
    second = _open(qtbot, qapp, settings)
    assert not second.first_start
    assert not second.teaching.lessons.isVisible() and second.teaching.wants_welcome()
    second.close()


def _lesson(window, lesson_id):
    dock = window.teaching.lessons
    dock.choose(next(i for i, lesson in enumerate(LESSONS) if lesson.id == lesson_id))
    dock.show_step(0)
    return dock


def _fire_and_measure(window, dock, qtbot):
    qtbot.waitUntil(lambda: window.session.electrodes is not None, timeout=WAIT_MS)
    window.axon.velocity = None
    window.tabs.setCurrentWidget(window.axon)
    window.axon.prepare_stimulus(window)
    qtbot.waitUntil(lambda: window.client.newest is not None, timeout=WAIT_MS)
    window.panel.stimulus.fire()
    qtbot.waitUntil(lambda: window.axon.velocity is not None, timeout=WAIT_MS)
    dock.use_measurement()
    return dock.feedback.text()


def test_the_axon_tabs_velocity_answers_the_propagation_questions(qtbot, qapp, settings):
    window = _open(qtbot, qapp, settings)
    dock = _lesson(window, "propagation")
    dock.next()  # conduction velocity of the squid axon
    assert "Correct" in _fire_and_measure(window, dock, qtbot), window.axon.velocity
    dock.next()  # the thin fibre
    assert "Correct" in _fire_and_measure(window, dock, qtbot), window.axon.velocity
    window.close()


def test_the_pump_lessons_vm_is_what_the_window_shows(qtbot, qapp, settings):
    window = _open(qtbot, qapp, settings)
    dock = _lesson(window, "pump")
    qtbot.waitUntil(lambda: window.session.running and window.client.newest is not None,
                    timeout=WAIT_MS)
    assert "Ipump" in window.client.newest.signals  # rebuilt with the gradients on
    opened_s = window.client.newest.time_s
    qtbot.waitUntil(lambda: window.client.newest.time_s > opened_s + 1.0, timeout=WAIT_MS)
    dock.use_measurement()
    assert "Correct" in dock.feedback.text()
    window.close()


def test_the_cursors_answer_the_spike_interval_question(qtbot, qapp, settings):
    window = _open(qtbot, qapp, settings)
    dock = _lesson(window, "repetitive-firing")
    dock.next()
    assert dock.lesson.steps[dock.index].question.measure == "cursor:dt"
    dock.use_measurement()
    assert "Nothing measured yet" in dock.feedback.text()  # the cursors are off
    cursors = window.scopes.scope.cursors
    cursors.set_enabled(True)
    cursors.set_positions(0.100, 0.130)  # two spikes apart
    dock.use_measurement()
    assert "Not quite" in dock.feedback.text()
    cursors.set_positions(0.100, 0.1146)
    dock.use_measurement()
    assert "Correct" in dock.feedback.text()
    window.close()
