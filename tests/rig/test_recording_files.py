"""Recording files: CSV and NPZ round trips, and writes that are complete or absent."""

import os
import stat

import numpy as np
import pytest

from rig.errors import VrigError
from rig.files.recording import Recording, load_recording
from rig.protocols.protocol import protocol_from_dict

OLD = b"# an earlier recording\nsweep,time_ms,Vm_mV\n0,0.00000,-65\n"


def synthetic(metadata=None):
    """Three sweeps of different lengths (NaN-padded), SI values of realistic size."""
    rng = np.random.default_rng(1)
    lengths = np.array([50, 30, 40])
    n = lengths.max()

    def padded(values):
        values = np.array(values, dtype=float)
        for k, length in enumerate(lengths):
            values[k, length:] = np.nan
        return values

    signals = {
        "Vm": padded(-0.065 + 0.05 * rng.standard_normal((3, n))),
        "Im": padded(1e-10 * rng.standard_normal((3, n))),
        "command": padded(np.repeat([[-0.08], [-0.07], [0.0]], n, axis=1)),
        "INa": padded(-3e-9 * rng.random((3, n))),
        "m": padded(rng.random((3, n))),
    }
    units = {"Vm": "V", "Im": "A", "command": "V", "INa": "A", "m": ""}
    meta = {"vrig_version": "0.1.0", "protocol": "synthetic", "mode": "VC",
            "E_rev_mV": "Na=50.1 K=-77.0", "protocol_json": '{"name": "x, y: z"}'}
    if metadata:
        meta.update(metadata)
    return Recording(signals, units, lengths, 20e-6, meta)


def assert_same(loaded, original, rtol):
    assert set(loaded.signals) == set(original.signals)
    np.testing.assert_array_equal(loaded.sweep_lengths, original.sweep_lengths)
    assert loaded.n_sweeps == original.n_sweeps
    assert loaded.sample_interval_s == pytest.approx(original.sample_interval_s, rel=1e-9)
    for name, values in original.signals.items():
        assert loaded.units[name] == original.units[name], name
        assert loaded.signals[name].shape == values.shape, name
        np.testing.assert_allclose(loaded.signals[name], values, rtol=rtol, atol=0,
                                   equal_nan=True, err_msg=name)
        for k in range(original.n_sweeps):
            np.testing.assert_allclose(loaded.sweep(name, k), original.sweep(name, k),
                                       rtol=rtol, atol=0)
    np.testing.assert_allclose(loaded.time()[: original.time().size], original.time(),
                               rtol=1e-9, atol=1e-12)


def part_files(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


# --- round trips -----------------------------------------------------------------------

def test_csv_round_trip(tmp_path):
    original = synthetic()
    path = tmp_path / "r.csv"
    original.save(path, signals="all")
    loaded = load_recording(path)
    assert_same(loaded, original, rtol=1e-6)  # written with 7 significant digits
    assert loaded.metadata == original.metadata


def test_csv_basic_signals_only(tmp_path):
    original = synthetic()
    path = tmp_path / "basic.csv"
    original.save(path)
    loaded = load_recording(path)
    assert set(loaded.signals) == {"Vm", "Im", "command"}
    header = next(line for line in path.read_text().splitlines() if not line.startswith("#"))
    assert header == "sweep,time_ms,Vm_mV,Im_pA,command_mV"


def test_npz_round_trip(tmp_path):
    original = synthetic()
    path = tmp_path / "r.npz"
    original.save(path, signals="all")
    loaded = load_recording(path)
    assert_same(loaded, original, rtol=1e-14)
    assert loaded.metadata == original.metadata


def test_npz_is_plain_arrays(tmp_path):
    path = tmp_path / "plain.npz"
    synthetic().save(path, signals="all")
    with np.load(path, allow_pickle=False) as data:
        assert {"Vm_mV", "Im_pA", "command_mV", "INa_pA", "m", "time_ms"} <= set(data.files)
        np.testing.assert_allclose(data["Vm_mV"], synthetic().signals["Vm"] * 1e3,
                                   equal_nan=True)


def test_round_trip_of_a_real_run(tmp_path):
    from rig.simulation.engine import Rig

    protocol = protocol_from_dict({
        "format": "vrig-protocol", "version": 1, "name": "files", "mode": "VC",
        "holding": -65, "sample_rate_khz": 20, "sweeps": 3,
        "epochs": [{"kind": "step", "duration_ms": 1, "level": -65},
                   {"kind": "step", "duration_ms": 2, "level": -20, "level_delta": 20,
                    "duration_delta_ms": 1}]})
    recording = Rig.from_presets(cell="hh-squid").run(protocol)
    assert list(recording.sweep_lengths) == [60, 80, 100]
    for suffix, rtol in ((".csv", 1e-6), (".npz", 1e-14)):
        path = tmp_path / f"run{suffix}"
        recording.save(path, signals="all")
        loaded = load_recording(path)
        assert_same(loaded, recording, rtol=rtol)
        assert loaded.metadata == recording.metadata


def test_unknown_signal_selection_is_refused(tmp_path):
    with pytest.raises(VrigError):
        synthetic().save(tmp_path / "x.csv", signals="some")
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("value", ["two\nlines", "sweep,time_ms,Vm_mV\n0,0,0",
                                   "carriage\rreturn", "tab\there"])
def test_metadata_with_line_breaks_cannot_corrupt_a_csv(value, tmp_path):
    """Metadata comes from user text (a protocol's name); it must not break the file."""
    original = synthetic({"protocol": value})
    path = tmp_path / "meta.csv"
    try:
        original.save(path, signals="all")
    except VrigError:
        assert not path.exists()
        return
    loaded = load_recording(path)
    assert_same(loaded, original, rtol=1e-6)
    assert set(loaded.metadata) == set(original.metadata)


def test_protocol_name_with_a_newline_gives_a_readable_csv(tmp_path):
    from rig.simulation.engine import Rig

    data = {"format": "vrig-protocol", "version": 1,
            "name": "evil\nsweep,time_ms,Vm_mV\n# mode: CC", "mode": "VC",
            "sample_rate_khz": 10, "sweeps": 2,
            "epochs": [{"kind": "step", "duration_ms": 1, "level": -65}]}
    try:
        protocol = protocol_from_dict(data)
    except VrigError:
        return  # refusing such a name is a fine answer too
    recording = Rig.from_presets(cell="hh-squid").run(protocol)
    path = tmp_path / "evil.csv"
    try:
        recording.save(path)
    except VrigError:
        assert not path.exists()
        return
    loaded = load_recording(path)
    np.testing.assert_array_equal(loaded.sweep_lengths, [10, 10])
    assert loaded.metadata["mode"] == "VC"
    np.testing.assert_allclose(loaded.signals["Vm"], recording.signals["Vm"], rtol=1e-6)


# --- complete or not at all ------------------------------------------------------------

@pytest.fixture
def old_file(tmp_path):
    def make(suffix):
        path = tmp_path / f"old{suffix}"
        path.write_bytes(OLD)
        return path
    return make


@pytest.mark.parametrize("suffix", [".csv", ".npz", ".abf"])
def test_a_failing_serialiser_leaves_the_old_file(suffix, old_file, tmp_path, monkeypatch):
    path = old_file(suffix)

    def broken(self, sweep, start, stop, names):
        raise RuntimeError("simulated bug while formatting")

    monkeypatch.setattr(Recording, "read", broken)
    with pytest.raises(RuntimeError):
        synthetic().save(path)
    assert path.read_bytes() == OLD
    assert part_files(tmp_path) == []


class _FailingHandle:
    """A file handle that writes its first writes, then half of one, then fails."""

    def __init__(self, handle, error, good_writes=2):
        self._handle = handle
        self._error = error
        self._good = good_writes

    def write(self, data):
        if self._good > 0:
            self._good -= 1
            return self._handle.write(data)
        self._handle.write(bytes(data)[: len(data) // 2])
        self._handle.flush()
        raise self._error

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()
        return False

    def __getattr__(self, name):
        return getattr(self._handle, name)


def _fail_writes(monkeypatch, error):
    from rig.files import output_files

    real_open = output_files.open_for_writing

    def failing_open(path):
        return _FailingHandle(real_open(path), error)

    monkeypatch.setattr(output_files, "open_for_writing", failing_open)


@pytest.mark.parametrize("suffix", [".csv", ".npz", ".abf"])
def test_disk_full_mid_write_leaves_the_old_file(suffix, old_file, tmp_path, monkeypatch):
    path = old_file(suffix)
    _fail_writes(monkeypatch, OSError(28, "No space left on device"))
    with pytest.raises(VrigError, match="old"):
        synthetic().save(path)
    monkeypatch.undo()
    assert path.read_bytes() == OLD
    assert part_files(tmp_path) == []


def test_interrupt_mid_write_leaves_the_old_file_and_no_part_file(old_file, tmp_path,
                                                                  monkeypatch):
    path = old_file(".csv")
    _fail_writes(monkeypatch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        synthetic().save(path)
    monkeypatch.undo()
    assert path.read_bytes() == OLD
    assert part_files(tmp_path) == []


def test_failing_rename_leaves_the_old_file(old_file, tmp_path, monkeypatch):
    path = old_file(".csv")

    def refuse(src, dst, *args, **kwargs):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(VrigError):
        synthetic().save(path)
    monkeypatch.undo()
    assert path.read_bytes() == OLD
    assert part_files(tmp_path) == []


def test_failing_temporary_file_is_a_vrig_error(old_file, tmp_path, monkeypatch):
    """A folder the rig may not write to: creating the temporary file fails."""
    import tempfile

    path = old_file(".csv")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(VrigError):
        synthetic().save(path)
    monkeypatch.undo()
    assert path.read_bytes() == OLD
    assert part_files(tmp_path) == []


def test_success_replaces_the_old_file_completely(old_file, tmp_path):
    path = old_file(".csv")
    path.write_bytes(OLD * 100_000)  # longer than the new file
    synthetic().save(path, signals="all")
    text = path.read_text(encoding="utf-8")
    assert "an earlier recording" not in text
    assert text.endswith("\n")
    assert_same(load_recording(path), synthetic(), rtol=1e-6)
    assert part_files(tmp_path) == []


def test_written_file_has_ordinary_permissions(tmp_path):
    """The temporary file must not leave the recording readable by its owner only."""
    umask = os.umask(0o022)
    os.umask(umask)
    path = tmp_path / "perm.csv"
    synthetic().save(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o666 & ~umask, oct(mode)


@pytest.mark.parametrize("target", ["out.txt", "out", "missing/out.csv"])
def test_bad_targets_are_refused_before_writing(target, tmp_path):
    with pytest.raises(VrigError):
        synthetic().save(tmp_path / target)
    assert [p.name for p in tmp_path.iterdir()] == []


def test_folder_as_target_is_refused(tmp_path):
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(VrigError):
        synthetic().save(tmp_path / "dir.csv")
    assert list((tmp_path / "dir.csv").iterdir()) == []


# --- reading bad files -----------------------------------------------------------------

BAD_FILES = {
    "empty.csv": b"",
    "header-only.csv": b"# a: b\nsweep,time_ms,Vm_mV\n",
    "ragged.csv": b"sweep,time_ms,Vm_mV\n0,0,1\n0,0.02\n",
    "negative-sweep.csv": b"sweep,time_ms,Vm_mV\n-1,0,1\n",
    "huge-sweep.csv": b"sweep,time_ms,Vm_mV\n1000000000000,0,1\n",
    "no-header.csv": b"0,0,1\n",
    "binary.csv": b"\xff\xfe\x00\x01",
    "garbage.npz": b"garbage",
    "text.npz": OLD,
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_loading_a_bad_file_raises_only_vrig_error(name, tmp_path):
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name])
    with pytest.raises(VrigError):
        load_recording(path)


def test_loading_missing_or_unknown_files(tmp_path):
    with pytest.raises(VrigError):
        load_recording(tmp_path / "nothing.csv")
    (tmp_path / "x.abf").write_bytes(b"x")
    with pytest.raises(VrigError):
        load_recording(tmp_path / "x.abf")
