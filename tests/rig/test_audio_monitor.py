"""The audio monitor: `vrig run ... -o OUT.wav` writes Vm as sound, silent at rest, with
a click at each spike's time (testable without a sound card)."""

import wave

import numpy as np
import pytest

from rig.cli.main import main
from rig.files.audio import AUDIO_RATE_HZ, monitor_signal
from rig.protocols.protocol import load_protocol
from rig.simulation.engine import Rig


def _read(path):
    with wave.open(str(path), "rb") as audio:
        assert audio.getnchannels() == 1 and audio.getsampwidth() == 2
        assert audio.getframerate() == AUDIO_RATE_HZ
        return np.frombuffer(audio.readframes(audio.getnframes()), "<i2") / 32767


def _clicks(audio, threshold=0.25, dead_s=0.004):
    """Times (s) where the audio first exceeds the threshold, at most one per dead_s."""
    times, last = [], -1.0
    for i in np.flatnonzero(audio > threshold):
        t = i / AUDIO_RATE_HZ
        if t - last > dead_s:
            times.append(t)
            last = t
    return np.array(times)


def test_each_spike_is_a_click_at_its_time(tmp_path, capsys):
    path = tmp_path / "fi.wav"
    assert main(["run", "cc-step-family", "-o", str(path)]) == 0
    assert "audio monitor" in capsys.readouterr().out
    audio = _read(path)
    recording = Rig.from_presets("hh-squid").run(load_protocol("cc-step-family"))
    vm = np.concatenate([recording.sweep("Vm", i) for i in range(recording.n_sweeps)])
    dt = recording.sample_interval_s
    assert audio.size == pytest.approx(vm.size * dt * AUDIO_RATE_HZ, abs=2)
    up = np.flatnonzero((vm[:-1] < 0.0) & (vm[1:] >= 0.0)) * dt  # spikes cross 0 mV
    clicks = _clicks(audio)
    assert len(up) >= 40 and len(clicks) == len(up)
    assert np.max(np.abs(clicks - up)) < 0.001  # each click within 1 ms of its spike


def test_rest_is_silent_and_a_step_fades():
    rest = monitor_signal(np.full(50_000, -0.065), 2e-5)
    assert np.max(np.abs(rest)) < 1e-9
    step = monitor_signal(np.r_[np.full(25_000, -0.065), np.full(25_000, -0.055)], 2e-5)
    assert np.max(np.abs(step[-AUDIO_RATE_HZ // 10:])) < 1e-3  # a slow level is not heard


def test_bad_wav_target_is_one_error_line(tmp_path, capsys):
    target = tmp_path / "missing-folder" / "x.wav"
    assert main(["run", "cc-threshold", "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vrig: error: ") and err.count("\n") == 1
