"""A family of sweeps to analyse: per-sweep buffers (filled chunk by chunk while a
protocol runs, or all at once from a loaded recording), each sweep's command and
where its epochs start, and the default cursor windows.

The measurements are made by :mod:`rig.analysis.voltage_clamp` (voltage clamp) and
:mod:`rig.analysis.current_clamp` (current clamp); :mod:`rig.analysis.report` chooses between them
and gives the default cursor windows. Times are s from the start of the sweep, SI throughout
(s, V, A).
"""

import json
import typing
from collections.abc import Iterable, Mapping

import numpy as np
from numpy.typing import ArrayLike

from rig import units
from rig.analysis.fits import ExponentialFit
from rig.clamp import Mode
from rig.errors import VrigError
from rig.files.layout import FloatArray
from rig.files.recording import Recording
from rig.protocols.protocol import Protocol, protocol_from_dict
from rig.protocols.stimulus_epochs import epochs_from_command, epochs_from_protocol

KEPT = ("Im", "Im_raw", "Vm", "command")
MIN_SAMPLES = 10


class SweepChunk(typing.Protocol):
    """What :meth:`SweepFamily.add` reads of a runner's 'sweep' Chunk (rig.acquisition
    sits above this package, so the Chunk class itself is not imported)."""

    @property
    def sweep(self) -> int: ...
    @property
    def first_sample(self) -> int: ...
    @property
    def signals(self) -> Mapping[str, FloatArray]: ...


class SweepFamily:
    """Sweeps of one protocol (or one recording) and their stimulus.

    mode: 'VC' or 'CC' ('I0' is analysed as CC); sample_interval_s: s; holding: the
    holding command (V in VC, A in CC); commands: one SI array per sweep; epoch_starts:
    one tuple of first-sample indices per sweep; name: what made the sweeps;
    signals: the names stored from chunks (others are ignored).
    """

    def __init__(self, mode: str, sample_interval_s: float, holding: float,
                 commands: Iterable[ArrayLike], epoch_starts: Iterable[Iterable[int]],
                 name: str = "", signals: Iterable[str] = KEPT) -> None:
        self.mode = Mode.VC if mode == Mode.VC else Mode.CC
        self.interval = float(sample_interval_s)
        self.holding = float(holding)
        self.commands = [np.asarray(c, dtype=float) for c in commands]
        self.epoch_starts = [tuple(s) for s in epoch_starts]
        self.name = name
        self.n_sweeps = len(self.commands)
        self.time = np.arange(max(c.size for c in self.commands)) * self.interval
        self.signals = tuple(signals)
        self.data: dict[str, FloatArray] = {}
        self.units: dict[str, str] = {}
        self.done: list[int] = []  # sweeps completed, in order
        # (signal, window, sweep) -> a completed sweep's fit, made once
        self.fits: dict[tuple[str, tuple[float, float], int], ExponentialFit | None] = {}

    @classmethod
    def for_protocol(cls, protocol: Protocol, signals: Iterable[str] = KEPT) -> "SweepFamily":
        """An empty family for a protocol about to run (filled by :meth:`add`)."""
        commands, starts = epochs_from_protocol(protocol)
        return cls(protocol.mode, protocol.sample_interval_s, protocol.mode.to_si(protocol.holding),
                   commands, starts, protocol.name, signals)

    @classmethod
    def from_recording(cls, recording: Recording) -> "SweepFamily":
        """A complete family from a loaded :class:`rig.files.recording.Recording`.

        The epochs come from the protocol in its metadata ('protocol_json') when that
        protocol matches the recording (same sweeps and sample interval), else from
        the recorded command channel.
        """
        if recording.n_sweeps == 0 or not np.any(recording.sweep_lengths):
            raise VrigError("the recording has no samples to analyse")
        if max(recording.sweep_lengths) < MIN_SAMPLES:
            raise VrigError(f"the recording's sweeps have {max(recording.sweep_lengths)} "
                            f"sample(s); at least {MIN_SAMPLES} are needed to analyse them")
        if not recording.sample_interval_s > 0:
            raise VrigError("the recording does not say its sample interval (its time "
                            "column has one value), so it cannot be analysed")
        if "command" not in recording.signals:
            raise VrigError("the recording has no command channel (command_mV or "
                            "command_pA), so its stimulus cannot be found")
        unit = recording.units.get("command")
        if unit not in ("V", "A"):
            raise VrigError(f"the recording's command is in {unit!r}; expected mV or pA")
        mode = Mode.VC if unit == "V" else Mode.CC
        protocol = _matching_protocol(recording, mode)
        lengths = [int(n) for n in recording.sweep_lengths]
        commands = [recording.signals["command"][k, :n] for k, n in enumerate(lengths)]
        if protocol is not None:
            starts = epochs_from_protocol(protocol)[1]
            holding, name = mode.to_si(protocol.holding), protocol.name
        else:
            starts = epochs_from_command(recording.signals["command"], lengths)
            holding = float(commands[0][0])
            name = recording.metadata.get("protocol", "") or "recording"
        family = cls(mode, recording.sample_interval_s, holding, commands, starts, name,
                     tuple(recording.signals))
        width = family.time.size
        for key, values in recording.signals.items():
            family.data[key] = np.asarray(values, dtype=float)[:, :width]
            family.units[key] = recording.units.get(key, "")
        family.done = list(range(family.n_sweeps))
        return family

    # --- filling from a running protocol ----------------------------------------------

    def add(self, chunk: SweepChunk) -> None:
        """Store a 'sweep' Chunk's samples (of the signals this family keeps)."""
        if not 0 <= chunk.sweep < self.n_sweeps:
            return
        for name, values in chunk.signals.items():
            if name not in self.signals:
                continue
            if name not in self.data:
                self.data[name] = np.full((self.n_sweeps, self.time.size), np.nan)
            first = chunk.first_sample
            self.data[name][chunk.sweep, first: first + len(values)] = values

    def sweep_done(self, sweep: int) -> None:
        """Mark a sweep complete (its measurements are now made)."""
        if sweep not in self.done:
            self.done.append(sweep)

    def trace(self, name: str, sweep: int) -> tuple[FloatArray, FloatArray] | None:
        """(t in s, values) of one signal in one sweep (None when not recorded)."""
        if name not in self.data:
            return None
        return self.time, self.data[name][sweep]

    # --- the stimulus -----------------------------------------------------------------

    @property
    def command_unit(self) -> str:
        """'V' (voltage clamp) or 'A' (current clamp)."""
        return self.mode.command_unit

    def n_epochs(self) -> int:
        """Number of epochs every sweep has."""
        return min(len(s) for s in self.epoch_starts)

    def epoch_span(self, sweep: int, index: int) -> tuple[float, float]:
        """(start, end) of an epoch in s from the sweep start."""
        starts = list(self.epoch_starts[sweep]) + [self.commands[sweep].size]
        return starts[index] * self.interval, starts[index + 1] * self.interval

    def epoch_levels(self, sweep: int, index: int) -> tuple[float, float]:
        """(first, last) command of an epoch (V or A): equal for a step."""
        starts = list(self.epoch_starts[sweep]) + [self.commands[sweep].size]
        piece = self.commands[sweep][starts[index]: starts[index + 1]]
        return float(piece[0]), float(piece[-1])

    def level(self, sweep: int, t0: float, t1: float) -> float:
        """Mean command (V or A) between t0 and t1 (s) of a sweep; NaN outside it."""
        command = self.commands[sweep]
        t = self.time[: command.size]
        inside = (t >= t0) & (t <= t1)
        return float(np.mean(command[inside])) if inside.any() else float("nan")

    def epoch_containing(self, sweep: int, t: float) -> int:
        """Index of the epoch that time t (s) falls in."""
        starts = np.asarray(self.epoch_starts[sweep])
        return max(0, int(np.searchsorted(starts, t / self.interval, side="right")) - 1)

    def varying_epochs(self) -> list[int]:
        """Epochs whose level (first or last command) changes between sweeps."""
        result = []
        for e in range(self.n_epochs()):
            levels = np.array([self.epoch_levels(k, e) for k in range(self.n_sweeps)])
            if np.ptp(levels[:, 0]) > _tiny(self) or np.ptp(levels[:, 1]) > _tiny(self):
                result.append(e)
        return result

    def test_epoch(self) -> int:
        """The epoch a family is about: the first whose level changes between sweeps,
        or, when that one is a conditioning prepulse (the next epoch is a fixed step
        20 mV or more above holding, as for h-infinity), the step after it."""
        n = self.n_epochs()
        varying = self.varying_epochs()
        test = varying[0] if varying else min(1, n - 1)
        if (self.mode is Mode.VC and test + 1 < n and test + 1 not in varying
                and self.epoch_levels(0, test + 1)[0] > self.holding + 0.02):
            test += 1
        return test


def _tiny(family: SweepFamily) -> float:
    """Command differences below this are the same level (1 uV or 0.01 pA)."""
    return units.mv_to_v(1e-3) if family.mode == "VC" else units.pa_to_a(0.01)


def _matching_protocol(recording: Recording, mode: Mode) -> Protocol | None:
    """The recording's protocol when it made these sweeps, else None."""
    text = recording.metadata.get("protocol_json")
    if not text:
        return None
    try:
        protocol = protocol_from_dict(json.loads(text))
    except (json.JSONDecodeError, VrigError):
        return None
    same_mode = (protocol.mode == Mode.VC) == (mode == Mode.VC)
    same_rate = abs(protocol.sample_interval_s - recording.sample_interval_s) \
        <= 1e-6 * protocol.sample_interval_s
    same_sizes = protocol.sweeps == recording.n_sweeps and all(
        protocol.sweep_samples(k) == recording.sweep_lengths[k] for k in range(protocol.sweeps))
    return protocol if same_mode and same_rate and same_sizes else None

