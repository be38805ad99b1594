"""The amplifier's speaker, live: the recorded signal (Vm in current clamp, Im in voltage
clamp) played while the rig runs, through the same mapping as the WAV file
(rig.files.audio.AudioMapper).

Two threads meet here. The window (producer) feeds each block the engine sends; the
sound card's callback (consumer, PortAudio's own thread) pulls a fixed number of
samples. They share only a ring buffer with one writer and one reader, each owning its
own counter (no lock: the callback never waits on the window, and the scopes never wait
on the sound card). A late producer (underrun) gives a short fade to silence, never a
step (a click); a producer too far ahead (more than CAPACITY_S queued) drops the new
audio rather than let the latency grow.

sounddevice (PortAudio) is imported only when a stream is opened: without the library
or an output device, open_output says what to install and the rig runs silent.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from rig.clamp import Mode
from rig.files.audio import AUDIO_RATE_HZ, FULL_SCALE_V, AudioMapper

CAPACITY_S = 0.25  # s of audio queued at most: the speaker lags the scopes by no more
FADE_SAMPLES = 128  # about 3 ms: from the last sample to silence on an underrun
FULL_SCALE_A = 2e-9  # A: in voltage clamp a 2 nA current change is full scale
BLOCK_FRAMES = 512  # frames per callback (11.6 ms at 44.1 kHz)
INSTALL_HINT = ("install PortAudio for the audio monitor (Debian/Ubuntu: "
                "sudo apt install libportaudio2), then restart vRig")


class AudioRing:
    """A single-producer single-consumer ring of float32 samples. write() is called by
    one thread, read() by another; each advances only its own counter (a Python int,
    replaced atomically), so neither ever blocks."""

    def __init__(self, capacity: int) -> None:
        self.capacity = int(capacity)
        self._buffer = np.zeros(self.capacity, dtype=np.float32)
        self._written = 0  # samples ever written (the producer's counter)
        self._read = 0  # samples ever read (the consumer's counter)
        self.dropped = 0  # samples the producer could not queue

    def queued(self) -> int:
        """Samples waiting to be read."""
        return self._written - self._read

    def write(self, samples: npt.ArrayLike) -> int:
        """Queue samples (producer); returns how many were queued (the rest dropped)."""
        data = np.asarray(samples, dtype=np.float32).ravel()
        free = self.capacity - (self._written - self._read)
        take = min(data.size, max(free, 0))
        self.dropped += data.size - take
        start = self._written % self.capacity
        first = min(take, self.capacity - start)
        self._buffer[start:start + first] = data[:first]
        self._buffer[:take - first] = data[first:take]
        self._written += take  # published last: the reader sees only finished samples
        return take

    def read(self, count: int) -> np.ndarray:
        """Up to count queued samples (consumer), oldest first."""
        available = min(int(count), self._written - self._read)
        start = self._read % self.capacity
        first = min(available, self.capacity - start)
        out = np.concatenate((self._buffer[start:start + first],
                              self._buffer[:available - first]))
        self._read += available
        return out


class AudioMonitor:
    """The speaker's signal path: feed() from the window, fill() from the sound card.
    volume 0..1 and muted take effect within one callback, ramped across it."""

    def __init__(self, capacity_s: float = CAPACITY_S) -> None:
        self.ring = AudioRing(int(capacity_s * AUDIO_RATE_HZ))
        self.volume = 0.5
        self.muted = False
        self.underruns = 0
        self._mapper: AudioMapper | None = None
        self._key: tuple | None = None  # (interval, speed, signal) the mapper was made for
        self._gain = 0.0  # the gain at the end of the last callback
        self._last = 0.0  # the last sample played (a fade starts there)

    def feed(self, signal: npt.ArrayLike, sample_interval_s: float, speed: float | None,
             mode: Mode = Mode.CC) -> None:
        """Queue a block of the recorded signal: Vm (V) in CC and I=0, Im (A) in VC;
        speed: simulated s per wall s (None, as fast as possible, plays as 1x)."""
        full_scale = FULL_SCALE_A if mode is Mode.VC else FULL_SCALE_V
        key = (float(sample_interval_s), float(speed or 1.0), full_scale)
        mapper = self._mapper
        if key != self._key or mapper is None:  # a new stream: the filter starts settled
            mapper = self._mapper = AudioMapper(*key)
            self._key = key
        self.ring.write(mapper.feed(signal))

    def restart(self) -> None:
        """Forget the stream (a new cell, a stop): the next block starts afresh."""
        self._key = None

    def fill(self, out: np.ndarray) -> None:
        """Fill out (float32, frames) with the next samples (the sound card's callback):
        queued audio at the volume, then, if the producer is late, a short fade from the
        last sample to silence."""
        frames = out.shape[0]
        samples = self.ring.read(frames)
        target = 0.0 if self.muted else float(np.clip(self.volume, 0.0, 1.0))
        gains = np.linspace(self._gain, target, frames, dtype=np.float32)
        self._gain = target
        got = samples.size
        out[:got] = samples * gains[:got]
        if got < frames:
            self.underruns += 1
            start = float(out[got - 1]) if got else self._last
            fade = np.clip(1.0 - np.arange(1, frames - got + 1) / FADE_SAMPLES, 0.0, 1.0)
            out[got:] = start * fade
        self._last = float(out[-1]) if frames else self._last


def open_output(monitor: AudioMonitor,
                loader: Callable[[], Any] | None = None) -> tuple[Any, str]:
    """Start a sound-card stream playing the monitor: (stream, '') or (None, why not and
    what to do). loader: returns the sounddevice module (tests pass a stand-in)."""
    try:
        sd = (loader or _sounddevice)()
    except (ImportError, OSError):
        return None, f"No audio: the PortAudio library is missing; {INSTALL_HINT}."

    def callback(outdata: np.ndarray, frames: int, _time: object, _status: object) -> None:
        monitor.fill(outdata[:, 0])
        if outdata.shape[1] > 1:
            outdata[:, 1:] = outdata[:, :1]

    try:
        stream = sd.OutputStream(samplerate=AUDIO_RATE_HZ, channels=1, dtype="float32",
                                 blocksize=BLOCK_FRAMES, callback=callback)
        stream.start()
    except Exception as exc:  # PortAudioError, and the other ways a device fails to open
        return None, (f"No audio: no sound output device could be opened ({exc}). Connect "
                      "speakers or headphones and restart vRig.")
    return stream, ""


def _sounddevice() -> Any:
    import sounddevice  # needs libportaudio2: imported only when a stream opens

    return sounddevice
