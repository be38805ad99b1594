"""LiveRecorder: chunks come back from the files they were written to, one file per
run; write() never blocks; full disks, stalled disks and crashes keep every whole
sample; recover_journals finishes what a crash left."""

import errno
import json
import sys
import threading
from collections import namedtuple

import numpy as np
import pytest

from rig.acquisition.commands import Chunk
from rig.acquisition.live_recorder import LiveRecorder
from rig.errors import VrigError
from rig.files import journal as jn
from rig.files.journal_finish import recover_journals
from rig.files.recording import load_recording

DT = 20e-6
UNITS = [("Vm", "V"), ("Im", "A"), ("INa", "A"), ("m", "")]
Usage = namedtuple("Usage", "total used free")
PLENTY = Usage(10 ** 12, 0, 10 ** 12)
WAIT_S = 60


class Source:
    """Synthetic chunks with known values (SI), continuing one stream."""

    def __init__(self):
        self.t = 0.0
        self.sample = 0
        self.rng = np.random.default_rng(3)

    def chunks(self, n_chunks, mode="CC", per_chunk=250, kind="continuous", sweep=0,
               interval=DT, first=None, drugs=()):
        out = []
        start = self.sample if first is None else first
        for _ in range(n_chunks):
            self.t += per_chunk * interval
            signals = {"Vm": -0.065 + 0.01 * self.rng.standard_normal(per_chunk),
                       "Im": 1e-10 * self.rng.standard_normal(per_chunk),
                       "command": np.full(per_chunk, -0.07 if mode == "VC" else 5e-11),
                       "INa": -1e-9 * self.rng.random(per_chunk),
                       "m": self.rng.random(per_chunk)}
            out.append(Chunk(kind, sweep, start, interval, mode, signals, self.t, drugs=drugs))
            start += per_chunk
        if kind == "continuous":
            self.sample = start
        return out

    def sweeps(self, n_sweeps, chunks_per_sweep=2, mode="VC", per_chunk=100):
        out = []
        for k in range(n_sweeps):
            out += self.chunks(chunks_per_sweep, mode, per_chunk, "sweep", k, first=0)
        return out


def joined(chunks, name):
    return np.concatenate([c.signals[name] for c in chunks])


def recorder(folder, extension=".npz", signals=("Vm", "Im", "command"), **kwargs):
    kwargs.setdefault("disk_usage", lambda _folder: PLENTY)
    return LiveRecorder(folder, "cell", extension, signals, UNITS,
                        kwargs.pop("metadata", {"cell": "hh-squid"}), **kwargs)


def finished(rec):
    assert rec.wait(WAIT_S)
    return rec.status()


# --- files and their content ------------------------------------------------------------

@pytest.mark.parametrize("extension, atol", [(".npz", 0), (".csv", None), (".abf", None),
                                             (".nwb", 0)])
def test_round_trip_of_every_format(extension, atol, tmp_path):
    if extension == ".nwb":
        pytest.importorskip("pynwb")
    if extension == ".abf":
        pytest.importorskip("pyabf")
    chunks = Source().chunks(12)
    rec = recorder(tmp_path, extension, signals=("Vm", "Im", "command", "INa", "m"))
    rec.write(chunks[:5])
    rec.write(chunks[5:])
    rec.stop()
    status = finished(rec)
    assert status.state == "done" and status.message == ""
    assert [p.name for p in status.files] == [f"cell{extension}"]
    assert status.simulated_s == pytest.approx(12 * 250 * DT)
    back = load_recording(tmp_path / f"cell{extension}")
    assert back.n_sweeps == 1 and back.sweep_lengths[0] == 12 * 250
    assert back.sample_interval_s == pytest.approx(DT, rel=1e-9)
    assert back.metadata["cell"] == "hh-squid"
    assert back.metadata["sample_rate_kHz"] == "50"
    assert back.metadata["acquisition"] == "continuous" and back.metadata["mode"] == "CC"
    assert back.units == {"Vm": "V", "Im": "A", "command": "A", "INa": "A", "m": ""}
    for name in ("Vm", "Im", "command", "INa", "m"):
        expected = joined(chunks, name).astype(np.float32).astype(float)  # journal: float32
        got = back.sweep(name, 0)
        if extension == ".abf":  # half a count of the channel's 16-bit range
            tolerance = np.ptp(expected) / 128000 + np.abs(expected).max() * 2.0 ** -23
            np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance * 1.001)
        elif extension == ".csv":  # 7 significant digits
            np.testing.assert_allclose(got, expected, rtol=6e-7, atol=0)
        else:
            np.testing.assert_array_equal(got, expected)
    assert not list(tmp_path.glob("*.part"))


def test_one_file_per_run_like_clampex(tmp_path):
    src = Source()
    protocol = {"name": "family", "sweeps": 3}

    def metadata(chunk):
        meta = {"cell": "hh-squid"}
        if chunk.kind == "sweep":
            meta["protocol_json"] = json.dumps(protocol)
            meta["protocol"] = "family"
        return meta

    cc = src.chunks(4, "CC")
    i0 = src.chunks(2, "I0", drugs=(("TTX", "outside", 0.0, 3e-7),))  # same unit: same file
    vc = src.chunks(3, "VC")  # the command's unit changes: new file
    fast = src.chunks(2, "VC", interval=10e-6)  # a new rate: new file
    gap = src.chunks(2, "VC", interval=10e-6, first=src.sample + 5000)  # acquisition restarted
    episodes = src.sweeps(3)
    again = src.sweeps(2)  # the protocol run once more: a file of its own
    after = src.chunks(2, "VC")
    membrane_test = [Chunk("membrane_test", 0, 0, 1e-5, "VC", c.signals, c.time_s)
                     for c in src.chunks(2, "VC")]
    rec = recorder(tmp_path, ".npz", metadata=metadata)
    rec.write(cc + i0 + vc + fast + gap + episodes + again + after + membrane_test)
    rec.stop()
    status = finished(rec)
    names = ["cell.npz"] + [f"cell-{k}.npz" for k in range(2, 8)]
    assert [p.name for p in status.files] == names
    expected = [(cc + i0, "CC", "continuous"), (vc, "VC", "continuous"),
                (fast, "VC", "continuous"), (gap, "VC", "continuous"),
                (episodes, "VC", "episodic"), (again, "VC", "episodic"),
                (after, "VC", "continuous")]
    for name, (chunks, mode, acquisition) in zip(names, expected):
        back = load_recording(tmp_path / name)
        assert back.metadata["mode"] == mode and back.metadata["acquisition"] == acquisition
        rate = 1e-3 / chunks[0].sample_interval_s
        assert float(back.metadata["sample_rate_kHz"]) == pytest.approx(rate)
        if acquisition == "episodic":
            assert back.n_sweeps == len({c.sweep for c in chunks})
            assert json.loads(back.metadata["protocol_json"]) == protocol
            events = json.loads(back.metadata["events"])
            assert [e["text"] for e in events] == ["protocol started: family"]
            assert events[0]["time_s"] == pytest.approx(chunks[0].time_s - 100 * DT)
            for k in range(back.n_sweeps):
                mine = [c for c in chunks if c.sweep == k]
                np.testing.assert_array_equal(back.sweep("Vm", k),
                                              joined(mine, "Vm").astype(np.float32))
        else:
            assert "protocol_json" not in back.metadata
            np.testing.assert_array_equal(back.sweep("Vm", 0),
                                          joined(chunks, "Vm").astype(np.float32))
    first = load_recording(tmp_path / "cell.npz")
    events = [e["text"] for e in json.loads(first.metadata["events"])]
    assert events == ["mode CC -> I0", "drug TTX (outside) target 3e-07 M"]
    # the command's unit follows the mode of each file
    assert first.units["command"] == "A"
    assert load_recording(tmp_path / names[1]).units["command"] == "V"
    # the membrane test was not recorded: the last file holds only `after`
    assert load_recording(tmp_path / names[-1]).sweep_lengths[0] == 2 * 250


def test_existing_files_are_never_overwritten(tmp_path):
    (tmp_path / "cell.npz").write_bytes(b"an earlier recording")
    (tmp_path / "cell-2.npz.part").write_bytes(b"someone's journal")
    rec = recorder(tmp_path)
    rec.write(Source().chunks(2))
    rec.stop()
    assert [p.name for p in finished(rec).files] == ["cell-3.npz"]
    assert (tmp_path / "cell.npz").read_bytes() == b"an earlier recording"


def test_a_stopped_recorder_ignores_later_chunks_and_stop_is_idempotent(tmp_path):
    rec = recorder(tmp_path)
    src = Source()
    rec.write(src.chunks(2))
    rec.stop()
    rec.stop()
    rec.write(src.chunks(5))
    assert load_recording(finished(rec).files[0]).sweep_lengths[0] == 500


# --- never blocking, never losing ------------------------------------------------------

class StalledDisk:
    """Journal files whose writes block until released (a disk that stalls)."""

    def __init__(self):
        self.release = threading.Event()
        self.blocked = threading.Event()

    def open(self, path):
        disk = self

        class Handle:
            def __init__(self):
                self._file = open(path, "xb")  # noqa: SIM115 - the Handle owns it

            def write(self, data):
                disk.blocked.set()
                assert disk.release.wait(WAIT_S), "the test never released the disk"
                return self._file.write(data)

            def __getattr__(self, name):
                return getattr(self._file, name)

        return Handle()


def test_write_never_blocks_and_an_overflow_stops_cleanly(tmp_path):
    disk = StalledDisk()
    src = Source()
    per_chunk_bytes = 250 * 8 * 3
    rec = recorder(tmp_path, opener=disk.open, queue_bytes=10 * per_chunk_bytes)
    kept = src.chunks(10)
    rec.write(kept)  # fits: the writer is stuck on its first write
    assert disk.blocked.wait(WAIT_S)
    rec.write(src.chunks(3))  # does not fit: returns at once and stops the recording
    status = rec.status()
    assert status.state == "finishing" and not rec.active
    assert "could not keep up" in status.message and str(tmp_path) in status.message
    rec.write(src.chunks(3))  # ignored
    disk.release.set()
    status = finished(rec)
    assert status.state == "done"
    back = load_recording(status.files[0])
    np.testing.assert_array_equal(back.sweep("Vm", 0), joined(kept, "Vm").astype(np.float32))


def test_stop_returns_at_once_while_the_disk_is_stalled(tmp_path):
    disk = StalledDisk()
    rec = recorder(tmp_path, opener=disk.open)
    chunks = Source().chunks(20)
    rec.write(chunks)
    assert disk.blocked.wait(WAIT_S)
    rec.stop()  # does not wait for the disk
    assert rec.status().state == "finishing"
    assert not rec.wait(0)
    disk.release.set()
    status = finished(rec)
    assert load_recording(status.files[0]).sweep_lengths[0] == 20 * 250


class FullDisk:
    """Journal files that accept `room` bytes, write part of the next write, then
    raise ENOSPC (or another errno) as a full file system does."""

    def __init__(self, room, code=errno.ENOSPC):
        self.room = room
        self.code = code

    def open(self, path):
        disk = self

        class Handle:
            def __init__(self):
                self._file = open(path, "xb")  # noqa: SIM115 - the Handle owns it

            def write(self, data):
                if len(data) > disk.room:
                    self._file.write(bytes(data)[: disk.room])
                    self._file.flush()
                    disk.room = 0
                    raise OSError(disk.code, "No space left on device" if disk.code ==
                                  errno.ENOSPC else "Input/output error")
                disk.room -= len(data)
                return self._file.write(data)

            def __getattr__(self, name):
                return getattr(self._file, name)

        return Handle()


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO])
def test_a_full_disk_keeps_every_whole_sample_and_says_where(code, tmp_path):
    chunks = Source().chunks(10)
    frame = 3 * 4  # three float32 values
    # the real run: the disk fills in the middle of the fourth chunk's record
    folder = tmp_path / "full"
    folder.mkdir()
    first_size = _journal_header_size(tmp_path, chunks)
    disk = FullDisk(room=first_size + 3 * (24 + 250 * frame) + 24 + 100 * frame + 5, code=code)
    rec = recorder(folder, opener=disk.open)
    rec.write(chunks)
    status = finished(rec)
    assert status.state == "done"
    assert "failed" in status.message and "cell.npz" in status.message
    assert str(folder) in status.message
    back = load_recording(folder / "cell.npz")
    assert back.sweep_lengths[0] == 3 * 250 + 100  # every whole sample before the failure
    np.testing.assert_array_equal(back.sweep("Vm", 0),
                                  joined(chunks, "Vm")[:850].astype(np.float32))


def _journal_header_size(folder, chunks):
    """Bytes of the journal header a recorder writes for these chunks (measured)."""
    probe = folder / "probe"
    probe.mkdir()
    sizes = []

    def opener(path):
        handle = open(path, "xb")  # noqa: SIM115 - the recorder closes it
        real_write = handle.write

        def write(data):
            sizes.append(len(data))
            return real_write(data)

        class Handle:
            def __getattr__(self, name):
                return write if name == "write" else getattr(handle, name)

        return Handle()

    rec = recorder(probe, opener=opener)
    rec.write(chunks[:1])
    rec.stop()
    finished(rec)
    return sizes[0]


def test_free_space_guard_stops_before_the_disk_is_full(tmp_path):
    """The writer checks the free space once a second: each data record asks the
    (injected) clock, which moves 0.3 s a record, so the checks fall on records 4 and
    8; the disk is nearly full at the second check."""
    ticks = iter(np.arange(0, 100, 0.3))
    calls = []

    def disk_usage(_folder):
        calls.append(1)
        # two calls at the start (the recorder's and the writer's), then one per check
        free = 10 ** 10 if len(calls) <= 3 else 90 * 1024 * 1024
        return Usage(10 ** 11, 0, free)

    src = Source()
    rec = recorder(tmp_path, ".abf", disk_usage=disk_usage, clock=lambda: next(ticks),
                   reserve_bytes=100 * 1024 * 1024)
    rec.write(src.chunks(12))
    status = finished(rec)
    assert status.state == "done"
    assert "only 94.4 MB left" in status.message and "cell.abf" in status.message
    assert "keeps 105 MB free" in status.message
    back = load_recording(tmp_path / "cell.abf")
    assert back.sweep_lengths[0] == 8 * 250  # the record that found the disk full is kept
    assert not rec.active


def test_refusals_at_rec(tmp_path, monkeypatch):
    with pytest.raises(VrigError, match="does not exist"):
        recorder(tmp_path / "missing")
    for bad in ("", "a/b", ".hidden", "tab\there"):
        with pytest.raises(VrigError, match="file name"):
            recorder(tmp_path).__class__(tmp_path, bad, ".abf", ("Vm",), UNITS,
                                         disk_usage=lambda _f: PLENTY)
    with pytest.raises(VrigError, match="too long"):
        LiveRecorder(tmp_path, "x" * 300, ".abf", ("Vm",), UNITS, disk_usage=lambda _f: PLENTY)
    with pytest.raises(VrigError, match="only 1.05 MB free"):
        recorder(tmp_path, disk_usage=lambda _f: Usage(10 ** 9, 0, 2 ** 20))
    with pytest.raises(VrigError, match="at most 16 signals"):
        recorder(tmp_path, ".abf", signals=[f"s{i}" for i in range(17)])
    with pytest.raises(VrigError, match="one of"):
        recorder(tmp_path, ".txt")
    monkeypatch.setitem(sys.modules, "pynwb", None)
    with pytest.raises(VrigError, match=r"pip install 'vrig\[nwb\]'"):
        recorder(tmp_path, ".nwb")
    assert list(tmp_path.iterdir()) == []


# --- after a crash ----------------------------------------------------------------------

def test_recover_journals_finishes_what_a_crash_left(tmp_path):
    src = Source()
    chunks = src.chunks(6)
    disk = StalledDisk()
    disk.release.set()
    rec = recorder(tmp_path, ".abf", opener=disk.open)
    rec.write(chunks)
    rec.stop()
    finished(rec)
    good = load_recording(tmp_path / "cell.abf")
    # now the same data as a journal cut by a kill -9 in the middle of a record
    (tmp_path / "cell.abf").unlink()
    journal = tmp_path / "cell.abf.part"
    header = jn.encode_header(("Vm", "Im", "command"), {"Vm": "V", "Im": "A", "command": "A"},
                              DT, "continuous", {"cell": "hh-squid"}, "cell.abf")
    body = b"".join(
        jn.encode_data(0, 250 * i, np.column_stack(
            [c.signals[n] for n in ("Vm", "Im", "command")]).astype("<f4"))
        for i, c in enumerate(chunks))
    journal.write_bytes(header + body[: len(body) - 1000])
    (tmp_path / "notes.part").write_text("not ours: left alone")
    (tmp_path / "empty.abf.part").write_bytes(header)  # no samples: removed
    results = recover_journals(tmp_path)
    assert sorted(r.journal.name for r in results) == ["cell.abf.part", "empty.abf.part"]
    recovered = {r.journal.name: r for r in results}["cell.abf.part"]
    assert recovered.path == tmp_path / "cell.abf" and recovered.message == ""
    whole = 6 * 250 - -(-1000 // 12)
    assert recovered.samples == whole
    back = load_recording(tmp_path / "cell.abf")
    np.testing.assert_allclose(back.sweep("Vm", 0), good.sweep("Vm", 0)[:whole], atol=1e-6)
    assert back.metadata["cell"] == "hh-squid"
    assert (tmp_path / "notes.part").read_text() == "not ours: left alone"
    assert not journal.exists() and not (tmp_path / "empty.abf.part").exists()


def test_a_journal_being_written_is_not_recovered(tmp_path):
    disk = StalledDisk()
    rec = recorder(tmp_path, opener=disk.open)
    rec.write(Source().chunks(3))
    assert disk.blocked.wait(WAIT_S)
    assert recover_journals(tmp_path) == []  # another window is recording there
    disk.release.set()
    rec.stop()
    assert finished(rec).files == (tmp_path / "cell.npz",)


def test_a_stretch_too_long_for_one_abf_continues_in_the_next_file(tmp_path, monkeypatch):
    pytest.importorskip("pyabf")
    from rig.acquisition import live_recorder

    monkeypatch.setattr(live_recorder, "MAX_FILE_SAMPLES", {".abf": 3 * 1000})  # 1000 frames
    chunks = Source().chunks(10)
    rec = recorder(tmp_path, ".abf")
    rec.write(chunks)
    rec.stop()
    status = finished(rec)
    assert [p.name for p in status.files] == ["cell.abf", "cell-2.abf", "cell-3.abf"]
    lengths = [load_recording(p).sweep_lengths[0] for p in status.files]
    assert lengths == [1000, 1000, 500]
    starts = [float(load_recording(p).metadata["start_time_s"]) for p in status.files]
    np.testing.assert_allclose(starts, [0.0, 1000 * DT, 2000 * DT], atol=1e-9)
