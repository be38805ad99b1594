"""Adds the teaching parts to a RigWindow: the lesson and exercise docks, File and Help
menu entries (Lessons..., Open exercise..., Export worksheet (PDF)...) and the speaker
on the amplifier panel."""

import tempfile
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QPixmap
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit

from rig.errors import VrigError
from ui.teaching import gate_view, speaker
from ui.teaching.exercise_dock import ExerciseDock
from ui.teaching.lesson_dock import LessonDock
from ui.teaching.worksheet_pdf import write_pdf

DOCK_WIDTH = 360  # px: at 1280x800 the scopes keep about half the width


class Teaching:
    """The window's lessons, exercise and worksheet (window.teaching)."""

    def __init__(self, window, progress=None, lessons=None):
        self.window = window
        self.lessons = LessonDock(window, progress, lessons)
        self.lessons.message.connect(window.show_error)
        window.addDockWidget(Qt.RightDockWidgetArea, self.lessons)
        self.exercise = ExerciseDock(window)
        self.exercise.message.connect(window.show_error)
        window.addDockWidget(Qt.RightDockWidgetArea, self.exercise)
        # A newcomer sees one thing: the first lesson (the welcome card stays in Help;
        # see at_first_start and wants_welcome).
        self.lessons.setVisible(window.first_start)
        window.resizeDocks([self.lessons], [DOCK_WIDTH], Qt.Horizontal)
        self._add_menus()
        self.speaker = speaker.install(window)  # the amplifier's audio monitor
        self.gates = gate_view.install(window)  # View > Gates: the channels' subunits

    def at_first_start(self, cell_chosen=False):
        """Called by the application once its window is shown. At a first start the
        first lesson's first step sets the rig; with a cell chosen on the command line
        (vrig --cell ...) the lesson would replace it, so the dock goes away and the
        welcome card for that cell is the one thing shown."""
        if not self.window.first_start or self.lessons.isHidden():
            return
        if cell_chosen:
            self.lessons.hide()
        elif self.lessons.applied is None:
            self.lessons.apply_current(on_new_engine=True)

    def wants_welcome(self):
        """Whether the welcome card may open at start: not while the lesson dock is
        shown (a first start, or a student who left it open), which already says what
        to do; two guides at once confuse a newcomer."""
        return self.lessons.isHidden()

    def _add_menus(self):
        window = self.window
        menus = {a.text(): a.menu() for a in window.menuBar().actions() if a.menu()}
        file_menu = menus["&File"]
        first = file_menu.actions()[0] if file_menu.actions() else None
        entries = (("&Lessons...", self.show_lessons), ("Open e&xercise...", self.open_dialog),
                   ("Export &worksheet (PDF)...", self.export_dialog))
        for text, slot in entries:
            action = QAction(text, window)
            action.triggered.connect(slot)
            file_menu.insertAction(first, action)
        file_menu.insertSeparator(first)
        help_menu = menus.get("&Help")
        if help_menu is not None:
            action = QAction("&Lessons...", window)
            action.triggered.connect(self.show_lessons)
            help_menu.insertAction(help_menu.actions()[0] if help_menu.actions() else None,
                                   action)
        view = menus.get("&View")
        if view is not None:
            view.addAction(self.lessons.toggleViewAction())

    def show_lessons(self):
        """Show the lesson dock; opening it sets the rig for the step shown."""
        if not self.lessons.isVisible():
            self.lessons.apply_current()
        self.lessons.show()
        self.lessons.raise_()

    def open_dialog(self):
        path, _ = QFileDialog.getOpenFileName(self.window, "Open exercise", "",
                                              "vRig exercise (*.json);;All files (*)")
        if path:
            self.exercise.open_exercise(path)

    def export_dialog(self):
        progress = self.lessons.progress
        name, ok = QInputDialog.getText(self.window, "Worksheet", "Your name:",
                                        QLineEdit.Normal, progress.student)
        if not ok:
            return
        path, _ = QFileDialog.getSaveFileName(self.window, "Export worksheet",
                                              "worksheet.pdf", "PDF (*.pdf)")
        if path:
            self.export(path, name)

    def _pictures(self):
        """(caption, QPixmap) of the traces: the scopes as printed (white paper), and the
        analysis as shown."""
        window = self.window
        with tempfile.TemporaryDirectory() as folder:
            scopes = Path(folder) / "scopes.png"
            try:
                window.scopes.export(str(scopes), style="print", dpi=150)
                picture = QPixmap(str(scopes))
            except (OSError, VrigError):
                picture = window.scopes.grab()
        return (("Scopes (the traces recorded)", picture),
                ("Analysis", window.analysis.grab()))

    def export(self, path, name):
        """Write the worksheet PDF for the student name; True on success."""
        progress = self.lessons.progress
        try:
            if name != progress.student:
                progress.student = name
            write_pdf(path, name, self.lessons.lessons, progress, self._pictures())
        except VrigError as exc:
            self.window.show_error(str(exc))
            return False
        self.window.statusBar().showMessage(f"wrote the worksheet to {path}", 10000)
        return True
