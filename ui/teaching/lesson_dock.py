"""The lesson dock: the shipped lessons, one step at a time, with Next/Back, the step's
question and its feedback. Opening a step sets the rig (ui.teaching.driver); a measured
question is checked from what the student measured; progress is saved at once
(rig.teaching.lesson_check.Progress) and the dock reopens where the student left off."""

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDockWidget,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from rig.errors import VrigError
from rig.teaching.lesson import shipped_lessons
from rig.teaching.lesson_check import Progress, check, measured
from rig.teaching.lesson_rig import opening_actions
from ui.teaching import driver
from ui.teaching.rich_text import inline, to_html

GOOD, BAD = "#2e9d4f", "#d0453a"


def progress_path(settings):
    """Where the lesson progress lives: beside the window's settings file (so a test's
    settings in a temporary folder keep its progress there too)."""
    name = settings.fileName()
    return Path(name).with_name("lesson-progress.json") if name else None


class LessonDock(QDockWidget):
    """The lessons for a RigWindow. message(str) reports problems to the status bar."""

    message = Signal(str)

    def __init__(self, window, progress=None, lessons=None):
        super().__init__("Lesson", window)
        self.setObjectName("LessonDock")
        self.window_ = window
        if lessons is None:
            lessons, problems = shipped_lessons()
            for problem in problems:
                window.startup_problems.append(problem)
        self.lessons = lessons
        if progress is None:
            progress = Progress(progress_path(window.settings))
        self.progress = progress
        self.lesson = None
        self.index = 0
        self.applied = None  # (lesson id, step index) the rig was last set for
        self._build()
        if self.lessons:  # shown, not applied: the window is not finished yet
            self.choose(0, apply=False)

    # --- layout -------------------------------------------------------------------------

    def _build(self):
        body = QWidget()
        layout = QVBoxLayout(body)
        self.combo = QComboBox()
        self.combo.setObjectName("LessonChoice")
        for lesson in self.lessons:
            self.combo.addItem(self._lesson_label(lesson))
        self.combo.activated.connect(self.choose)
        # long lesson titles must not set the dock's width (it would squeeze the scopes)
        self.combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(12)
        layout.addWidget(self.combo)
        self.heading = QLabel()
        self.heading.setObjectName("LessonHeading")
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.RichText)
        layout.addWidget(self.heading)
        self.text = QTextBrowser()
        self.text.setObjectName("LessonText")
        self.text.setOpenExternalLinks(False)
        layout.addWidget(self.text, 1)
        layout.addWidget(self._build_question())
        buttons = QHBoxLayout()
        self.back_button = QPushButton("< Back")
        self.next_button = QPushButton("Next >")
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next)
        self.count = QLabel()
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.count, 1, Qt.AlignCenter)
        buttons.addWidget(self.next_button)
        layout.addLayout(buttons)
        for label in (self.heading, self.prompt, self.feedback):
            label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.setWidget(body)
        # a saved layout must not let the lesson crowd the scopes out
        self.setMinimumWidth(300)
        self.setMaximumWidth(560)

    def _build_question(self):
        box = QGroupBox("Question")
        self.question_box = box
        layout = QVBoxLayout(box)
        self.prompt = QLabel()
        self.prompt.setWordWrap(True)
        self.prompt.setTextFormat(Qt.RichText)
        layout.addWidget(self.prompt)
        self.choices = QWidget()
        self.choice_layout = QVBoxLayout(self.choices)
        self.choice_layout.setContentsMargins(0, 0, 0, 0)
        self.choice_group = QButtonGroup(self)
        layout.addWidget(self.choices)
        row = QHBoxLayout()
        self.entry = QLineEdit()
        self.entry.setPlaceholderText("your answer")
        self.entry.returnPressed.connect(self.submit)
        self.unit = QLabel()
        row.addWidget(self.entry, 1)
        row.addWidget(self.unit)
        layout.addLayout(row)
        actions = QHBoxLayout()
        self.measure_button = QPushButton("Use my measurement")
        self.measure_button.setToolTip("Take the value from the Vm display or the Analysis "
                                       "table, where the lesson says to measure it")
        self.measure_button.clicked.connect(self.use_measurement)
        self.check_button = QPushButton("Check")
        self.check_button.clicked.connect(self.submit)
        actions.addWidget(self.measure_button)
        actions.addWidget(self.check_button)
        layout.addLayout(actions)
        self.feedback = QLabel()
        self.feedback.setObjectName("LessonFeedback")
        self.feedback.setWordWrap(True)
        self.feedback.setTextFormat(Qt.RichText)
        layout.addWidget(self.feedback)
        return box

    def _lesson_label(self, lesson):
        steps = [i for i, s in enumerate(lesson.steps) if s.question is not None]
        mark = "\u2713 " if steps and self.progress.done(lesson.id, steps) else ""
        plain = lesson.title.replace("<sub>", "").replace("</sub>", "")
        return f"{mark}{lesson.order}. {plain}"

    # --- walking ------------------------------------------------------------------------

    def choose(self, number, apply=True):
        """Open lesson number (0-based) at the step the student was on; apply: set the
        rig as that step says."""
        self.lesson = self.lessons[number]
        self.combo.setCurrentIndex(number)
        self.show_step(min(self.progress.step(self.lesson.id), len(self.lesson.steps) - 1),
                       apply)

    def apply_current(self, on_new_engine=False):
        """Set the rig as the present step says. Straight after the step before it (Next)
        only the step's own actions are taken: the student's rig already holds the rest;
        opened any other way (Back, the list, a restart) the step starts on a fresh cell
        with everything the earlier steps set (rig.teaching.lesson_rig.opening_actions).
        on_new_engine: the window has just built its engine (a first start), so a first
        step needs no fresh one (which would also cut a recording asked for at start)."""
        if self.lesson is None:
            return
        lesson, index = self.lesson, self.index
        follows = (self.applied == (lesson.id, index - 1)
                   or (on_new_engine and index == 0))
        actions = (lesson.steps[index].actions if follows
                   else opening_actions(lesson.steps, index))
        for problem in driver.apply_actions(self.window_, actions, fresh=not follows):
            self.message.emit(f"lesson step: {problem}")
        self.applied = (lesson.id, index)

    def show_step(self, index, apply=True):
        """Show step index of the lesson; apply: set the rig as the step says."""
        lesson = self.lesson
        self.index = index
        step = lesson.steps[index]
        self.heading.setText(f"<b>{lesson.title}</b><br>Step {index + 1} of "
                             f"{len(lesson.steps)}: {inline(step.title)}")
        intro = f"<p><i>{to_html(lesson.intro)}</i></p>" if index == 0 and lesson.intro else ""
        self.text.setHtml(intro + to_html(step.text))
        self.count.setText(f"{index + 1} / {len(lesson.steps)}")
        self.back_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(lesson.steps) - 1)
        self._show_question(step.question)
        self.progress.set_step(lesson.id, index)
        if apply:
            self.apply_current()

    def next(self):
        if self.lesson and self.index < len(self.lesson.steps) - 1:
            self.show_step(self.index + 1)

    def back(self):
        if self.lesson and self.index > 0:
            self.show_step(self.index - 1)

    # --- the question -------------------------------------------------------------------

    def _show_question(self, question):
        self.question_box.setVisible(question is not None)
        self.feedback.setText("")
        if question is None:
            return
        self.prompt.setText(inline(question.prompt))
        for button in self.choice_group.buttons():
            self.choice_group.removeButton(button)
        while self.choice_layout.count():
            self.choice_layout.takeAt(0).widget().deleteLater()
        numeric = question.kind == "numeric"
        self.choices.setVisible(not numeric)
        for key, text in question.choices:
            self.choice_layout.addWidget(self._choice_row(key, text))
        self.entry.setVisible(numeric)
        self.entry.clear()
        self.unit.setVisible(numeric)
        self.unit.setText(question.unit)
        self.measure_button.setVisible(numeric and bool(question.measure))
        previous = self.progress.answers(self.lesson.id).get(self.index)
        if previous:
            if numeric:
                self.entry.setText(previous["given"])
            else:
                for button in self.choice_group.buttons():
                    button.setChecked(button.property("key") == previous["given"])
            self._show_feedback(check(question, previous["given"]))

    def _choice_row(self, key, text):
        """A radio button with the choice's key and its text wrapped beside it in rich
        text (a radio button's own text neither wraps nor shows subscripts)."""
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        button = QRadioButton(f"{key})")
        button.setProperty("key", key)
        self.choice_group.addButton(button)
        label = _ClickLabel(inline(text))
        label.clicked.connect(lambda: button.setChecked(True))
        layout.addWidget(button, 0, Qt.AlignTop)
        layout.addWidget(label, 1)
        return row

    def use_measurement(self):
        """Fill the answer with what the student measured, then check it."""
        question = self.lesson.steps[self.index].question
        value = measured(question, driver.measurements(self.window_))
        if value is None:
            where = {"vm": "the Vm display (press Run [space] first)",
                     "axon:velocity": "the Axon tab's velocity (fire the axon first)",
                     "cursor:dt": "the scope's cursors (press Cursors and place them)"}.get(
                question.measure, "the Analysis tab (run the protocol first)")
            self.feedback.setText(f"<span style='color:{BAD}'>Nothing measured yet: "
                                  f"the value comes from {where}.</span>")
            return
        self.entry.setText(f"{value:.4g}")
        self.submit(measured_value=value)

    def submit(self, measured_value=None):
        """Check the answer given (typed, measured or chosen) and keep it."""
        question = self.lesson.steps[self.index].question
        if question is None:
            return
        if question.kind == "choice":
            chosen = self.choice_group.checkedButton()
            if chosen is None:
                self.feedback.setText("Choose one of the answers first.")
                return
            given = chosen.property("key")
        else:
            given = self.entry.text()
        feedback = check(question, given)
        value = measured_value if isinstance(measured_value, float) else None
        try:
            self.progress.record(self.lesson.id, self.index, given, feedback, value)
        except VrigError as exc:
            self.message.emit(str(exc))
        self._show_feedback(feedback)
        self.combo.setItemText(self.combo.currentIndex(), self._lesson_label(self.lesson))

    def _show_feedback(self, feedback):
        color = GOOD if feedback.correct else BAD
        self.feedback.setText(f"<span style='color:{color}'>{inline(feedback.text)}</span>")


class _ClickLabel(QLabel):
    """A word-wrapped rich-text label that reports a click (to pick its choice)."""

    clicked = Signal()

    def __init__(self, html):
        super().__init__(html)
        self.setWordWrap(True)
        self.setTextFormat(Qt.RichText)
        # wrap to the dock's width instead of widening it
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.setMinimumWidth(120)

    def mousePressEvent(self, event):
        self.clicked.emit()
        super().mousePressEvent(event)

