"""`vrig --kiosk`: the rig as an unattended demo station. Full screen, large type, a
restricted set of controls (mode, holding knob, Pulse, Run and a button per demo), an
attract loop of captioned demonstrations (rig.teaching.kiosk) that any touch pauses and
that returns after a few idle minutes, and errors written to a log, never shown as a
dialog."""

import ctypes
import ctypes.util
import logging
import logging.handlers
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, QStandardPaths, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from rig.teaching.kiosk import KioskLoop, captions, load_demos
from ui.teaching import driver
from ui.teaching.rich_text import inline
from ui.window.main_window import MainWindow

TICK_MS = 250
DEMO_COLUMNS = 3
LOG_BYTES = 1_000_000  # the log rotates: days of running keep a bounded disk use
TOUCHES = (QEvent.MouseButtonPress, QEvent.TouchBegin, QEvent.KeyPress)
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's own starting value, kept fixed


def fix_mmap_threshold():
    """Keep glibc's malloc from growing the heap demo by demo; True when it took.

    glibc serves blocks of 128 kB and more (numpy arrays: chunks, sweep buffers, gate
    tables) with mmap, returned to the system when freed, but it raises that threshold
    to the size of each such block freed (up to 32 MB). After the first demo's arrays
    are freed every later array comes from the heap, between small long-lived objects,
    and the heap's resident size only grows: the kiosk soak's 1.1 MB a minute with
    flat Python and Qt object counts. A fixed threshold stops the raising. Elsewhere
    (macOS, Windows, musl) there is no mallopt: nothing is done."""
    name = ctypes.util.find_library("c")
    if sys.platform != "linux" or name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1


def kiosk_logger(path):
    """A logger writing to path, rotated at LOG_BYTES (3 old files kept)."""
    logger = logging.getLogger(f"vrig.kiosk.{path}")
    if not logger.handlers:
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=LOG_BYTES,
                                                       backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


class _TouchFilter(QObject):
    """Reports every press, touch or key anywhere in the application."""

    def __init__(self, on_touch):
        super().__init__()
        self.on_touch = on_touch

    def eventFilter(self, watched, event):
        if event.type() in TOUCHES:
            self.on_touch()
        return False


class KioskWindow(MainWindow):
    """The rig window in kiosk mode. log_path: the error log; clock: s (injected in
    tests); settings: a QSettings of its own (the kiosk never changes a user's)."""

    def __init__(self, log_path, clock=time.monotonic, settings=None, **kwargs):
        self.log = kiosk_logger(str(log_path))
        super().__init__(settings=settings, **kwargs)
        self.confirm_close = False
        self.clock = clock
        self.demos = load_demos()
        self.loop = KioskLoop(len(self.demos.steps),
                              [len(captions(step)) for step in self.demos.steps])
        self._restrict()
        self._build_caption_bar()
        self.touch_filter = _TouchFilter(self.touched)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.on_tick)

    def start_loop(self):
        """Begin the attract loop (and its timer)."""
        QApplication.instance().installEventFilter(self.touch_filter)
        self._do(self.loop.start(self.clock()))
        self.timer.start()

    # --- what visitors may not do -------------------------------------------------------

    def show_error(self, message):
        """Errors go to the log, never to a visitor."""
        self.last_error = str(message)
        self.log.warning("%s", message)

    def toggle_record(self):
        """Visitors do not record (R does nothing)."""

    def _restrict(self):
        self.menuBar().hide()
        self.statusBar().hide()
        self.tabs.tabBar().hide()
        self.tabs.setCurrentWidget(self.scopes)
        for dock in self.findChildren(QDockWidget):
            if dock.objectName() != "AmplifierDock":
                dock.hide()
            dock.setFeatures(QDockWidget.NoDockWidgetFeatures)
        for widget in (self.panel.cell_combo, self.panel.record_button):
            widget.setEnabled(False)

    def _build_caption_bar(self):
        bar = QDockWidget("", self)
        bar.setObjectName("KioskCaption")
        bar.setTitleBarWidget(QWidget())
        bar.setFeatures(QDockWidget.NoDockWidgetFeatures)
        body = QWidget()
        layout = QVBoxLayout(body)
        self.title = QLabel()
        self.title.setObjectName("KioskTitle")
        self.title.setTextFormat(Qt.RichText)
        self.caption = QLabel()
        self.caption.setObjectName("KioskCaptionText")
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.RichText)
        self.caption.setMinimumHeight(90)
        # wrap to the screen's width instead of widening the window past it
        self.caption.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.title.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        font = self.caption.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        self.caption.setFont(font)
        title_font = self.title.font()
        title_font.setPointSizeF(title_font.pointSizeF() * 1.8)
        title_font.setBold(True)
        self.title.setFont(title_font)
        layout.addWidget(self.title)
        layout.addWidget(self.caption)
        row = QHBoxLayout()
        row.addWidget(QLabel("Try it:"), 0, Qt.AlignTop)
        grid = QGridLayout()  # two rows of buttons: the bar fits beside the amplifier
        self.demo_buttons = []
        for index, step in enumerate(self.demos.steps):
            button = QPushButton(_short_title(step.title))
            button.setToolTip(_plain_title(step.title))
            button.clicked.connect(lambda _=False, i=index: self.play(i))
            grid.addWidget(button, index // DEMO_COLUMNS, index % DEMO_COLUMNS)
            self.demo_buttons.append(button)
        row.addLayout(grid, 1)
        layout.addLayout(row)
        bar.setWidget(body)
        self.addDockWidget(Qt.BottomDockWidgetArea, bar)
        self.caption_bar = bar

    # --- the loop -----------------------------------------------------------------------

    def touched(self):
        self._do(self.loop.touch(self.clock()))

    def on_tick(self):
        """Advance the loop (the timer calls it; a test may call it with its clock)."""
        try:
            self._do(self.loop.tick(self.clock()))
        except Exception:  # a demo must never stop the station; the log says what broke
            self.log.exception("kiosk tick failed")

    def play(self, index):
        """A visitor chose a demo: run it (the loop stays paused)."""
        self.loop.demo = index
        self._start_demo(index)
        self._show_caption(0)

    def _do(self, actions):
        for what, index in actions:
            if what == "demo":
                self._start_demo(index)
            elif what == "caption":
                self._show_caption(index)
            elif what == "pause":
                self.title.setText("Your turn")
                self.caption.setText("Turn the knob, press <b>Pulse</b>, switch between "
                                     "<b>VC</b> and <b>CC</b>, or choose a demonstration "
                                     "below. The tour resumes by itself when you leave.")

    def _start_demo(self, index):
        step = self.demos.steps[index]
        self.title.setText(inline(step.title))
        self._fresh_engine()
        driver.show_view(self, "scopes")  # a demo shows the gates only if it says so
        for problem in driver.apply_actions(self, step.actions):
            self.log.warning("demo %s: %s", _plain_title(step.title), problem)
        self.log.info("demo %d: %s", index, _plain_title(step.title))

    def _fresh_engine(self):
        """A new engine of the same cell, so that the last demo's drugs (TTX washes out
        over minutes) and temperature do not leak into this one; the scopes stay (see
        driver.fresh_engine: a station switching demos all day cannot afford their
        rebuild)."""
        driver.fresh_engine(self)
        self.start()

    def _show_caption(self, index):
        lines = captions(self.demos.steps[self.loop.demo])
        if lines:
            self.caption.setText(inline(lines[min(index, len(lines) - 1)]))

    def closeEvent(self, event):
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.touch_filter)
        super().closeEvent(event)


def _plain_title(html):
    return html.replace("<sup>", "").replace("</sup>", "").replace("<sub>", "").replace(
        "</sub>", "")


def _short_title(html):
    """A demo button's label: the title up to its first comma or colon."""
    return _plain_title(html).split(",")[0].split(":")[0]


def default_log_path():
    """The kiosk log's default place: the user's application data folder."""
    folder = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation)
    path = Path(folder or ".") / "vrig-kiosk.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def run_kiosk(options, log_path=None):
    """Open the kiosk full screen and run until it is closed (SIGTERM)."""
    from ui.app import close_on_signals, make_app

    fix_mmap_threshold()
    app = make_app(["vrig"])
    log_path = log_path or default_log_path()
    window = KioskWindow(log_path, settings=QSettings("vRig", "vrig-kiosk"),
                         autostart=True, options=options)
    logger = window.log

    def log_exception(kind, value, trace):
        logger.error("uncaught", exc_info=(kind, value, trace))

    sys.excepthook = log_exception  # a bug is logged; the station keeps running
    window.showFullScreen()
    window.start_loop()
    close_on_signals(window)
    return app.exec()
