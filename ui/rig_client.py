"""The one bridge between the window and the engine's runner thread.

Lifecycle:

1. ``RigClient(rig)`` wraps the engine in a :class:`rig.acquisition.runner.Runner` and starts its
   worker thread (idle until a Start command).
2. ``send(command)`` hands a :mod:`rig.acquisition.commands` object to the worker; that is the only
   way the window changes the engine.
3. The runner's output queue is drained on the GUI thread as soon as something
   arrives (the runner's ``notify`` posts a queued signal), but never sooner than
   ``MIN_FRAME_S`` after the previous drain, so a chunk waits at most that long plus
   one redraw (within one 60 Hz frame) and the display runs at 60-80 frames/s. A
   precise QTimer at ``DRAIN_HZ`` drains too, for events and an idle display. All
   chunks of one drain are emitted together as ``chunks(list)``, then each event as
   ``event(Event)``; ``tick`` follows, once per drain, so views redraw once per frame.
4. ``replace(rig)`` swaps the engine (a new cell): the old worker is stopped and
   joined, a new one started. ``close()`` stops and joins the worker.

The client never reads or writes engine attributes while the worker runs: what the
window may know of the engine (its settings as a :class:`rig.acquisition.snapshot.RigState`,
whether it runs or runs a protocol) goes into the window's Qt-free
:class:`rig.session.session.Session`, which emits an event for each change: the client
gives the session the RigState of a Rig the worker does not own yet, then every
RigState and acquisition Event the runner sends.
"""

import queue
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from rig import units
from rig.acquisition import commands as c
from rig.acquisition.runner import Runner
from rig.acquisition.snapshot import RigState
from rig.session.session import Session

DRAIN_HZ = 60.0
MIN_FRAME_S = 0.0105  # one 60 Hz frame (16.7 ms) less the 4-6 ms a redraw takes
MAX_ITEMS_PER_TICK = 4000  # bounds one tick's work if the GUI was held up for long


class RigClient(QObject):
    """Owns the runner; emits chunks(list), event(Event), tick() on the GUI thread and
    keeps session (a Session, made here when none is given) up to date."""

    chunks = Signal(list)
    signalsChanged = Signal()  # names_units changed (a fibre's recording sites moved)
    event = Signal(object)
    tick = Signal()
    _arrived = Signal()  # emitted on the runner's thread, delivered on the GUI thread

    def __init__(self, rig, parent=None, runner_factory=Runner, session=None):
        super().__init__(parent)
        self._runner_factory = runner_factory
        self._rig = rig
        self.session = session if session is not None else Session(RigState.of(rig))
        self.names_units = rig.signal_names()
        self.newest = None  # the newest Chunk received
        self.received_chunks = 0
        self.last_drain_time = 0.0  # perf_counter of the last drain (for the benchmark)
        self._frame_timer = QTimer(self)
        self._frame_timer.setSingleShot(True)
        self._frame_timer.setTimerType(Qt.PreciseTimer)
        self._frame_timer.timeout.connect(self.drain)
        self._arrived.connect(self._on_arrival, Qt.QueuedConnection)
        self.runner = self._start_runner(rig)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.setInterval(int(1000 / DRAIN_HZ))
        self._timer.timeout.connect(self._on_arrival)
        self._timer.start()

    def _start_runner(self, rig):
        runner = self._runner_factory(rig)
        runner.notify = self._arrived.emit
        runner.start_thread()
        return runner

    def _on_arrival(self):
        """Drain now, or as soon as MIN_FRAME_S has passed since the last drain."""
        if self._frame_timer.isActive():
            return
        wait = self.last_drain_time + MIN_FRAME_S - time.perf_counter()
        if wait <= 0:
            self.drain()
        else:
            self._frame_timer.start(max(1, round(units.s_to_ms(wait))))

    def send(self, command):
        """Queue a command for the engine (applied before its next chunk)."""
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
        for item in items:
            if isinstance(item, RigState):
                self._follow_signals(item)
                self.session.take(item)
        chunks = [item for item in items if isinstance(item, c.Chunk)]
        if chunks:
            self.newest = chunks[-1]
            self.received_chunks += len(chunks)
            self.chunks.emit(chunks)
        for item in items:
            if isinstance(item, c.Event):
                self.session.take(item)
                self.event.emit(item)
        self.tick.emit()

    def _follow_signals(self, state):
        """Take the signal names of a RigState when they change (a fibre's recording
        sites moved) and say so; the command's unit follows the mode, which the scopes
        follow themselves."""
        names = [tuple(pair) for pair in state.signal_names]
        if names and [n for n, _ in names] != [n for n, _ in self.names_units]:
            self.names_units = names
            self.signalsChanged.emit()

    @property
    def dropped_chunks(self):
        """Chunks the runner could not queue because the window was behind."""
        return self.runner.dropped_chunks

    def replace(self, rig):
        """Swap in a new engine: stop and join the old worker, start a new one; the
        session then takes the new engine's settings (its 'cell' event follows)."""
        self.runner.close()
        self.drain()
        self._rig = rig
        state = RigState.of(rig)  # before the new worker owns the engine
        self.names_units = rig.signal_names()
        self.runner = self._start_runner(rig)
        self.newest = None
        self.session.take_engine(state)

    def close(self):
        """Stop the timers and the worker thread (joined). Safe to call twice."""
        self._timer.stop()
        self._frame_timer.stop()
        self.runner.close()
