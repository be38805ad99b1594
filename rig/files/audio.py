"""The amplifier's audio monitor as a WAV file: the membrane potential played as sound,
as the speaker of a real rig plays it, so each spike is an audible click at its time.

The monitor is AC-coupled like an amplifier's audio output: a first-order high-pass at
HIGHPASS_HZ takes away the resting level and slow changes (silence at rest), a spike's
fast rise and fall pass as a click. The signal is resampled to AUDIO_RATE_HZ by linear
interpolation, scaled (FULL_SCALE_V of change is full scale), clipped and written as
16-bit mono PCM. Sweeps follow each other without gaps: audio time is simulated time.
The live monitor (rig.files.audio_live) plays the same mapping, block by block.
"""

import math
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from rig.errors import VrigError
from rig.files.output_files import atomic_output, check_target
from rig.files.recording import Recording

AUDIO_RATE_HZ = 44_100
HIGHPASS_HZ = 300.0  # below it the speaker is quiet: rest and slow potentials are silent
FULL_SCALE_V = 0.1  # a 100 mV swing drives the output to full scale
MAX_SECONDS = 3600.0


class AudioMapper:
    """The one mapping from a recorded signal to speaker samples, fed block by block (the
    live monitor) or all at once (the WAV file): linear resampling to AUDIO_RATE_HZ of
    wall time, the amplifier's AC-coupling high-pass, scaling and clipping. Blocks join
    without a seam: the output of consecutive feeds equals that of one feed of them all.

    sample_interval_s: s between input samples; speed: simulated s per wall s (0.01
    plays a 1 ms spike over 100 ms); full_scale: the signal change (SI units, V for Vm)
    that drives the output to 1.
    """

    def __init__(self, sample_interval_s: float, speed: float = 1.0,
                 full_scale: float = FULL_SCALE_V) -> None:
        if not (sample_interval_s > 0 and speed > 0 and full_scale > 0):
            raise VrigError("the audio monitor needs a positive sample interval, speed "
                            "and full scale")
        self.sample_interval_s = float(sample_interval_s)
        self.rate = AUDIO_RATE_HZ / float(speed)  # output samples per input (simulated) s
        self.full_scale = float(full_scale)
        self._a = 1.0 / (1.0 + 2 * math.pi * HIGHPASS_HZ / AUDIO_RATE_HZ)
        self._rest: float | None = None  # the first level: the filter starts settled there
        self._last = 0.0  # the last input sample (the next block interpolates from it)
        self._count = 0  # input samples taken
        self._next = 0  # index of the next output sample
        self._x = 0.0  # the filter's last input and output
        self._y = 0.0

    def feed(self, signal: npt.ArrayLike) -> np.ndarray:
        """Audio samples (-1..1) for the next block of the signal: every output sample
        whose time falls within the input received so far."""
        block = np.asarray(signal, dtype=float).ravel()
        if block.size == 0:
            return np.zeros(0)
        if self._rest is None:
            finite = block[np.isfinite(block)]
            self._rest = self._last = float(finite[0]) if finite.size else 0.0
        # a missing sample (NaN) holds the level before it: no click from a gap
        block = np.where(np.isfinite(block), block, np.nan)
        if np.isnan(block).any():
            filled = np.r_[self._last, block]
            index = np.where(np.isnan(filled), 0, np.arange(filled.size))
            block = filled[np.maximum.accumulate(index)][1:]
        dt = self.sample_interval_s
        start = max(self._count - 1, 0)  # the previous block's last sample, if any
        levels = np.r_[self._last, block] if self._count else block
        end_s = (self._count + block.size - 1) * dt
        last = int(math.floor(end_s * self.rate + 1e-9))
        times = np.arange(self._next, last + 1) / self.rate
        self._next = max(self._next, last + 1)
        self._count += block.size
        self._last = float(block[-1])
        resampled = np.interp(times, (start + np.arange(levels.size)) * dt, levels)
        return self._shape(resampled)

    def finish(self) -> np.ndarray:
        """The samples between the last input sample and the end of its interval (the
        level held), so a whole recording of T s gives int(T x rate) samples."""
        total = int(self._count * self.sample_interval_s * self.rate)
        held = np.full(max(total - self._next, 0), self._last)
        self._next = max(total, self._next)
        return self._shape(held)

    def _shape(self, levels: np.ndarray) -> np.ndarray:
        if levels.size == 0:
            return np.zeros(0)
        x = levels - (self._rest or 0.0)
        # one-pole high-pass y[n] = a (y[n-1] + x[n] - x[n-1]), carried across blocks
        a = self._a
        out, _ = lfilter([a, -a], [1.0, -a], x, zi=[a * (self._y - self._x)])
        self._x, self._y = float(x[-1]), float(out[-1])
        return np.clip(out / self.full_scale, -1.0, 1.0)


def monitor_signal(vm_v: npt.ArrayLike, sample_interval_s: float) -> np.ndarray:
    """Vm (V, evenly sampled every sample_interval_s) as audio samples in -1..1 at
    AUDIO_RATE_HZ (high-passed, scaled, clipped): AudioMapper fed at once."""
    vm = np.asarray(vm_v, dtype=float)
    if vm.size == 0:
        return np.zeros(0)
    duration = vm.size * sample_interval_s
    if duration > MAX_SECONDS:
        raise VrigError(f"the audio monitor writes at most {MAX_SECONDS:g} s; this run "
                        f"has {duration:.4g} s")
    mapper = AudioMapper(sample_interval_s)
    return np.r_[mapper.feed(vm), mapper.finish()]


def write_wav(path: str | Path, audio: npt.ArrayLike) -> None:
    """Write audio samples (-1..1) as 16-bit mono PCM at AUDIO_RATE_HZ."""
    pcm = (np.asarray(audio, dtype=float) * 32767).round().astype("<i2")
    with atomic_output(Path(path)) as temp, wave.open(str(temp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(AUDIO_RATE_HZ)
        out.writeframes(pcm.tobytes())


def recording_audio(recording: Recording) -> np.ndarray:
    """The audio monitor of a recording's Vm, its sweeps one after the other."""
    vm = np.concatenate([recording.sweep("Vm", i) for i in range(recording.n_sweeps)])
    return monitor_signal(vm, recording.sample_interval_s)


def check_wav_target(path: str | Path, protect: tuple = ()) -> Path:
    """The path if a WAV can be written there, else a VrigError."""
    path = Path(path)
    check_target(path, protect)
    return path
