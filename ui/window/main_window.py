"""The rig window: amplifier panel (left dock); scopes and protocol editor (centre tabs).

It owns the Qt-free :class:`rig.session.session.Session` (mode, holdings, speed,
running, recording, the engine's settings), which the panels show and change, and
wires the views to :class:`ui.rig_client.RigClient`, which feeds the session from the
engine; :mod:`rig.session.engine_link` sends each change of the session to the engine.
It owns the live recording (:class:`ui.panels.recording_controls.RecordingController`)
and the saved settings. It never does physics and never touches the engine's state:
every change is a :mod:`rig.acquisition.commands` object sent through the client.

Keyboard: space starts/stops acquisition, R starts/stops recording, the arrow keys
turn the focused knob (the knob takes focus when the window opens).
"""

import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QTabWidget,
    QToolButton,
)

from rig import resources
from rig.acquisition import commands as c
from rig.acquisition.snapshot import RigState
from rig.errors import VrigError
from rig.model import catalogue
from rig.model.cell import scan_cells
from rig.session import engine_link
from rig.session.electrodes import rig_for_cell
from rig.session.session import Session
from ui.dynamics import dynamics_tab
from ui.look import theme
from ui.panels import (
    analysis_panel,
    axon_view,
    compensation_panel,
    membrane_test_window,
    patch_mode,
    single_channel_view,
)
from ui.panels.amplifier_panel import AmplifierPanel
from ui.panels.bath_dock import BathDock
from ui.panels.protocol_dock import ProtocolDock
from ui.panels.recording_controls import RecordingController
from ui.rig_client import RigClient
from ui.scopes.scope_area import ScopeArea
from ui.teaching.install import Teaching
from ui.widgets.scrolling import scrolled
from ui.window import file_menu, theme_menu, window_settings
from ui.window.help_menu import HelpMenu
from ui.window.settings_store import SavedSettings
from ui.window.window_options import WindowOptions

DEFAULT_CELL = "hh-squid"
FIRST_START_HOLDING_PA = 100.0
STATUS_EVERY_S = 0.25  # status-bar figures update at 4 Hz: readable, and cheap
JUMP_S = 1.0  # a gap this long between chunks is a fast-forward, not acquisition
ERROR_SHOW_MS = 15000
RECORDING_FINISH_S = 120.0  # closing waits this long for the recording's files

DESIGNER_MIN_HEIGHT = 250  # px the protocol tab claims from the window's height


class MainWindow(QMainWindow):
    """The rig window. settings: a QSettings (tests pass one on a temporary file);
    autostart: start continuous acquisition at once, as the instrument does.
    cellChanged(name) is emitted once a new cell's engine has replaced the old one."""

    cellChanged = Signal(str)

    def __init__(self, settings=None, autostart=False, runner_factory=None, options=None):
        super().__init__()
        self.setWindowTitle("vRig - virtual patch-clamp rig")
        self.settings = settings if settings is not None else QSettings("vRig", "vrig")
        self.saved = SavedSettings(self.settings)
        options = options or WindowOptions()
        look = theme_menu.startup_look(self.saved, options)
        if look != theme.current():
            theme.switch(look)  # before the widgets are made: they start in it
        self.confirm_close = True  # ask before closing while recording (not on SIGTERM)
        # What the window starts without (broken presets), as messages.
        self.startup_problems = [f"{path}: {problem}" for path, problem in catalogue.problems()]
        self.last_error = ""
        self._status_at = 0.0
        self._clock = None  # (wall, simulated) at the first chunk after a start
        self._last_chunk_s = 0.0  # simulated time at the end of the newest chunk
        self._build_status()  # first: a bad saved cell is reported there
        cells = list(scan_cells()[0])  # patches and fibres (these get the Axon tab)
        rig = self._first_loadable_cell(options.cell or self.saved.text("cell", DEFAULT_CELL),
                                        cells)
        self.session = Session(RigState.of(rig))  # before the client's runner owns rig
        kwargs = {} if runner_factory is None else {"runner_factory": runner_factory}
        self.client = RigClient(rig, self, session=self.session, **kwargs)
        engine_link.follow(self.session, self.client.send)
        self.panel = AmplifierPanel(self.session, cells)
        self.scopes = ScopeArea(self.client.names_units, self.session.mode)
        self.scopes.message.connect(self.show_error)
        self.protocols = ProtocolDock()
        self.recording = RecordingController(self)
        # Scopes and protocol editor share the centre as tabs: the designer's table and
        # preview need the room, and a 1280x800 projector cannot show both at once.
        self.tabs = QTabWidget()
        self.tabs.setObjectName("CentralTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.scopes, "Scopes")
        # A tab widget is as tall as its tallest page: the designer must not push a
        # 1280x800 window past the screen when Bath & drugs is open under the scopes
        # (the dock steps aside while the Protocol tab is shown, so it has the room).
        self.protocols.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Ignored)
        self.protocols.setMinimumHeight(DESIGNER_MIN_HEIGHT)
        self.tabs.addTab(self.protocols, "Protocol")
        self.setCentralWidget(self.tabs)
        self._build_docks()
        self._build_menu()
        self._connect()
        self._add_compensation()
        self._add_bath_dock()
        self.axon = axon_view.install(self)  # the Axon tab, while the cell is a fibre
        self.dynamics = dynamics_tab.install(self)  # bifurcations, phase plane, f-I, sweeps
        self.patch_mode = patch_mode.install(self)  # the PATCH group, while it is a patch
        self.single_channels = single_channel_view.install(self)  # in the Analysis tab
        self.looks = theme_menu.ThemeMenu(self, next(
            a.menu() for a in self.menuBar().actions() if a.text() == "&View"))
        self.help = HelpMenu(self)
        self.first_start = not self.settings.contains("mode")
        self.teaching = Teaching(self)  # lessons, exercises, worksheet (ui.teaching)
        window_settings.restore(self)
        if autostart and self.first_start and rig.cell.name == DEFAULT_CELL:
            # Something alive at once: this makes the squid membrane fire repetitively.
            self.set_holding("CC", FIRST_START_HOLDING_PA)
        self._apply_options(options)
        self.panel.knob.dial.setFocus()
        if autostart:
            self.start()

    # --- construction -----------------------------------------------------------------

    def _make_rig(self, cell, **gradients):
        try:
            return rig_for_cell(cell, **gradients)
        except VrigError as exc:
            self.show_error(f"cell {cell!r}: {exc}")
            return None

    def _first_loadable_cell(self, wanted, cells):
        """A Rig for the wanted cell, else the default, else the first usable shipped
        cell (cells: the names that load; a corrupt preset must not stop the window);
        VrigError if there is none."""
        for name in (wanted, DEFAULT_CELL, *cells):
            if name in cells:
                return rig_for_cell(name)
        raise VrigError("no cell preset can be used ("
                        + ("; ".join(self.startup_problems) or "none shipped")
                        + f"); reinstall vRig to restore {resources.resources_dir() / 'cells'}")

    def _apply_options(self, options):
        """The command line's choices for this session (see ui.window.window_options)."""
        if options.speed is not None:
            speed = None if options.speed == "max" else options.speed
            try:
                self.session.speed = speed
            except VrigError as exc:
                self.show_error(str(exc))
        if options.protocol is not None:
            loaded = (self.protocols.load_file(options.protocol)
                      if str(options.protocol).lower().endswith(".json")
                      else self.protocols.load_shipped(options.protocol))
            if loaded is not None:
                self.statusBar().showMessage(
                    f"protocol '{loaded.name}' is ready: Run protocol (F5) runs it", 15000)
        if options.record is not None:
            self.recording.start(options.record)

    def _build_docks(self):
        amp = QDockWidget("Amplifier", self)
        amp.setObjectName("AmplifierDock")
        amp.setWidget(scrolled(self.panel))  # large text: the panel scrolls
        amp.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(Qt.LeftDockWidgetArea, amp)

    def _add_bath_dock(self):
        """Dock 'Bath & drugs' (ui.panels.bath_dock) under the scopes: at 1280x800 the sides
        have no room; the left dock keeps the full height."""
        self.bath = BathDock(self.session.engine, self)
        self.bath.commandRequested.connect(self.client.send)
        self.bath.message.connect(self.show_error)
        self.bath.gradientsRequested.connect(self.set_gradients)
        self.session.events.cell.connect(lambda _: self.bath.set_engine_state(self.session.engine))
        self.setCorner(Qt.BottomLeftCorner, Qt.LeftDockWidgetArea)
        self.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)
        self.addDockWidget(Qt.BottomDockWidgetArea, self.bath)
        view = next(a.menu() for a in self.menuBar().actions() if a.text() == "&View")
        toggle = self.bath.toggleViewAction()
        toggle.setText("Bath && drugs")
        view.addAction(toggle)
        self._bath_stepped_aside = False
        self.tabs.currentChanged.connect(self._tab_changed)
        button = QToolButton()
        button.setDefaultAction(toggle)
        button.setFocusPolicy(Qt.NoFocus)
        button.setToolTip("Show or hide the perfusion manifold and the solutions")
        self.scopes.add_control(button)

    def _tab_changed(self, index):
        """On a small screen the protocol designer and the analysis need the full
        height: a docked Bath & drugs panel steps aside while they are shown and comes
        back with the scopes."""
        on_scopes = self.tabs.widget(index) is self.scopes
        if on_scopes and self._bath_stepped_aside:
            self._bath_stepped_aside = False
            self.bath.show()
        elif (not on_scopes and self.bath.isVisible() and not self.bath.isFloating()
              and self.height() < window_settings.BATH_DOCK_MIN_WINDOW_HEIGHT):
            self._bath_stepped_aside = True
            self.bath.hide()

    def _add_compensation(self):
        """Compensation dock (tabbed with the amplifier's), Tools > Membrane test, and
        the Analysis tab (which also holds the P/N choice for protocol runs)."""
        self.compensation = compensation_panel.install(self)
        self._membrane_test = None
        membrane_test_window.install(self)
        self.analysis = analysis_panel.install(self)
        view = next(a.menu() for a in self.menuBar().actions() if a.text() == "&View")
        view.addAction(self.findChild(QDockWidget, "CompensationDock").toggleViewAction())

    @property
    def membrane_test(self):
        """Tools > Membrane test's window, made at its first use."""
        if self._membrane_test is None:
            self._membrane_test = membrane_test_window.create(self, self.compensation)
        return self._membrane_test

    def _build_status(self):
        bar = self.statusBar()
        self.error_label = QLabel("")
        theme.set_style(self.error_label, "color: #ff8080; font-weight: bold;")
        bar.addWidget(self.error_label, 1)
        self._error_timer = QTimer(self)
        self._error_timer.setSingleShot(True)
        self._error_timer.setInterval(ERROR_SHOW_MS)
        self._error_timer.timeout.connect(lambda: self.error_label.setText(""))
        self.time_label = QLabel("t = 0.000 s")
        self.speed_label = QLabel("")
        self.dropped_label = QLabel("")
        for label in (self.time_label, self.speed_label, self.dropped_label):
            bar.addPermanentWidget(label)

    def _build_menu(self):
        file_menu.build(self)
        view = self.menuBar().addMenu("&View")
        view.addAction(self.findChild(QDockWidget, "AmplifierDock").toggleViewAction())
        QShortcut(QKeySequence(Qt.Key_Space), self, self.toggle_run)
        QShortcut(QKeySequence(Qt.Key_R), self, self.toggle_record)
        QShortcut(QKeySequence(Qt.Key_P), self, self.panel.stimulus.fire)

    def _connect(self):
        client, panel = self.client, self.panel
        client.chunks.connect(self._on_chunks)
        client.event.connect(self._on_event)
        client.tick.connect(self._on_tick)
        client.signalsChanged.connect(self._signals_changed)
        self.recording.message.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.recording.error.connect(self.show_error)
        # through scopes.scope each time: a new cell or moved recording sites replace it
        self.session.events.mode.connect(lambda mode: self.scopes.scope.set_mode(mode))
        self.session.events.speed.connect(self._speed_changed)
        self.session.events.running.connect(self._running_changed)
        panel.runClicked.connect(self.toggle_run)
        panel.recordClicked.connect(self.toggle_record)
        panel.cellRequested.connect(self.set_cell)
        panel.resetRequested.connect(lambda: client.send(c.ResetCell()))
        panel.pulseRequested.connect(client.send)
        panel.message.connect(self.show_error)
        self.protocols.runRequested.connect(self.run_protocol)
        self.protocols.error.connect(self.show_error)

    # --- actions ----------------------------------------------------------------------

    def start(self):
        """Start continuous acquisition."""
        self.client.send(c.Start())

    def stop(self):
        """Stop acquisition (a protocol in progress is abandoned)."""
        self.client.send(c.Stop())

    def toggle_run(self):
        """Space: start or stop."""
        (self.stop if self.session.running else self.start)()

    def set_mode(self, mode):
        """Switch clamp mode; the cell is untouched, each mode keeps its holding."""
        self.session.mode = mode

    def set_holding(self, mode, value):
        """Set a mode's holding in its level unit (mV in VC, pA in CC), as the knob does."""
        self.session.set_holding(mode, value)

    def _speed_changed(self, factor):
        if factor is None:
            self.statusBar().showMessage("max speed applies to protocols; "
                                         "continuous acquisition runs in real time", 5000)
        self._clock = None

    def _running_changed(self, running):
        self._clock = None

    def run_protocol(self, protocol):
        """Run a protocol's sweeps (episodic acquisition), then continue continuously."""
        protocol = self.analysis.prepare(protocol)  # P/N choice; analysis resets
        if protocol is None:
            self.show_error("no valid protocol to run")
            return
        self.session.protocol_sent(protocol)
        self.scopes.scope.begin_protocol(protocol)
        self.scopes.set_style("episodic")
        self.tabs.setCurrentWidget(self.scopes)
        self.client.send(c.RunProtocol(protocol, speed=self.session.speed))
        self._clock = None

    def set_gradients(self, accumulation, pump):
        """A fresh cell of the same preset with ion accumulation and the pump on or off."""
        self.set_cell(self.session.engine.cell.name, accumulation=accumulation, pump=pump)

    def set_cell(self, name, **gradients):
        """Replace the cell: stop, build a new engine, restore the settings, restart.
        gradients: accumulation, pump (True/False; default the preset's)."""
        rig = self._make_rig(name, **gradients)
        if rig is None:
            self.bath.set_engine_state(self.session.engine)  # the switches as they were
            return
        was_running = self.session.running
        self.recording.stop()
        self.client.replace(rig)
        self.send_settings()
        self._signals_changed()
        self.settings.setValue("cell", name)
        if was_running:
            self.start()
        self.cellChanged.emit(name)

    def _signals_changed(self):
        """The engine's signals changed (a new cell, a fibre's recording sites moved):
        the scopes follow (the analysis follows the cell event itself)."""
        self.scopes.set_signals(self.client.names_units, self.session.mode)

    def send_settings(self):
        """Put the session's mode, holdings and speed into a (new) engine."""
        for command in engine_link.settings_commands(self.session):
            self.client.send(command)

    # --- recording --------------------------------------------------------------------

    def toggle_record(self):
        """R: start or stop recording."""
        self.recording.toggle()

    # --- from the engine --------------------------------------------------------------

    def _on_chunks(self, chunks):
        self.recording.on_chunks(chunks)
        self.scopes.scope.add_chunks(chunks)
        self.panel.show_chunks(chunks)
        self.bath.show_chunks(chunks)
        first = chunks[0]
        start_s = first.time_s - first.n_samples * first.sample_interval_s
        # a jump in simulated time (a fast-forward of minutes) restarts the speed clock:
        # otherwise the status bar would claim thousands of times real time
        if self._clock is None or start_s > self._last_chunk_s + JUMP_S:
            self._clock = (time.perf_counter(), first.time_s)
        self._last_chunk_s = chunks[-1].time_s

    def _on_tick(self):
        if self.scopes.isVisible():  # hidden behind another tab: it catches up when shown
            self.scopes.scope.refresh()
        now = time.perf_counter()
        if now - self._status_at < STATUS_EVERY_S or self.client.newest is None:
            return
        self._status_at = now
        newest = self.client.newest
        self.time_label.setText(f"t = {newest.time_s:.3f} s")
        if self._clock is not None and self.session.running and now > self._clock[0] + 0.5:
            ratio = (newest.time_s - self._clock[1]) / (now - self._clock[0])
            self.speed_label.setText(f"{ratio:.2f}x real time")
        dropped = self.client.dropped_chunks
        self.dropped_label.setText(f"dropped {dropped}" if dropped else "")

    def _on_event(self, event):
        kind = event.kind
        if kind == "protocol_started":
            self.statusBar().showMessage(f"protocol {event.text}: {event.sweeps} sweep(s)")
        elif kind == "sweep_done":
            self.statusBar().showMessage(f"protocol {event.text}: sweep {event.sweep + 1} "
                                         f"of {event.sweeps}")
        elif kind == "protocol_done":
            self.statusBar().showMessage(f"protocol {event.text} done", 5000)
            self._clock = None
        elif kind == "error":
            self.show_error(event.text)
        self.recording.on_event(event)

    def show_recording(self, recording, path):
        """Show a recording read from a file in the scopes and analyse it."""
        name = Path(path).name
        try:
            self.scopes.show_recording(recording)
        except VrigError as exc:
            self.show_error(f"cannot show {name}: {exc}")
            return False
        self.tabs.setCurrentWidget(self.scopes)
        analysed = self.analysis.show_recording(recording, name)
        self.statusBar().showMessage(
            f"opened {name}: {recording.n_sweeps} sweep(s)"
            + ("; its measurements are in the Analysis tab" if analysed else ""), 10000)
        return True

    def _confirm_quit(self):
        """Ask (without blocking the scopes) whether to stop recording and quit."""
        box = QMessageBox(QMessageBox.Question, "Quit while recording?",
                          "vRig is recording. Quit, and finish the recording's files?",
                          QMessageBox.NoButton, self)
        quit_button = box.addButton("Finish recording and quit", QMessageBox.AcceptRole)
        box.addButton("Keep recording", QMessageBox.RejectRole)
        box.setModal(False)
        box.buttonClicked.connect(lambda button: self._quit_confirmed()
                                  if button is quit_button else None)
        box.show()
        self.quit_question = box
        return box

    def _quit_confirmed(self):
        self.confirm_close = False
        self.close()

    def report_problems(self, problems):
        """Say what the window started without (a broken preset or stylesheet): the
        first problem in the status bar, all of them in Help > Problems at start."""
        self.startup_problems = list(problems)
        self.help.set_problems(self.startup_problems)
        if self.startup_problems:
            more = len(self.startup_problems) - 1
            self.show_error(self.startup_problems[0] + (
                f" (and {more} more: Help > Problems at start)" if more else ""))

    def show_error(self, message):
        """Show a problem in red in the status bar for a while, without stopping the run."""
        self.last_error = str(message)
        self.error_label.setText(f"Error: {message}")
        self.error_label.setToolTip(str(message))
        self._error_timer.start()

    # --- settings and closing ---------------------------------------------------------

    def save_settings(self):
        """Write layout and last settings to the QSettings."""
        window_settings.save(self)

    def closeEvent(self, event):
        """Save settings, finish the recording's files, stop and join the engine thread.
        While recording, a close from the user is confirmed first (not one from
        SIGTERM, or after confirm_close is set False)."""
        if self.confirm_close and self.recording.is_recording:
            event.ignore()
            self._confirm_quit()
            return
        self.save_settings()
        self.recording.finish(RECORDING_FINISH_S)
        self.dynamics.shutdown()  # its worker threads stop at their next check
        self.client.close()
        super().closeEvent(event)
