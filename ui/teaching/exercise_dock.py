"""An instructor's exercise in the window (File > Open exercise...): the exercise's
engine replaces the cell, what would give the answer away is locked (the Bath & drugs
dock, which names drugs and shows the solutions, and the cell choice), and a dock shows
the task and takes the student's answer."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rig.errors import VrigError
from rig.teaching.exercise import is_correct, load_exercise
from rig.teaching.exercise_rig import exercise_rig

GOOD, BAD = "#2e9d4f", "#d0453a"


class ExerciseDock(QDockWidget):
    """The open exercise's task and answer box. message(str): problems for the status
    bar."""

    message = Signal(str)

    def __init__(self, window):
        super().__init__("Exercise", window)
        self.setObjectName("ExerciseDock")
        self.window_ = window
        self.exercise = None
        body = QWidget()
        layout = QVBoxLayout(body)
        self.title = QLabel()
        self.title.setObjectName("ExerciseTitle")
        self.task = QLabel()
        self.task.setWordWrap(True)
        self.form = QLabel()
        self.form.setWordWrap(True)
        self.answer = QLineEdit()
        self.answer.setPlaceholderText("your answer")
        self.answer.returnPressed.connect(self.submit)
        self.submit_button = QPushButton("Submit answer")
        self.submit_button.clicked.connect(self.submit)
        self.feedback = QLabel()
        self.feedback.setObjectName("ExerciseFeedback")
        self.feedback.setWordWrap(True)
        self.end_button = QPushButton("End exercise")
        self.end_button.clicked.connect(self.close_exercise)
        for widget in (self.title, self.task, self.form, self.answer):
            layout.addWidget(widget)
        row = QHBoxLayout()
        row.addWidget(self.submit_button)
        row.addWidget(self.end_button)
        layout.addLayout(row)
        layout.addWidget(self.feedback)
        layout.addStretch(1)
        self.setWidget(body)
        self.hide()

    def open_exercise(self, path):
        """Load an exercise file into the rig and lock the give-aways; a bad file is
        reported (the window stays as it was)."""
        try:
            exercise = load_exercise(path)
            rig = exercise_rig(exercise.setup)
        except VrigError as exc:
            self.message.emit(str(exc))
            return False
        window = self.window_
        window.recording.stop()
        window.client.replace(rig)
        window.send_settings()
        window.scopes.set_signals(window.client.names_units, window.session.mode)
        self.exercise = exercise
        self._lock(True)
        self.title.setText(f"<b>{exercise.title}</b>")
        self.task.setText(exercise.task)
        self.form.setText(f"Answer as: {exercise.answer_format}")
        self.feedback.setText("")
        self.answer.clear()
        self.show()
        self.raise_()
        window.start()  # the mystery is to be measured: the rig runs at once
        return True

    def _lock(self, locked):
        window = self.window_
        bath = window.bath
        if locked:
            bath.hide()
        bath.toggleViewAction().setEnabled(not locked)
        # a recording's header lists the drugs and solutions: no recording either
        for widget in (window.panel.cell_combo, window.panel.record_button):
            widget.setEnabled(not locked)
            widget.setToolTip("Locked during an exercise" if locked else "")
        for shortcut in window.findChildren(QShortcut):
            if shortcut.key() == QKeySequence(Qt.Key_R):
                shortcut.setEnabled(not locked)

    def submit(self):
        """Check the answer against the exercise's commitment."""
        if self.exercise is None:
            return
        try:
            correct = is_correct(self.exercise, self.answer.text())
        except VrigError as exc:
            self.feedback.setText(f"<span style='color:{BAD}'>{exc}</span>")
            return
        color, word = (GOOD, "Correct") if correct else (BAD, "Incorrect: try again")
        self.feedback.setText(f"<span style='color:{color}'><b>{word}</b></span>")

    def close_exercise(self):
        """Leave the exercise: unlock and return to the cell chosen before."""
        if self.exercise is None:
            return
        self.exercise = None
        self._lock(False)
        self.hide()
        self.window_.set_cell(self.window_.panel.cell_combo.currentText())


