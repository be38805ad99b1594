"""The one bridge between the window and the engine's runner thread.

Lifecycle:

1. ``RigClient(rig)`` wraps the engine in a :class:`rig.runner.Runner` and starts its
   worker thread (idle until a Start command).
2. ``send(command)`` hands a :mod:`rig.commands` object to the worker; that is the only
   way the window changes the engine.
3. A precise QTimer (``DRAIN_HZ``) drains the runner's output queue on the GUI thread.
   All chunks of one tick are emitted together as ``chunks(list)`` (one signal per
   tick, not per chunk, so a slow frame costs one emit), then each event as
   ``event(Event)``. ``tick`` is emitted after both, once per timer tick, so views
   redraw once per frame.
4. ``replace(rig)`` swaps the engine (a new cell): the old worker is stopped and
   joined, a new one started. ``close()`` stops and joins the worker.

The client never reads or writes engine attributes while the worker runs; the only
engine calls it makes are on a Rig the worker does not own yet (``signal_names``) or
read-only (``metadata``, which reads settings and computes reversal potentials).
"""

import queue
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from rig import commands as c
from rig.runner import Runner

DRAIN_HZ = 60.0
MAX_ITEMS_PER_TICK = 4000  # bounds one tick's work if the GUI was held up for long


class RigClient(QObject):
    """Owns the runner; emits chunks(list), event(Event), tick() on the GUI thread."""

    chunks = Signal(list)
    event = Signal(object)
    tick = Signal()

    def __init__(self, rig, parent=None, runner_factory=Runner):
        super().__init__(parent)
        self._runner_factory = runner_factory
        self.rig = rig
        self.names_units = rig.signal_names()
        self.runner = runner_factory(rig)
        self.runner.start_thread()
        self.running = False
        self.protocol_running = False
        self.newest = None  # the newest Chunk received
        self.received_chunks = 0
        self.last_drain_time = 0.0  # perf_counter of the last drain (for the benchmark)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.setInterval(int(1000 / DRAIN_HZ))  # 16 ms: at least 60 frames/s
        self._timer.timeout.connect(self.drain)
        self._timer.start()

    def send(self, command):
        """Queue a command for the engine (applied before its next chunk)."""
        if isinstance(command, c.RunProtocol):
            self.protocol_running = True
        self.runner.send(command)

    def drain(self):
        """Take everything the runner produced since the last tick and emit it."""
        items = []
        get = self.runner.output.get_nowait
        try:
            while len(items) < MAX_ITEMS_PER_TICK:
                items.append(get())
        except queue.Empty:
            pass
        self.last_drain_time = time.perf_counter()
        chunks = [item for item in items if isinstance(item, c.Chunk)]
        if chunks:
            self.newest = chunks[-1]
            self.received_chunks += len(chunks)
            self.chunks.emit(chunks)
        for item in items:
            if isinstance(item, c.Event):
                self._track(item)
                self.event.emit(item)
        self.tick.emit()

    def _track(self, event):
        if event.kind == "started":
            self.running = True
        elif event.kind == "stopped":
            self.running = False
            self.protocol_running = False
        elif event.kind == "protocol_started":
            self.running = True
        elif event.kind == "protocol_done":
            self.protocol_running = False

    @property
    def dropped_chunks(self):
        """Chunks the runner could not queue because the window was behind."""
        return self.runner.dropped_chunks

    def replace(self, rig):
        """Swap in a new engine: stop and join the old worker, start a new one."""
        self.runner.close()
        self.drain()
        self.rig = rig
        self.names_units = rig.signal_names()
        self.runner = self._runner_factory(rig)
        self.runner.start_thread()
        self.running = False
        self.protocol_running = False
        self.newest = None

    def close(self):
        """Stop the timer and the worker thread (joined). Safe to call twice."""
        self._timer.stop()
        self.runner.close()
