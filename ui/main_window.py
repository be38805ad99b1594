"""The rig window: amplifier panel (left dock); scopes and protocol editor (centre tabs).

It wires the views to :class:`ui.rig_client.RigClient` and owns the live recording
and the saved settings. It never does physics and never touches the engine's state:
every change is a :mod:`rig.commands` object sent through the client.

Keyboard: space starts/stops acquisition, R starts/stops recording, the arrow keys
turn the focused knob (the knob takes focus when the window opens).
"""

import json
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDockWidget, QFileDialog, QLabel, QMainWindow, QTabWidget, QToolButton,
)

from rig import commands as c
from rig import resources
from rig.physics import check_temperature
from rig.solutions import check_permeant, solution_from_dict
from rig.engine import Rig
from rig.errors import VrigError
from rig.live_recorder import LiveRecorder, default_path
from ui import analysis_panel, compensation_panel, membrane_test_window
from ui.amplifier_panel import AmplifierPanel
from ui.bath_dock import BathDock
from ui.protocol_dock import ProtocolDock
from ui.rig_client import RigClient
from ui.scope_area import ScopeArea

DEFAULT_CELL = "hh-squid"
STATUS_EVERY_S = 0.25  # status-bar figures update at 4 Hz: readable, and cheap
ERROR_SHOW_MS = 15000


BATH_DOCK_MIN_WINDOW_HEIGHT = 900  # px: below this the bath dock starts hidden


class MainWindow(QMainWindow):
    """The rig window. settings: a QSettings (tests pass one on a temporary file);
    autostart: start continuous acquisition at once, as the instrument does."""

    def __init__(self, settings=None, autostart=False, runner_factory=None):
        super().__init__()
        self.setWindowTitle("vRig - virtual patch-clamp rig")
        self.settings = settings if settings is not None else QSettings("vRig", "vrig")
        self.recorder = None
        self.last_error = ""
        self.protocol = None  # the protocol running or last run
        self._status_at = 0.0
        self._clock = None  # (wall, simulated) at the first chunk after a start
        self._build_status()  # first: a bad saved cell is reported there
        cell = str(self.settings.value("cell", DEFAULT_CELL))
        rig = self._make_rig(cell) or Rig.from_presets(DEFAULT_CELL)
        kwargs = {} if runner_factory is None else {"runner_factory": runner_factory}
        self.client = RigClient(rig, self, **kwargs)
        self.panel = AmplifierPanel(resources.preset_names("cells"))
        self.panel.cell_combo.setCurrentText(rig.cell.name if rig.cell.name in
                                             resources.preset_names("cells") else cell)
        self.scopes = ScopeArea(self.client.names_units, self.panel.mode)
        self.scopes.message.connect(self.show_error)
        self.protocols = ProtocolDock()
        # Scopes and protocol editor share the centre as tabs: the designer's table and
        # preview need the room, and a 1280x800 projector cannot show both at once.
        self.tabs = QTabWidget()
        self.tabs.setObjectName("CentralTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.scopes, "Scopes")
        self.tabs.addTab(self.protocols, "Protocol")
        self.setCentralWidget(self.tabs)
        self._build_docks()
        self._build_menu()
        self._connect()
        self._add_compensation()
        self._add_bath_dock()
        self._restore()
        self.panel.knob.dial.setFocus()
        if autostart:
            self.start()

    # --- construction -----------------------------------------------------------------

    def _make_rig(self, cell):
        try:
            return Rig.from_presets(cell)
        except VrigError as exc:
            self.show_error(f"cell {cell!r}: {exc}")
            return None

    def _build_docks(self):
        amp = QDockWidget("Amplifier", self)
        amp.setObjectName("AmplifierDock")
        amp.setWidget(self.panel)
        amp.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(Qt.LeftDockWidgetArea, amp)

    def _add_bath_dock(self):
        """Dock 'Bath & drugs' (ui.bath_dock) under the scopes: at 1280x800 the sides
        have no room; the left dock keeps the full height."""
        self.bath = BathDock(self.client.rig, self)
        self.bath.commandRequested.connect(self.client.send)
        self.bath.message.connect(self.show_error)
        self.panel.cellRequested.connect(lambda _name: self.bath.set_rig(self.client.rig))
        self.setCorner(Qt.BottomLeftCorner, Qt.LeftDockWidgetArea)
        self.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)
        self.addDockWidget(Qt.BottomDockWidgetArea, self.bath)
        view = next(a.menu() for a in self.menuBar().actions() if a.text() == "&View")
        toggle = self.bath.toggleViewAction()
        toggle.setText("Bath && drugs")
        view.addAction(toggle)
        button = QToolButton()
        button.setDefaultAction(toggle)
        button.setFocusPolicy(Qt.NoFocus)
        button.setToolTip("Show or hide the perfusion manifold and the solutions")
        self.scopes.add_control(button)

    def _add_compensation(self):
        """Compensation dock (tabbed with the amplifier's), Tools > Membrane test, and
        the Analysis tab (which also holds the P/N choice for protocol runs)."""
        self.compensation = compensation_panel.install(self)
        self.membrane_test = membrane_test_window.install(self, self.compensation)
        self.analysis = analysis_panel.install(self)
        view = next(a.menu() for a in self.menuBar().actions() if a.text() == "&View")
        view.addAction(self.findChild(QDockWidget, "CompensationDock").toggleViewAction())

    def _build_status(self):
        bar = self.statusBar()
        self.error_label = QLabel("")
        self.error_label.setStyleSheet("color: #ff8080; font-weight: bold;")
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
        file_menu = self.menuBar().addMenu("&File")
        choose = QAction("Recording &folder...", self)
        choose.triggered.connect(self._choose_folder)
        file_menu.addAction(choose)
        group = QActionGroup(self)
        self.format_actions = {}
        for ext in (".csv", ".npz"):
            action = QAction(f"Record as {ext}", self, checkable=True)
            group.addAction(action)
            file_menu.addAction(action)
            self.format_actions[ext] = action
        self.format_actions[".csv"].setChecked(True)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        view = self.menuBar().addMenu("&View")
        view.addAction(self.findChild(QDockWidget, "AmplifierDock").toggleViewAction())
        QShortcut(QKeySequence(Qt.Key_Space), self, self.toggle_run)
        QShortcut(QKeySequence(Qt.Key_R), self, self.toggle_record)

    def _connect(self):
        client, panel = self.client, self.panel
        client.chunks.connect(self._on_chunks)
        client.event.connect(self._on_event)
        client.tick.connect(self._on_tick)
        panel.modeRequested.connect(self.set_mode)
        panel.holdingRequested.connect(lambda mode, value: client.send(c.SetHolding(mode, value)))
        panel.runClicked.connect(self.toggle_run)
        panel.recordClicked.connect(self.toggle_record)
        panel.speedRequested.connect(self._speed_requested)
        panel.cellRequested.connect(self.set_cell)
        panel.resetRequested.connect(lambda: client.send(c.ResetCell()))
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
        (self.stop if self.client.running else self.start)()

    def set_mode(self, mode):
        """Switch clamp mode; the cell is untouched, each mode keeps its holding."""
        self.panel.set_mode(mode)
        self.client.send(c.SetMode(mode))
        self.scopes.scope.set_mode(mode)

    def set_holding(self, mode, value):
        """Set a mode's holding in display units (mV in VC, pA in CC), as the knob does."""
        self.panel.set_holding(mode, value)
        self.client.send(c.SetHolding(mode, self.panel.holding_si(mode)))

    def _speed_requested(self, factor):
        # 'As fast as possible' only makes sense for a protocol (a free-running cell
        # would flood the display): the runner takes it per protocol run, and
        # continuous acquisition stays in real time.
        if factor is None:
            self.statusBar().showMessage("max speed applies to protocols; "
                                         "continuous acquisition runs in real time", 5000)
        self.client.send(c.SetSpeed(1.0 if factor is None else factor))
        self._clock = None

    def run_protocol(self, protocol):
        """Run a protocol's sweeps (episodic acquisition), then continue continuously."""
        protocol = self.analysis.prepare(protocol)  # P/N choice; analysis resets
        if protocol is None:
            self.show_error("no valid protocol to run")
            return
        self.protocol = protocol
        self.panel.set_mode(protocol.mode)
        if protocol.mode in ("VC", "CC"):
            self.panel.set_holding(protocol.mode, protocol.holding)
        self.scopes.scope.set_mode(protocol.mode)
        self.scopes.scope.begin_protocol(protocol)
        self.scopes.set_style("episodic")
        self.tabs.setCurrentWidget(self.scopes)
        self.client.send(c.RunProtocol(protocol, speed=self.panel.speed()))
        if self.recorder is not None:
            self.recorder.note(f"protocol {protocol.to_json()}")
        self._clock = None

    def set_cell(self, name):
        """Replace the cell: stop, build a new engine, restore the settings, restart."""
        rig = self._make_rig(name)
        if rig is None:
            return
        was_running = self.client.running
        self.stop_recording()
        self.client.replace(rig)
        self.panel.set_running(False)
        self.panel.cell_combo.setCurrentText(name)
        self._send_settings()
        self.scopes.set_signals(self.client.names_units, self.panel.mode)
        self.settings.setValue("cell", name)
        if was_running:
            self.start()

    def _send_settings(self):
        """Put the panel's mode, holdings and speed into a (new) engine."""
        panel = self.panel
        for mode in ("VC", "CC"):
            self.client.send(c.SetHolding(mode, panel.holding_si(mode)))
        self.client.send(c.SetMode(panel.mode))
        self.client.send(c.ResetCell())
        speed = panel.speed()
        self.client.send(c.SetSpeed(1.0 if speed is None else speed))

    # --- recording --------------------------------------------------------------------

    def record_folder(self):
        """Where R records to (settings 'record_folder'; default: Documents/vrig)."""
        folder = self.settings.value("record_folder", "")
        if not folder:
            docs = QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation)
            folder = str(Path(docs or Path.home()) / "vrig")
        return Path(folder)

    def _choose_folder(self):
        folder = QFileDialog.getExistingDirectory(self, "Recording folder", str(self.record_folder()))
        if folder:
            self.settings.setValue("record_folder", folder)

    def record_extension(self):
        """'.csv' or '.npz', as chosen in the File menu."""
        return next(ext for ext, a in self.format_actions.items() if a.isChecked())

    def toggle_record(self):
        """R: start or stop recording."""
        if self.recorder is None:
            self.start_recording()
        else:
            self.stop_recording()

    def start_recording(self, path=None):
        """Record from now on to path (default: a new file in the recording folder)."""
        if self.recorder is not None:
            return self.recorder.path
        try:
            if path is None:
                folder = self.record_folder()
                folder.mkdir(parents=True, exist_ok=True)
                path = default_path(folder, time.strftime("%Y%m%d-%H%M%S"), self.record_extension())
            metadata = self._metadata()
            self.recorder = LiveRecorder(path, self.client.names_units, self.panel.mode,
                                         metadata, signals="all")
        except (VrigError, OSError) as exc:
            self.show_error(f"cannot record: {exc}")
            return None
        self.panel.set_recording(True)
        self.statusBar().showMessage(f"recording to {self.recorder.path}", 5000)
        return self.recorder.path

    def _metadata(self):
        protocol = self.protocol if self.client.protocol_running else None
        # metadata() reads settings only (names, solutions, reversal potentials).
        meta = self.client.rig.metadata(protocol)
        meta.update({
            "acquisition": "episodic" if protocol else "continuous",
            "mode": self.panel.mode,
            "holding_VC_mV": f"{self.panel.holdings['VC']:g}",
            "holding_CC_pA": f"{self.panel.holdings['CC']:g}",
            "speed": "max" if self.panel.speed() is None else f"{self.panel.speed():g}x",
            "recorded_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        })
        return meta

    def stop_recording(self):
        """Finish the recording file (safe when not recording); returns its path."""
        recorder, self.recorder = self.recorder, None
        self.panel.set_recording(False)
        if recorder is None:
            return None
        try:
            path = recorder.stop()
        except VrigError as exc:
            self.show_error(str(exc))
            return None
        self.statusBar().showMessage(f"saved {path} ({recorder.samples} samples)", 8000)
        return path

    # --- from the engine --------------------------------------------------------------

    def _on_chunks(self, chunks):
        if self.recorder is not None:
            try:
                self.recorder.write(chunks)
            except (OSError, ValueError) as exc:
                self.show_error(f"recording stopped: {exc}")
                self.stop_recording()
        self.scopes.scope.add_chunks(chunks)
        self.panel.show_chunks(chunks)
        self.bath.show_chunks(chunks)
        if self._clock is None:
            self._clock = (time.perf_counter(), chunks[0].time_s)

    def _on_tick(self):
        self.scopes.scope.refresh()
        now = time.perf_counter()
        if now - self._status_at < STATUS_EVERY_S or self.client.newest is None:
            return
        self._status_at = now
        newest = self.client.newest
        self.time_label.setText(f"t = {newest.time_s:.3f} s")
        if self._clock is not None and self.client.running and now > self._clock[0] + 0.5:
            ratio = (newest.time_s - self._clock[1]) / (now - self._clock[0])
            self.speed_label.setText(f"{ratio:.2f}x real time")
        dropped = self.client.dropped_chunks
        self.dropped_label.setText(f"dropped {dropped}" if dropped else "")

    def _on_event(self, event):
        kind = event.kind
        if kind == "started":
            self.panel.set_running(True)
            self._clock = None
        elif kind == "stopped":
            self.panel.set_running(False)
            self.panel.set_protocol_running(False)
            self.stop_recording()
        elif kind == "protocol_started":
            self.panel.set_running(True)
            self.panel.set_protocol_running(True)
            self.statusBar().showMessage(f"protocol {event.text}: {event.sweeps} sweep(s)")
        elif kind == "sweep_done":
            self.statusBar().showMessage(f"protocol {event.text}: sweep {event.sweep + 1} "
                                         f"of {event.sweeps}")
        elif kind == "protocol_done":
            self.panel.set_protocol_running(False)
            self.statusBar().showMessage(f"protocol {event.text} done", 5000)
            self._clock = None
        elif kind == "error":
            self.show_error(event.text)
        if self.recorder is not None and kind != "error":
            self.recorder.note(f"{kind} {event.text} {event.sweep}/{event.sweeps}".strip())

    def show_error(self, message):
        """Show a problem in red in the status bar for a while, without stopping the run."""
        self.last_error = str(message)
        self.error_label.setText(f"Error: {message}")
        self.error_label.setToolTip(str(message))
        self._error_timer.start()

    # --- settings and closing ---------------------------------------------------------

    def _restore(self):
        s = self.settings
        geometry = s.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = s.value("window_state")
        if state is not None:
            self.restoreState(state)
        elif self.height() < BATH_DOCK_MIN_WINDOW_HEIGHT:
            # On a small screen the scopes need the height; the button brings the dock.
            self.bath.hide()
        for mode, key in (("VC", "holding_VC_mV"), ("CC", "holding_CC_pA")):
            value = s.value(key)
            if value is not None:
                try:
                    self.panel.set_holding(mode, float(value))
                except (TypeError, ValueError):
                    pass
        speed = s.value("speed")
        if speed is not None:
            self.panel.set_speed(None if speed == "max" else _float(speed, 1.0))
        mode = s.value("mode", "CC")
        self.panel.set_mode(mode if mode in ("VC", "CC", "I0") else "CC")
        self.scopes.scope.set_mode(self.panel.mode)
        traces = s.value("traces", "")
        self.scopes.set_visible_traces(str(traces).split(",") if traces else [])
        self.scopes.set_view_settings(s.value("display", "sweep"),
                                      _float(s.value("window_s", 1.0), 1.0))
        if s.value("record_format") == ".npz":
            self.format_actions[".npz"].setChecked(True)
        self._restore_bath(s)
        self._send_settings()

    def _restore_bath(self, s):
        """The last solutions and temperature, if they were saved for this same cell
        (a different cell starts in its own solutions). A bad saved value is ignored."""
        saved = s.value("bath_settings")
        rig = self.client.rig
        try:
            data = json.loads(saved) if saved else None
            if not isinstance(data, dict) or data.get("cell") != rig.cell.name:
                return
            bath = solution_from_dict(data["bath"], data["bath"].get("name", "bath"))
            pipette = solution_from_dict(data["pipette"], data["pipette"].get("name", "pipette"))
            temperature = check_temperature(data["temperature_C"])
            check_permeant(bath, "bath")
            check_permeant(pipette, "pipette")
        except (VrigError, ValueError, KeyError, TypeError, AttributeError):
            return
        self.client.send(c.SetSolutions(bath, pipette))
        self.client.send(c.SetTemperature(temperature))
        self.bath.solutions.set_state(rig.cell, bath, pipette, temperature)

    def save_settings(self):
        """Write layout and last settings to the QSettings."""
        s = self.settings
        s.setValue("geometry", self.saveGeometry())
        s.setValue("window_state", self.saveState())
        s.setValue("mode", self.panel.mode)
        s.setValue("holding_VC_mV", self.panel.holdings["VC"])
        s.setValue("holding_CC_pA", self.panel.holdings["CC"])
        speed = self.panel.speed()
        s.setValue("speed", "max" if speed is None else speed)
        s.setValue("cell", self.panel.cell_combo.currentText())
        s.setValue("traces", ",".join(self.scopes.visible_traces()))
        display, window_s = self.scopes.view_settings()
        s.setValue("display", display)
        s.setValue("window_s", window_s)
        s.setValue("record_format", self.record_extension())
        shown = self.bath.solutions
        s.setValue("bath_settings", json.dumps({
            "cell": self.client.rig.cell.name, "temperature_C": shown.temperature_c,
            **{side: {"name": shown.solutions[side].name,
                      "concentrations_mM": shown.solutions[side].concentrations_mm}
               for side in ("bath", "pipette")}}))
        s.sync()

    def closeEvent(self, event):
        """Save settings, finish the recording, stop and join the engine thread."""
        self.save_settings()
        self.stop_recording()
        self.client.close()
        super().closeEvent(event)


def _float(value, default):
    try:
        return float(value)
    except (TypeError, ValueError):
        return default
