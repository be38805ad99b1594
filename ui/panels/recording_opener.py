"""File > Open recording: a recording file read on a worker thread (a long recording
takes seconds to read, and the scopes must keep running), then handed to the window.

``RecordingOpener.open(path)`` starts the read; ``loaded(recording, path)`` or
``failed(message)`` arrives on the GUI thread. One read runs at a time: opening another
file while one is read is refused with a message.
"""

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog

from rig.errors import VrigError
from rig.files.recording import load_recording

FILE_FILTER = ("Recordings (*.abf *.nwb *.npz *.csv *.part);;ABF (*.abf);;NWB (*.nwb);;"
               "NumPy (*.npz);;CSV (*.csv);;Unfinished recording journal (*.part)")


class RecordingOpener(QObject):
    """Reads recordings off the GUI thread. loaded(Recording, str path); failed(str)."""

    loaded = Signal(object, str)
    failed = Signal(str)
    _done = Signal(object, str, str)  # recording or None, path, error: worker -> GUI

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread = None
        self._done.connect(self._finished, Qt.QueuedConnection)

    @property
    def busy(self):
        """True while a file is being read."""
        return self._thread is not None and self._thread.is_alive()

    def open_dialog(self, parent, folder):
        """Ask for a recording file (starting in folder) and open it; returns the path
        or None."""
        path, _ = QFileDialog.getOpenFileName(parent, "Open recording", str(folder),
                                              FILE_FILTER)
        if path:
            self.open(path)
        return path or None

    def open(self, path):
        """Start reading path; False (and failed()) if a read is already running."""
        if self.busy:
            self.failed.emit("a recording is still being opened; wait for it first")
            return False
        self._thread = threading.Thread(target=self._read, args=(str(path),),
                                        name="vrig-open-recording", daemon=True)
        self._thread.start()
        return True

    def _read(self, path):
        try:
            self._done.emit(load_recording(path), path, "")
        except VrigError as exc:
            self._done.emit(None, path, str(exc))
        except (OSError, ValueError, MemoryError) as exc:
            self._done.emit(None, path, f"cannot read {Path(path).name}: {exc}")

    def _finished(self, recording, path, error):
        if error:
            self.failed.emit(error)
        else:
            self.loaded.emit(recording, path)

    def wait(self, timeout=None):
        """Block until a running read ends (for closing and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)
