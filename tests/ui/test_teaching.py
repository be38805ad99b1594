"""The lesson dock, exercises and the worksheet in the real window, driven as a student
would (offscreen)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut

from rig.clamp import Mode
from rig.teaching import exercise as ex
from rig.teaching.lesson_check import Progress
from ui.look import theme
from ui.window.main_window import MainWindow

WAIT_MS = 20_000


def test_first_start_shows_the_first_lesson_and_menus(window):
    dock = window.teaching.lessons
    assert dock.isVisible() and dock.lesson.id == "resting-potential"
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    texts = [a.text() for a in file_menu.actions()]
    assert {"&Lessons...", "Open e&xercise...", "Export &worksheet (PDF)..."} <= set(texts)
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    assert "&Lessons..." in [a.text() for a in help_menu.actions()]


def test_a_student_walks_the_first_lesson(window, qtbot):
    dock = window.teaching.lessons
    dock.choose(0)
    dock.show_step(0)
    qtbot.waitUntil(lambda: window.session.running, timeout=WAIT_MS)  # step 1: run=on
    assert window.session.mode is Mode.CC
    dock.next()
    assert "resting potential" in dock.prompt.text()
    # the measurement comes from the Vm display once the rig has run and the spiking
    # of step 1 (100 pA) has died away (a second of simulated time at holding 0)
    qtbot.waitUntil(lambda: window.client.newest is not None, timeout=WAIT_MS)
    opened_s = window.client.newest.time_s
    qtbot.waitUntil(lambda: window.client.newest.time_s > opened_s + 1.0, timeout=WAIT_MS)
    dock.use_measurement()
    assert "Correct" in dock.feedback.text()
    assert dock.progress.answers("resting-potential")[1]["correct"] is True
    dock.next()  # E_K, typed
    dock.entry.setText("-65")
    dock.submit()
    assert "Not quite" in dock.feedback.text()
    dock.entry.setText("-77")
    dock.submit()
    assert "Correct" in dock.feedback.text()
    dock.next()  # multiple choice
    buttons = dock.choice_group.buttons()
    assert len(buttons) == 3
    buttons[0].setChecked(True)
    dock.submit()
    assert "Not this one" in dock.feedback.text()
    buttons[1].setChecked(True)
    dock.submit()
    assert "Correct" in dock.feedback.text()
    dock.next()  # high K: the bath changes and Vm follows
    qtbot.waitUntil(lambda: abs(window.session.engine.bath.concentrations_mm["K"] - 100) < 1e-9,
                    timeout=WAIT_MS)
    assert dock.back_button.isEnabled() and dock.next_button.isEnabled()
    dock.next()
    assert not dock.next_button.isEnabled()
    qtbot.waitUntil(lambda: abs(window.session.engine.bath.concentrations_mm["K"] - 20) < 1e-9,
                    timeout=WAIT_MS)


def test_progress_survives_a_restart(qtbot, qapp, settings, tmp_path):
    theme.apply(qapp)
    first = MainWindow(settings=settings)
    qtbot.addWidget(first)
    first.teaching.lessons.choose(2)
    first.teaching.lessons.show_step(1)
    first.close()
    progress = Progress(tmp_path / "lesson-progress.json")
    assert progress.step("refractory") == 1
    second = MainWindow(settings=settings)
    qtbot.addWidget(second)
    second.teaching.lessons.choose(2)
    assert second.teaching.lessons.index == 1
    second.close()


def test_an_exercise_locks_the_giveaways_and_takes_an_answer(window, qtbot, tmp_path):
    key = ex.make_key("mystery-drug", 4)
    path = tmp_path / "drug.json"
    ex.write_exercise(key, path)
    dock = window.teaching.exercise
    assert dock.open_exercise(str(path))
    assert dock.isVisible() and not window.bath.isVisible()
    assert not window.bath.toggleViewAction().isEnabled()
    assert not window.panel.cell_combo.isEnabled()
    assert not window.panel.record_button.isEnabled()  # a file header names the drugs
    r_keys = [sc for sc in window.findChildren(QShortcut) if sc.key() == QKeySequence(Qt.Key_R)]
    assert r_keys and not any(sc.isEnabled() for sc in r_keys)
    dock.answer.setText("TTX=1mM")
    dock.submit()
    assert "Incorrect" in dock.feedback.text()
    dock.answer.setText(key.answer)
    dock.submit()
    assert "Correct" in dock.feedback.text()
    dock.answer.setText("what?")
    dock.submit()
    assert "give NAME=CONCENTRATION" in dock.feedback.text()
    dock.close_exercise()
    assert window.panel.cell_combo.isEnabled() and window.bath.toggleViewAction().isEnabled()


def test_a_bad_exercise_file_is_reported_and_the_window_stays_usable(window, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n "format": "vrig-exercise",\n "kind": 5\n}')
    assert not window.teaching.exercise.open_exercise(str(path))
    assert "bad.json: line" in window.last_error
    assert window.panel.cell_combo.isEnabled() and not window.teaching.exercise.isVisible()


def test_worksheet_pdf_has_the_name_and_the_answers(window, tmp_path):
    dock = window.teaching.lessons
    dock.choose(0)
    dock.show_step(2, apply=False)
    dock.entry.setText("-77")
    dock.submit()
    path = tmp_path / "sheet.pdf"
    assert window.teaching.export(str(path), "Ada Lovelace")
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5000
    assert dock.progress.student == "Ada Lovelace"
    assert b"Ada Lovelace" in data  # the document title in the PDF's metadata
