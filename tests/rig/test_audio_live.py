"""The live audio monitor's producer side, without a sound card: the ring buffer, the
block-by-block mapping (the same as the WAV file's), resampling to 44.1 kHz, volume,
mute, an underrun that fades instead of clicking, and a rig without PortAudio or an
output device that stays silent with a message saying what to install."""

import itertools
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig.clamp import Mode
from rig.files.audio import AUDIO_RATE_HZ, AudioMapper, monitor_signal
from rig.files.audio_live import FADE_SAMPLES, AudioMonitor, AudioRing, open_output

DT = 2e-5  # s: the rig's 50 kHz sampling


def _spiky(n=20_000, seed=1):
    """A membrane potential with a few fast spikes on a noisy rest (V)."""
    rng = np.random.default_rng(seed)
    vm = -0.065 + 1e-4 * rng.standard_normal(n)
    for start in (3000, 9000, 15000):
        vm[start:start + 50] += 0.1 * np.sin(np.linspace(0, np.pi, 50))
    return vm


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 3000), min_size=1, max_size=12))
def test_blocks_join_without_a_seam(cuts):
    vm = _spiky()
    mapper = AudioMapper(DT)
    edges = np.cumsum([0, *cuts])
    edges = np.unique(np.r_[edges[edges < vm.size], vm.size])
    pieces = [mapper.feed(vm[a:b]) for a, b in itertools.pairwise(edges)]
    streamed = np.concatenate([*pieces, mapper.finish()])
    whole = monitor_signal(vm, DT)
    assert streamed.shape == whole.shape
    assert np.max(np.abs(streamed - whole)) < 1e-9


@pytest.mark.parametrize("speed", [1.0, 0.5, 0.01])
def test_resampled_to_44_1_khz_of_wall_time(speed):
    t = np.arange(10_000) * DT  # 0.2 s simulated, a 1 kHz tone of 50 mV
    mapper = AudioMapper(DT, speed=speed)
    audio = np.concatenate([mapper.feed(0.05 * np.sin(2 * np.pi * 1000 * t[i:i + 500]))
                            for i in range(0, t.size, 500)])
    wall_s = t[-1] / speed
    assert audio.size == pytest.approx(wall_s * AUDIO_RATE_HZ, abs=2)
    spectrum = np.abs(np.fft.rfft(audio))
    peak_hz = np.argmax(spectrum) * AUDIO_RATE_HZ / audio.size
    assert peak_hz == pytest.approx(1000 * speed, rel=0.02)  # slow motion lowers the pitch


def test_the_ring_keeps_order_across_the_wrap_and_drops_what_does_not_fit():
    ring = AudioRing(100)
    assert ring.write(np.arange(70)) == 70
    assert np.array_equal(ring.read(50), np.arange(50))
    assert ring.write(np.arange(70, 160)) == 80  # 20 queued + 80 fill it; 10 dropped
    assert ring.dropped == 10 and ring.queued() == 100
    assert np.array_equal(ring.read(1000), np.arange(50, 150))
    assert ring.read(10).size == 0


def _played(monitor, frames, blocks):
    out = np.zeros(frames * blocks, dtype=np.float32)
    for i in range(blocks):
        monitor.fill(out[i * frames:(i + 1) * frames])
    return out


def test_volume_scales_and_mute_silences_after_one_ramped_block():
    monitor = AudioMonitor()
    monitor.ring.write(np.full(4096, 0.8))
    monitor.volume = 1.0
    first = _played(monitor, 512, 2)
    assert first[0] == 0.0 and first[-1] == pytest.approx(0.8)  # ramped up, not a step
    assert np.max(np.abs(np.diff(first))) < 0.01
    monitor.volume = 0.25
    quieter = _played(monitor, 512, 2)
    assert quieter[-1] == pytest.approx(0.2)
    monitor.muted = True
    muted = _played(monitor, 512, 2)
    assert np.max(np.abs(np.diff(muted))) < 0.01 and np.all(muted[512:] == 0.0)


def test_an_underrun_fades_to_silence_instead_of_clicking():
    monitor = AudioMonitor()
    monitor.volume = 1.0
    monitor._gain = 1.0  # already playing at full volume
    monitor.ring.write(np.full(300, 0.9))
    out = _played(monitor, 512, 2)
    assert monitor.underruns == 2
    assert np.allclose(out[:300], 0.9)
    assert np.max(np.abs(np.diff(out))) <= 0.9 / FADE_SAMPLES + 1e-6  # no step
    assert np.all(out[300 + FADE_SAMPLES:] == 0.0)  # then silence
    empty = _played(AudioMonitor(), 512, 1)
    assert np.all(empty == 0.0)  # nothing fed at all: silence


def test_spikes_fed_chunk_by_chunk_play_as_clicks_at_their_times():
    vm = _spiky(50_000)
    monitor = AudioMonitor(capacity_s=2.0)
    monitor.volume = 1.0
    monitor._gain = 1.0
    for start in range(0, vm.size, 500):  # 10 ms chunks, as continuous acquisition sends
        monitor.feed(vm[start:start + 500], DT, 1.0, Mode.CC)
    played = _played(monitor, 512, monitor.ring.queued() // 512)
    clicks = np.flatnonzero(played > 0.25)
    starts = clicks[np.r_[True, np.diff(clicks) > 200]] / AUDIO_RATE_HZ
    assert np.allclose(starts, np.array([3000, 9000, 15000]) * DT + 0.00025, atol=0.0008)


def test_voltage_clamp_plays_the_current():
    monitor = AudioMonitor()
    current = np.r_[np.zeros(1000), np.full(1000, 1e-9)]  # a 1 nA step in VC
    monitor.feed(current, DT, 1.0, Mode.VC)
    audio = monitor.ring.read(10_000)
    assert 0.4 < np.max(audio) <= 0.5  # 2 nA is full scale


def test_no_portaudio_is_a_message_saying_what_to_install():
    def missing():
        raise OSError("PortAudio library not found")

    stream, why = open_output(AudioMonitor(), loader=missing)
    assert stream is None and "libportaudio2" in why


def test_no_output_device_is_a_message_not_a_crash():
    def no_device(**_kwargs):
        raise RuntimeError("Error querying device -1")

    fake = types.SimpleNamespace(OutputStream=no_device)
    stream, why = open_output(AudioMonitor(), loader=lambda: fake)
    assert stream is None and "no sound output device" in why


def test_the_callback_plays_the_monitor_on_every_channel():
    made = {}

    class Stream:
        def __init__(self, **kwargs):
            made.update(kwargs)

        def start(self):
            made["started"] = True

    monitor = AudioMonitor()
    monitor.volume, monitor._gain = 1.0, 1.0
    monitor.ring.write(np.full(512, 0.5))
    _stream, why = open_output(monitor, loader=lambda: types.SimpleNamespace(OutputStream=Stream))
    assert why == "" and made["started"] and made["samplerate"] == AUDIO_RATE_HZ
    out = np.zeros((512, 2), dtype=np.float32)
    made["callback"](out, 512, None, None)
    assert np.allclose(out, 0.5)


def test_this_machine_opens_a_stream_or_says_why():
    stream, why = open_output(AudioMonitor())
    if stream is None:
        assert why.startswith("No audio:")
    else:
        stream.close()
