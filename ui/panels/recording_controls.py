"""The window's recording: Rec / R, the status under the Rec button, the settings
dialog, and recovery of what a crash left.

:class:`RecordingController` is the only place the window touches a
:class:`rig.acquisition.live_recorder.LiveRecorder`. The GUI thread only hands chunks over
(``on_chunks``: no formatting, no I/O); a timer polls the recorder's status a few
times a second for the display. The main window wires it in a few lines:

* ``on_chunks(chunks)`` and ``on_event(event)`` from the rig client;
* ``toggle()`` for the Rec button and R; ``start(path=None)``, ``stop()``;
* ``add_menu_items(menu)`` for File > Recording settings...;
* ``restore()`` at start (also sends the chosen sample rate) and ``save_settings()``;
* ``is_recording`` and ``finish(timeout)`` for closing (and SIGTERM): the files are
  final when it returns True.

At start the recording folder is searched for journals a crash left behind; they are
converted on a background thread and the status bar says what was recovered.
"""

import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QFrame, QLabel, QVBoxLayout

from rig import units
from rig.acquisition import commands as c
from rig.acquisition.live_recorder import LiveRecorder, next_free_index, series_name
from rig.clamp import Mode
from rig.errors import VrigError
from rig.files.journal_finish import recover_journals
from rig.files.journal_writer import format_bytes
from rig.files.output_files import file_in_the_way
from ui.look import theme
from ui.panels.recording_settings import RecordingSettings, RecordingSettingsDialog

POLL_MS = 250
RECORDING_STYLE = "color: #ff6b6b; font-weight: bold;"
SAVED_SHOW_MS = 10_000


def format_elapsed(seconds):
    """'0:01:23.4' for a recorded duration in s."""
    minutes, s = divmod(max(seconds, 0.0), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{s:04.1f}"


class RecordingStatus(QFrame):
    """Compact status under Rec: the file being written, the elapsed (simulated) time,
    the size on disk and the free space."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("RecordingStatus")
        self.file_label = QLabel("not recording")
        self.file_label.setObjectName("RecordingFile")
        self.file_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.figures_label = QLabel("")
        self.figures_label.setObjectName("RecordingFigures")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(0)
        layout.addWidget(self.file_label)
        layout.addWidget(self.figures_label)

    def show_idle(self, settings):
        """Where the next recording goes."""
        base = settings.file_base()
        try:
            index = next_free_index(settings.folder, base, settings.extension)
        except OSError:
            index = 1
        name = series_name(base, settings.extension, index)
        theme.set_style(self.file_label, "")
        self.file_label.setText(f"next: {name}")
        self.file_label.setToolTip(f"Rec (R) records to {settings.folder / name}; "
                                   "File > Recording settings... to change")
        self.figures_label.setText(f"{', '.join(settings.signals)} @ {settings.rate_khz:g} kHz")

    def show_status(self, status, folder):
        """A RecorderStatus while recording or finishing."""
        current = status.current_file
        if status.state == "recording":
            name = current.name if current else "..."
            self.file_label.setText(f"\u25cf REC {name}")
            theme.set_style(self.file_label, RECORDING_STYLE)
        else:
            self.file_label.setText(f"finishing {current.name if current else ''}".strip())
            theme.set_style(self.file_label, "")
        saved = "\n".join(p.name for p in status.files)
        self.file_label.setToolTip(f"in {current.parent if current else folder}"
                                   + (f"\nsaved so far:\n{saved}" if saved else ""))
        free = "" if status.free_bytes is None else f"  free {format_bytes(status.free_bytes)}"
        self.figures_label.setText(f"{format_elapsed(status.simulated_s)}  "
                                   f"{format_bytes(status.bytes_written)}{free}")


class RecordingController(QObject):
    """Recording for the main window (see the module docstring).

    message(str): a line for the status bar; error(str): a problem to show in red.
    recorder_options: extra LiveRecorder keywords (tests inject a stalled disk)."""

    message = Signal(str)
    error = Signal(str)
    _recovered = Signal(object)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.settings = RecordingSettings.load(window.settings)
        self.recorder = None  # the LiveRecorder taking chunks
        self.finishing = []  # stopped recorders whose files are still being finished
        self.recorder_options = {}
        self.status_widget = RecordingStatus()
        self.status_widget.show_idle(self.settings)
        window.panel.add_acquisition_widget(self.status_widget)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._recovery = None
        self._recovered.connect(self._report_recovery, Qt.QueuedConnection)

    # --- wiring -------------------------------------------------------------------------

    def add_menu_items(self, menu):
        """File > Recording settings..."""
        action = QAction("&Recording settings...", self)
        action.triggered.connect(self.edit_settings)
        menu.addAction(action)
        self.settings_action = action

    def restore(self):
        """Send the chosen continuous sample rate, and recover journals in the folder."""
        self.window.client.send(c.SetSampleRate(units.khz_to_hz(self.settings.rate_khz)))
        self.recover()

    def save_settings(self):
        """Write the record_* keys."""
        self.settings.save(self.window.settings)

    @property
    def is_recording(self):
        """True while chunks are being recorded."""
        return self.recorder is not None and self.recorder.active

    # --- user actions -------------------------------------------------------------------

    def toggle(self):
        """Rec / R: start or stop recording."""
        if self.is_recording:
            self.stop()
        else:
            self.start()

    def start(self, path=None):
        """Record from now on, to the settings' folder and name, or to path (its folder,
        name and extension). Starts acquisition if it is not running. Returns the
        folder, or None (the reason is shown) if recording could not start."""
        if self.is_recording:
            return self.recorder.folder
        settings = self.settings
        folder, base, extension = settings.folder, settings.file_base(), settings.extension
        if path is not None:
            path = Path(path)
            folder, base, extension = path.parent, path.stem, path.suffix
        window = self.window
        try:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                in_the_way = file_in_the_way(folder)
                reason = (f"{in_the_way} is a file, not a folder; choose another folder in "
                          "Recording settings" if in_the_way else exc.strerror or exc)
                raise VrigError(f"cannot create the recording folder {folder}: "
                                f"{reason}") from None
            signals = tuple(settings.signals)
            fibre = window.session.engine.fibre
            if fibre is not None:  # a fibre's recording sites go with the ticked signals
                signals += tuple(name for name in fibre.names if name not in signals)
            self.recorder = LiveRecorder(folder, base, extension, signals,
                                         window.client.names_units, self._metadata,
                                         **self.recorder_options)
        except VrigError as exc:
            self.error.emit(f"cannot record: {exc}")
            return None
        window.session.recording = True
        if not window.session.running:
            window.start()
            self.message.emit(f"acquisition started to record; recording to {folder}")
        else:
            self.message.emit(f"recording to {folder}")
        self._timer.start()
        self._poll()
        return folder

    def stop(self):
        """Stop recording; returns at once (files are finished in the background)."""
        recorder, self.recorder = self.recorder, None
        self.window.session.recording = False
        if recorder is None:
            return
        recorder.stop()
        self.finishing.append(recorder)
        self._poll()

    def finish(self, timeout=None):
        """Stop and wait until every file is final (at most timeout s); True if they are."""
        self.stop()
        deadline = None if timeout is None else time.monotonic() + timeout
        done = True
        for recorder in list(self.finishing):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            done = recorder.wait(left) and done
        if self._recovery is not None:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            self._recovery.join(left)
            done = done and not self._recovery.is_alive()
        self._poll()
        return done

    def edit_settings(self):
        """File > Recording settings...: a dialog; the new rate is sent at once."""
        available = list(self.window.client.names_units)
        names = [n for n, _ in available]
        for extra in ("command", "Im_raw"):
            if extra not in names:
                available.append((extra, ""))
        dialog = RecordingSettingsDialog(self.settings, available, self.window)
        if dialog.exec() != QDialog.Accepted:
            return
        self.apply_settings(dialog.result_settings())

    def apply_settings(self, settings):
        """Use new settings (from the next recording on; the rate at once)."""
        old, self.settings = self.settings, settings
        if settings.rate_khz != old.rate_khz:
            self.window.client.send(c.SetSampleRate(units.khz_to_hz(settings.rate_khz)))
        self.save_settings()
        if not self.is_recording:
            self.status_widget.show_idle(settings)

    # --- from the engine ----------------------------------------------------------------

    def on_chunks(self, chunks):
        """Hand chunks to the recorder (no formatting or I/O here)."""
        if self.recorder is not None:
            self.recorder.write(chunks)

    def on_event(self, event):
        """Acquisition stopping ends the recording. (The events a file records come
        from the chunks themselves, exactly placed: a protocol's start, mode changes,
        drugs. A runner event arrives after the chunks of its drain, too late to place.)"""
        if self.recorder is not None and event.kind == "stopped":
            self.stop()

    def _metadata(self, chunk):
        """A new file's metadata (called by the recorder when a file starts)."""
        session = self.window.session
        in_protocol = chunk.kind == "sweep" and session.protocol_metadata is not None
        meta = dict(session.protocol_metadata if in_protocol else session.engine.metadata)
        if chunk.kind != "sweep":
            mode = Mode(chunk.mode)
            meta["holding"] = ("none (I=0)" if mode is Mode.I0
                               else f"{session.holding(mode):g} {mode.level_unit}")
        meta["holding_VC_mV"] = f"{session.holding(Mode.VC):g}"
        meta["holding_CC_pA"] = f"{session.holding(Mode.CC):g}"
        speed = session.speed
        meta["speed"] = "max" if speed is None else f"{speed:g}x"
        return meta

    # --- status -------------------------------------------------------------------------

    def _poll(self):
        recorder = self.recorder
        if recorder is not None and not recorder.active:
            # it stopped by itself: the disk, the guard or an overflow
            self.recorder = None
            self.window.session.recording = False
            self.finishing.append(recorder)
        latest = self.finishing[-1] if self.finishing else None
        shown = recorder if recorder is not None else latest
        if shown is not None:
            self.status_widget.show_status(shown.status(), shown.folder)
        for old in list(self.finishing):
            status = old.status()
            if status.state in ("done", "failed"):
                self.finishing.remove(old)
                self._report(status)
        if self.recorder is None and not self.finishing:
            self._timer.stop()
            self.status_widget.show_idle(self.settings)

    def _report(self, status):
        names = ", ".join(p.name for p in status.files)
        if status.message:
            self.error.emit(status.message)
        elif names:
            self.message.emit(f"saved {names} ({status.simulated_s:.1f} s) in "
                              f"{status.files[0].parent}")

    # --- recovery -----------------------------------------------------------------------

    def recover(self):
        """Convert journals a crash left in the recording folder (on a thread)."""
        folder = self.settings.folder
        if not folder.is_dir() or self._recovery is not None:
            return
        self._recovery = threading.Thread(
            target=lambda: self._recovered.emit(recover_journals(folder)),
            name="vrig-recovery", daemon=True)
        self._recovery.start()

    def _report_recovery(self, results):
        self._recovery_results = results
        saved = [r for r in results if r.path is not None]
        kept = [r for r in results if r.kept is not None]
        if saved:
            self.message.emit("recovered after a crash: " + ", ".join(
                f"{r.path.name} ({r.samples} samples)" for r in saved))
        if kept:
            self.error.emit(kept[0].message)
