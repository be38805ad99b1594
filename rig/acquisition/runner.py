"""A paced thread around the engine: commands in, chunks out.

Lifecycle:

1. ``Runner(rig)`` wraps an engine; nothing runs yet. ``start_thread()`` starts the
   worker, which idles until it gets :class:`Start`.
2. ``send(command)`` may be called from any thread. The worker is the only code that
   touches the engine: it applies pending commands between chunks.
3. While running it computes one chunk (``chunk_s`` of simulated time; above real
   time a block of ``speed`` chunks, at most MAX_CHUNKS_PER_BLOCK, in one engine
   call), puts it on the bounded ``output`` queue, then waits until the wall clock catches up with
   ``simulated time / speed``. The wait is on an Event that ``send`` sets, so Stop and
   knob changes take effect at once.
4. In continuous acquisition the command is the present holding level. A
   :class:`RunProtocol` runs its sweeps (the shared loop of :mod:`rig.simulation.episodes`, paced
   the same way at the episode's speed) and then returns to continuous acquisition
   at the continuous speed. The membrane test replaces continuous acquisition with a
   repeating square wave until it is stopped.
5. ``close()`` stops the worker and joins it.

If the queue is full (the window is not draining it) the worker waits for room: the
simulation falls behind real time rather than lose data a recording needs.
``dropped_chunks`` counts only what could not be queued because the runner was closing.
``notify``, when given, is called (on the worker thread) after each item is queued, so
a window can drain at once instead of waiting for its next timer tick.

While a protocol runs, commands that would change what its sweeps mean (the mode, the
protocol's holding level, the membrane test) are refused with an 'error' event. Any
unexpected exception stops acquisition with an 'error' event; the worker lives on.
"""

import functools
import queue
import threading
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from rig import units
from rig.acquisition import commands as c
from rig.acquisition.pacer import Pacer
from rig.acquisition.snapshot import RigState
from rig.amplifier.membrane_test import square_wave
from rig.clamp import Mode
from rig.errors import VrigError
from rig.frozen import FrozenMap
from rig.model import limits
from rig.protocols.protocol import Protocol
from rig.simulation.cable import PROFILE_POINTS
from rig.simulation.engine import PROFILE, Rig
from rig.simulation.episodes import Piece, protocol_pieces
from rig.simulation.fast_forward import fast_forward

DEFAULT_CHUNK_S = 0.010
DEFAULT_RATE_HZ = 50_000.0
# Above real time continuous acquisition is computed in blocks of up to this many chunks
# per engine call (one chunk of wall-clock time at the present speed), then queued
# chunk by chunk: the engine's per-call cost is paid once per block, so the live path
# runs nearly as fast as one long block, while the window still gets chunk-sized pieces.
MAX_CHUNKS_PER_BLOCK = 10

# Commands after which the window's copy of the settings (a RigState) is renewed.
SETTINGS_COMMANDS = (c.SetMode, c.SetHolding, c.SetAmplifier, c.SetCapacitance,
                     c.SetTemperature, c.SetSolutions, c.ApplyDrug, c.WashDrug, c.ResetCell,
                     c.MoveElectrodes, c.SetAxialWire, c.ApplyLocalDrug, c.WashLocalDrugs,
                     c.FastForward)


class Runner:
    """Runs an engine in real time (or scaled) on a worker thread.

    clock: a monotonic clock in seconds for the pacing (default time.perf_counter);
    profile_points: on a fibre, the positions of the space-time profile its chunks carry
    (0: none)."""

    def __init__(self, rig: Rig, chunk_s: float = DEFAULT_CHUNK_S, queue_size: int = 2000,
                 notify: Callable[[], object] | None = None,
                 clock: Callable[[], float] | None = None,
                 profile_points: int = PROFILE_POINTS) -> None:
        self.rig = rig
        if rig.cell.geometry is not None:
            rig.set_profile(profile_points)
        self.notify = notify
        self.chunk_s = chunk_s
        self.output: queue.Queue[c.Chunk | c.Event | RigState] = queue.Queue(maxsize=queue_size)
        self.dropped_chunks = 0
        self._commands: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._quit = False
        self._thread: threading.Thread | None = None
        self._running = False
        # simulated/wall of continuous acquisition and of an episode (None: as fast as can be)
        self._speed: float | None = 1.0
        self._episode_speed: float | None = 1.0
        self._rate_hz = DEFAULT_RATE_HZ
        self._stream_sample = 0
        # generator over the protocol's pieces while one runs, and its clamp mode
        self._episode: Iterator[float] | None = None
        self._protocol_mode: Mode | None = None
        self._membrane_test: c.StartMembraneTest | None = None  # while the test runs
        # (level in SI, samples still to give) of a Pulse under way
        self._pulse: tuple[float, int] | None = None
        self.pacer = Pacer() if clock is None else Pacer(clock)

    # --- called from the window's thread ------------------------------------------------

    def start_thread(self) -> None:
        """Start the worker thread (idle until a Start command)."""
        self._thread = threading.Thread(target=self._loop, name="vrig-runner", daemon=True)
        self._thread.start()

    def send(self, command: object) -> None:
        """Queue a command for the worker; it is applied before the next chunk."""
        self._commands.put(command)
        self._wake.set()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker and wait for it to finish."""
        self._quit = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """True while acquiring."""
        return self._running

    # --- the worker -------------------------------------------------------------------

    def _emit(self, item: c.Chunk | c.Event | RigState) -> None:
        while True:
            try:
                self.output.put(item, timeout=0.05)
                break
            except queue.Full:
                if self._quit:
                    self.dropped_chunks += 1
                    return
        if self.notify is not None:
            self.notify()

    def _loop(self) -> None:
        while not self._quit:
            self._apply_commands()
            if not self._running:
                self._wake.wait(0.1)
                self._wake.clear()
                continue
            try:
                produced_s = self._produce()
            except Exception as exc:
                self._running = False
                self._episode = None
                self._emit(c.Event("error", _describe(exc)))
                self._emit(c.Event("stopped"))
                continue
            self._pace(produced_s)

    def _apply_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                self._apply(command)
            except Exception as exc:
                self._emit(c.Event("error", _describe(exc)))
            else:
                if isinstance(command, SETTINGS_COMMANDS):
                    self._emit(RigState.of(self.rig))  # what the window shows of the settings

    def _apply(self, command: object) -> None:
        refused = self._episode is not None and _changes_the_protocol(command,
                                                                      self._protocol_mode)
        if refused:
            raise VrigError(f"{refused} is not possible while a protocol runs; stop it first")
        self._handle(command)

    # --- one handler per command type --------------------------------------------------

    @functools.singledispatchmethod
    def _handle(self, command: object) -> None:
        raise TypeError(f"the runner has no handler for {type(command).__name__}")

    @_handle.register
    def _(self, command: c.Start) -> None:
        self._begin()

    @_handle.register
    def _(self, command: c.Stop) -> None:
        if self._running:
            self._running = False
            self._episode = None
            self._emit(c.Event("stopped"))

    @_handle.register
    def _(self, command: c.SetMode) -> None:
        self.rig.set_mode(command.mode)

    @_handle.register
    def _(self, command: c.SetHolding) -> None:
        self.rig.set_holding(command.value, command.mode)

    @_handle.register
    def _(self, command: c.SetSpeed) -> None:
        self._speed = _check_speed(command.factor)
        self.pacer.reset()

    @_handle.register
    def _(self, command: c.SetSampleRate) -> None:
        if not 1_000 <= command.rate_hz <= 500_000:
            raise VrigError("sample rate must be 1-500 kHz, "
                            f"got {units.hz_to_khz(command.rate_hz):g} kHz")
        self._rate_hz = float(command.rate_hz)

    @_handle.register
    def _(self, command: c.RunProtocol) -> None:
        protocol = command.protocol
        self._episode_speed = _check_speed(command.speed)
        per_chunk = max(1, round(self.chunk_s / protocol.sample_interval_s))
        pieces = protocol_pieces(self.rig, protocol, command.leak_subtraction, per_chunk)
        self._episode = self._episode_chunks(protocol, pieces)
        self._protocol_mode = protocol.mode
        self._membrane_test = None
        self._running = True
        self.pacer.reset()

    @_handle.register
    def _(self, command: c.Pulse) -> None:
        self._start_pulse(command)

    @_handle.register
    def _(self, command: c.SetAmplifier) -> None:
        self.rig.set_amplifier(**dict(command.changes))

    @_handle.register
    def _(self, command: c.FastForward) -> None:
        mode = self.rig.mode
        self.rig.set_mode(Mode.I0)
        try:
            fast_forward(self.rig, command.duration_s)
        finally:
            self.rig.set_mode(mode)

    @_handle.register
    def _(self, command: c.SetCapacitance) -> None:
        self.rig.set_capacitance(command.capacitance_f)

    @_handle.register
    def _(self, command: c.StartMembraneTest) -> None:
        _check_membrane_test(command)
        self.rig.set_mode(Mode.VC)
        self._membrane_test = command
        self._begin()

    @_handle.register
    def _(self, command: c.StopMembraneTest) -> None:
        self._membrane_test = None

    @_handle.register
    def _(self, command: c.MoveElectrodes) -> None:
        self.rig.move_electrodes(command.stim_at_m, command.record_at_m)

    @_handle.register
    def _(self, command: c.ApplyLocalDrug) -> None:
        self.rig.apply_local_drug(command.name, command.concentration_m, command.start_m,
                                  command.end_m)

    @_handle.register
    def _(self, command: c.WashLocalDrugs) -> None:
        self.rig.wash_local_drugs()

    @_handle.register
    def _(self, command: c.SetAxialWire) -> None:
        self.rig.move_electrodes(axial_wire=command.on)

    @_handle.register
    def _(self, command: c.ResetCell) -> None:
        self.rig.reset_ions()
        self.rig.settle()

    @_handle.register
    def _(self, command: c.SetTemperature) -> None:
        self.rig.set_temperature(command.temperature_c)

    @_handle.register
    def _(self, command: c.SetSolutions) -> None:
        self.rig.set_solutions(command.bath, command.pipette)

    @_handle.register
    def _(self, command: c.ApplyDrug) -> None:
        self.rig.apply_drug(command.name, command.concentration_m, command.side)

    @_handle.register
    def _(self, command: c.WashDrug) -> None:
        self.rig.wash_drug(command.name)

    def _begin(self) -> None:
        """Start continuous acquisition if it is not running."""
        if not self._running:
            self._running = True
            self.pacer.reset()
            self._emit(c.Event("started"))

    def _start_pulse(self, pulse: c.Pulse) -> None:
        rig = self.rig
        if self._membrane_test is not None:
            raise VrigError("stop the membrane test before giving a pulse")
        if pulse.mode != rig.mode:
            raise VrigError(f"a {pulse.mode} pulse needs the amplifier in {pulse.mode}; "
                            f"it is in {rig.mode}")
        if not 1e-5 <= pulse.duration_s <= 1.0:
            raise VrigError("a pulse lasts 0.01 to 1000 ms, "
                            f"got {units.s_to_ms(pulse.duration_s):g} ms")
        level = pulse.level + (rig.holding[Mode.CC] if pulse.mode == "CC" else 0.0)
        limit = (limits.VC_COMMAND_LIMIT_V if pulse.mode == "VC"
                 else rig.amplifier.current_range)
        if not abs(level) <= limit:
            mode = Mode(pulse.mode)
            raise VrigError(f"a pulse to {mode.from_si(level):g} {mode.level_unit} is beyond "
                            f"the +/-{mode.from_si(limit):g} {mode.level_unit} the amplifier "
                            "can give")
        self._pulse = (level, max(1, int(round(pulse.duration_s * self._rate_hz))))
        if not self._running:
            self._running = True
            self.pacer.reset()
            self._emit(c.Event("started"))

    def _continuous_command(self, n: int) -> np.ndarray:
        """The next n samples of continuous acquisition: the holding level, with the
        part of a pulse that falls in them."""
        command = np.full(n, self.rig.holding[self.rig.mode])
        if self._pulse is not None:
            level, remaining = self._pulse
            if self.rig.mode == "I0":
                remaining = 0  # a mode switch cancels the pulse
            command[:remaining] = level
            remaining -= min(n, remaining)
            self._pulse = (level, remaining) if remaining > 0 else None
        return command

    @property
    def _current_speed(self) -> float | None:
        return self._episode_speed if self._episode is not None else self._speed

    def _chunk(self, kind: str, sweep: int, first: int, interval: float,
               signals: dict[str, np.ndarray], time_s: float | None = None) -> c.Chunk:
        """A Chunk of signals; time_s: the simulated time (s) at its end (default: now)."""
        rig = self.rig
        perfusion = rig.perfusion
        drugs = tuple((name, side, present, perfusion.targets[(name, side)])
                      for (name, side), present in perfusion.present.items())
        signals = dict(signals)
        profile = signals.pop(PROFILE, None)
        if profile is not None:  # a copy: the window keeps it, not the engine's whole block
            profile = profile.astype(np.float32)
            profile.flags.writeable = False
        for values in signals.values():
            values.flags.writeable = False  # one chunk goes to several readers
        return c.Chunk(kind, sweep, first, interval, rig.mode, FrozenMap(signals),
                       rig.time_s if time_s is None else time_s, rig.last_overload,
                       rig.saturated, drugs, profile)

    def _produce(self) -> float:
        """Compute the next piece of simulation; returns the simulated seconds it took."""
        if self._episode is not None:
            produced = next(self._episode, None)
            if produced is not None:
                return produced
            self._episode = None
            self.pacer.reset()
        rig = self.rig
        if self._membrane_test is not None:
            test = self._membrane_test
            interval = 1.0 / test.rate_hz
            command = square_wave(rig.holding[Mode.VC], test.step_v, test.half_period_s, interval)
            signals = rig.advance(command, interval)
            self._emit(self._chunk("membrane_test", 0, 0, interval, signals))
            return command.size * interval
        interval = 1.0 / self._rate_hz
        per_chunk = max(1, int(round(self.chunk_s * self._rate_hz)))
        n = per_chunk * chunks_per_block(self._speed)
        signals = rig.advance(self._continuous_command(n), interval)
        for first, piece in split_block(signals, per_chunk):
            end_s = rig.time_s - (n - first - per_chunk) * interval
            self._emit(self._chunk("continuous", 0, self._stream_sample + first, interval,
                                   piece, end_s))
        self._stream_sample += n
        return n * interval

    def _episode_chunks(self, protocol: Protocol, pieces: Iterable[Piece]) -> Iterator[float]:
        """Generator: the protocol's pieces as chunks and events; yields simulated s."""
        self._emit(c.Event("protocol_started", protocol.name, 0, protocol.sweeps))
        interval = protocol.sample_interval_s
        announced = False
        for piece in pieces:
            if piece.kind == "sweep" and not announced:
                # after the first piece: the protocol's mode and holding are set
                self._emit(RigState.of(self.rig, protocol))
                announced = True
            if piece.kind == "sweep" and piece.signals is not None:
                self._emit(self._chunk("sweep", piece.sweep, piece.first_sample, interval,
                                       piece.signals))
            elif piece.kind == "sweep_done":
                self._emit(c.Event("sweep_done", protocol.name, piece.sweep, protocol.sweeps))
            yield piece.simulated_s
        self._emit(c.Event("protocol_done", protocol.name, protocol.sweeps, protocol.sweeps))

    def _pace(self, produced_s: float) -> None:
        wait_s = self.pacer.delay(produced_s, self._current_speed)
        if wait_s > 0.0:
            self._wake.wait(wait_s)
            self._wake.clear()


def chunks_per_block(speed: float | None) -> int:
    """How many chunks continuous acquisition computes per engine call at a speed (x real
    time; None: as fast as possible): one chunk of wall-clock time, so that commands
    still apply within chunk_s of wall time, and never more than MAX_CHUNKS_PER_BLOCK."""
    if speed is None:
        return MAX_CHUNKS_PER_BLOCK
    return max(1, min(MAX_CHUNKS_PER_BLOCK, int(speed)))


def split_block(signals: dict[str, np.ndarray],
                per_chunk: int) -> list[tuple[int, dict[str, np.ndarray]]]:
    """[(first sample, {name: read-only view})] of a block's signals ({name: array}) in
    pieces of per_chunk samples."""
    for values in signals.values():
        values.flags.writeable = False  # the pieces are views of one shared block
    n = len(next(iter(signals.values())))
    return [(first, {name: values[first:first + per_chunk] for name, values in signals.items()})
            for first in range(0, n, per_chunk)]


def _changes_the_protocol(command: object, protocol_mode: Mode | None) -> str:
    """What a command would change in a running protocol's sweeps ('' if nothing)."""
    if isinstance(command, c.SetMode):
        return "changing the clamp mode"
    if isinstance(command, c.StartMembraneTest):
        return "the membrane test"
    if isinstance(command, c.Pulse):
        return "a stimulus pulse"
    if isinstance(command, c.FastForward):
        return "a fast-forward"
    if isinstance(command, c.SetHolding) and command.mode == protocol_mode:
        return "changing the holding level"
    if isinstance(command, c.MoveElectrodes) and command.record_at_m is not None:
        return "moving the recording electrodes"  # their signals are the sweeps' columns
    return ""


def _check_membrane_test(test: c.StartMembraneTest) -> None:
    if not (1_000 <= test.rate_hz <= 500_000 and 1e-4 <= test.half_period_s <= 1.0
            and abs(test.step_v) <= 0.2 and test.step_v != 0):
        raise VrigError("membrane test: the step must be non-zero and within +/-200 mV, "
                        "the half period 0.1-1000 ms and the rate 1-500 kHz")


def _describe(exc: BaseException) -> str:
    """An exception as one line for the window (a VrigError already says it all)."""
    if isinstance(exc, VrigError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"


def _check_speed(factor: float | None) -> float | None:
    if factor is not None and not 0.001 <= factor <= 1000:
        raise VrigError(f"speed must be 0.001x to 1000x, got {factor}")
    return factor
