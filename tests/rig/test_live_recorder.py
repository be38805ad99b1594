"""LiveRecorder: streamed chunks come back from the file exactly as rig.recording reads
them, a crash leaves the journal on disk, and bad targets are refused."""

import numpy as np
import pytest

from rig.commands import Chunk
from rig.engine import Rig
from rig.errors import VrigError
from rig.live_recorder import LiveRecorder, default_path
from rig.recording import _load_csv, load_recording

DT = 20e-6


@pytest.fixture(scope="module")
def bench():
    return Rig.from_presets("hh-squid")


def _chunks(bench, n_chunks, per_chunk=250, level=100e-12, kind="continuous", sweep=0, start=0):
    bench.set_mode("CC")
    chunks = []
    first = start
    for _ in range(n_chunks):
        signals = bench.advance(np.full(per_chunk, level), DT)
        chunks.append(Chunk(kind, sweep, first, DT, "CC", signals, bench.time_s))
        first += per_chunk
    return chunks


def test_csv_round_trip(bench, tmp_path):
    chunks = _chunks(bench, 8)
    path = tmp_path / "live.csv"
    recorder = LiveRecorder(path, bench.signal_names(), "CC", {"cell": "hh-squid"}, "all")
    recorder.write(chunks[:3])
    recorder.note("something\nwith a newline")
    recorder.write(chunks[3:])
    assert recorder.journal.exists() and not path.exists()
    assert recorder.stop() == path
    assert path.exists() and not recorder.journal.exists()
    back = load_recording(path)
    assert back.metadata["cell"] == "hh-squid"
    assert back.n_sweeps == 1 and back.sweep_lengths[0] == 8 * 250
    vm = np.concatenate([c.signals["Vm"] for c in chunks])
    np.testing.assert_allclose(back.sweep("Vm", 0), vm, rtol=1e-6, atol=1e-9)
    gk = np.concatenate([c.signals["gK"] for c in chunks])
    np.testing.assert_allclose(back.sweep("gK", 0), gk, rtol=1e-6, atol=1e-15)
    assert back.sample_interval_s == pytest.approx(DT)
    assert recorder.stop() == path  # twice is harmless


def test_npz_target_and_sweeps(bench, tmp_path):
    path = tmp_path / "live.npz"
    recorder = LiveRecorder(path, bench.signal_names(), "CC")
    first = _chunks(bench, 2, kind="sweep", sweep=0)
    second = _chunks(bench, 2, kind="sweep", sweep=1)
    recorder.write(first + second)
    recorder.stop()
    back = load_recording(path)
    assert back.n_sweeps == 2
    assert list(back.sweep_lengths) == [500, 500]
    np.testing.assert_allclose(back.sweep("Vm", 1),
                               np.concatenate([c.signals["Vm"] for c in second]), rtol=1e-6)


def test_gap_in_stream_starts_new_sweep(bench, tmp_path):
    recorder = LiveRecorder(tmp_path / "gap.csv", bench.signal_names(), "CC")
    recorder.write(_chunks(bench, 2, start=0) + _chunks(bench, 2, start=10_000))
    recorder.stop()
    assert load_recording(tmp_path / "gap.csv").n_sweeps == 2


def test_crash_leaves_loadable_journal(bench, tmp_path):
    path = tmp_path / "crash.csv"
    recorder = LiveRecorder(path, bench.signal_names(), "CC", {"protocol": "continuous"})
    recorder.write(_chunks(bench, 4))
    # No stop(): the process "dies" here. What was written is on disk already.
    back = _load_csv(recorder.journal)
    assert back.sweep_lengths[0] == 1000
    assert back.metadata["protocol"] == "continuous"
    recorder.stop()  # only to close the file handle in the test process


def test_command_in_other_unit_is_nan(bench, tmp_path):
    path = tmp_path / "modes.csv"
    recorder = LiveRecorder(path, bench.signal_names(), "CC")
    cc = _chunks(bench, 1)
    bench.set_mode("VC")
    signals = bench.advance(np.full(250, -0.065), DT)
    vc = Chunk("continuous", 0, 250, DT, "VC", signals, bench.time_s)
    recorder.write(cc + [vc])
    recorder.stop()
    back = load_recording(path)
    command = back.sweep("command", 0)
    assert np.isfinite(command[:250]).all() and np.isnan(command[250:]).all()
    assert "mode VC" in path.read_text()


@pytest.mark.parametrize("name", ["x.txt", "missing/x.csv"])
def test_bad_targets(bench, tmp_path, name):
    with pytest.raises(VrigError):
        LiveRecorder(tmp_path / name, bench.signal_names(), "CC")


def test_default_path_does_not_overwrite(tmp_path):
    first = default_path(tmp_path, "20240101-120000")
    first.write_text("x")
    second = default_path(tmp_path, "20240101-120000")
    assert second != first and second.suffix == ".csv"
