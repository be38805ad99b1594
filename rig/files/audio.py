"""The amplifier's audio monitor as a WAV file: the membrane potential played as sound,
as the speaker of a real rig plays it, so each spike is an audible click at its time.

The monitor is AC-coupled like an amplifier's audio output: a first-order high-pass at
HIGHPASS_HZ takes away the resting level and slow changes (silence at rest), a spike's
fast rise and fall pass as a click. The signal is resampled to AUDIO_RATE_HZ by linear
interpolation, scaled (FULL_SCALE_V of change is full scale), clipped and written as
16-bit mono PCM. Sweeps follow each other without gaps: audio time is simulated time.
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


def monitor_signal(vm_v: npt.ArrayLike, sample_interval_s: float) -> np.ndarray:
    """Vm (V, evenly sampled every sample_interval_s) as audio samples in -1..1 at
    AUDIO_RATE_HZ (high-passed, scaled, clipped)."""
    vm = np.asarray(vm_v, dtype=float)
    if vm.size == 0:
        return np.zeros(0)
    duration = vm.size * sample_interval_s
    if duration > MAX_SECONDS:
        raise VrigError(f"the audio monitor writes at most {MAX_SECONDS:g} s; this run "
                        f"has {duration:.4g} s")
    t_in = np.arange(vm.size) * sample_interval_s
    t_out = np.arange(int(duration * AUDIO_RATE_HZ)) / AUDIO_RATE_HZ
    resampled = np.interp(t_out, t_in, np.nan_to_num(vm, nan=float(np.nanmean(vm))))
    # one-pole high-pass y[n] = a (y[n-1] + x[n] - x[n-1]), started at rest (y = 0)
    a = 1.0 / (1.0 + 2 * math.pi * HIGHPASS_HZ / AUDIO_RATE_HZ)
    out = lfilter([a, -a], [1.0, -a], resampled - resampled[0])
    return np.clip(out / FULL_SCALE_V, -1.0, 1.0)


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
