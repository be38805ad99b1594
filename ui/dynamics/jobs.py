"""A computation off the GUI thread, with progress, a partial result, cancel and an
error as a message: the window stays responsive while rig.dynamics works.

The work is a plain function work(report, partial, cancelled) -> result: report(fraction
0-1, text) and partial(object) may be called from the worker thread (they post queued
Qt signals), cancelled() says whether the user asked to stop; the work stops by raising
rig.dynamics.diagram.Cancelled (or any exception from report once cancelled).
"""

import threading

from PySide6.QtCore import QObject, Signal

from rig.dynamics.diagram import Cancelled
from rig.errors import VrigError

JOIN_S = 30.0  # how long shutdown waits for a worker between two of its checks


class Job(QObject):
    """One run of work on a Python thread. Signals arrive on the GUI thread:
    progress(fraction, text), partial(object), done(result), failed(message),
    stopped() after a cancel."""

    progress = Signal(float, str)
    partial = Signal(object)
    done = Signal(object)
    failed = Signal(str)
    stopped = Signal()

    def __init__(self, work, name, parent=None):
        super().__init__(parent)
        self._work = work
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self):
        """Start the worker thread."""
        self._thread.start()

    def cancel(self):
        """Ask the work to stop at its next check."""
        self._cancel.set()

    @property
    def cancelled(self):
        """True once cancel() was called."""
        return self._cancel.is_set()

    def running(self):
        """True while the worker thread runs."""
        return self._thread.is_alive()

    def shutdown(self, timeout_s=JOIN_S):
        """Cancel and wait for the worker thread (the window closes)."""
        self.cancel()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _report(self, fraction, text):
        if self._cancel.is_set():
            raise Cancelled
        self.progress.emit(float(fraction), str(text))

    def _run(self):
        try:
            result = self._work(self._report, self.partial.emit, self._cancel.is_set)
        except Cancelled:
            self.stopped.emit()
        except VrigError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a numerical failure must not leave a traceback
            self.failed.emit(f"the computation failed ({type(exc).__name__}: {exc})")
        else:
            if self._cancel.is_set():
                self.stopped.emit()
            else:
                self.done.emit(result)
