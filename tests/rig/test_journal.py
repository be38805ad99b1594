"""The recording journal: a cut at any byte loads everything up to the last whole
sample, and nothing else."""

import json
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rig.errors import VrigError
from rig.files import journal as jn
from rig.files.recording import load_recording

NAMES = ("Vm", "Im", "command")
UNITS = {"Vm": "V", "Im": "A", "command": "V"}
INTERVAL = 20e-6


def build(records, dtype="<f4"):
    """Journal bytes and, for each data record, (payload offset, sweep, frames).

    records: ('data', sweep, n) or ('event', text) in file order."""
    out = bytearray(jn.encode_header(NAMES, UNITS, INTERVAL, "episodic", {"cell": "x"},
                                     "t.abf", dtype))
    header_end = len(out)
    rng = np.random.default_rng(7)
    written = []
    next_first = {}
    for record in records:
        if record[0] == "data":
            _, sweep, n = record
            frames = rng.normal(size=(n, len(NAMES))).astype(dtype)
            first = next_first.get(sweep, 0)
            next_first[sweep] = first + n
            data = jn.encode_data(sweep, first, frames)
            written.append(("data", len(out) + 8 + 16, sweep, frames))
            out += data
        else:
            written.append(("event", len(out), record[1], None))
            out += jn.encode_event(0.5, 0, 0, record[1])
            written[-1] = ("event", len(out), record[1], None)  # complete once all is there
    return bytes(out), header_end, written


def expected_after_cut(written, cut, dtype="<f4"):
    """{sweep: frames} and event texts a reader must return for a file cut at `cut`."""
    frame_bytes = np.dtype(dtype).itemsize * len(NAMES)
    sweeps, events = {}, []
    for kind, offset, what, frames in written:
        if kind == "event":
            if offset > cut:
                break
            events.append(what)
            continue
        whole = min(max((cut - offset) // frame_bytes, 0), len(frames)) if cut >= offset else 0
        if whole:
            sweeps.setdefault(what, []).append(frames[:whole].astype(float))
        if whole < len(frames):
            break
    return {k: np.concatenate(v) for k, v in sweeps.items()}, events


RECORDS = [("data", 0, 7), ("event", "protocol x started"), ("data", 0, 5), ("data", 1, 9),
           ("event", "mode CC -> I0"), ("data", 1, 1), ("data", 2, 4)]
BYTES, HEADER_END, WRITTEN = build(RECORDS)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, len(BYTES)))
def test_a_journal_cut_anywhere_loads_up_to_its_last_whole_sample(cut, tmp_path):
    path = tmp_path / "cut.abf.part"
    path.write_bytes(BYTES[:cut])
    sweeps, events = expected_after_cut(WRITTEN, cut)
    if cut < HEADER_END or not sweeps:
        with pytest.raises(VrigError):
            load_recording(path)
        return
    recording = load_recording(path)
    assert recording.n_sweeps == len(sweeps)
    for k, frames in sweeps.items():
        assert recording.sweep_lengths[k] == len(frames)
        for c, name in enumerate(NAMES):
            np.testing.assert_array_equal(recording.sweep(name, k), frames[:, c])
    got = [e["text"] for e in json.loads(recording.metadata.get("events", "[]"))]
    assert got == events
    assert recording.sample_interval_s == INTERVAL
    assert recording.metadata["cell"] == "x"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.tuples(st.booleans(), st.integers(1, 50)), min_size=1, max_size=12),
       cut_fraction=st.floats(0, 1), dtype=st.sampled_from(["<f4", "<f8"]))
def test_any_layout_cut_anywhere(sizes, cut_fraction, dtype, tmp_path):
    records, sweep = [], 0
    for new_sweep, n in sizes:
        sweep += int(new_sweep and bool(records))
        records.append(("data", sweep, n))
    data, header_end, written = build(records, dtype)
    cut = header_end + int(cut_fraction * (len(data) - header_end))
    path = tmp_path / "any.part"
    path.write_bytes(data[:cut])
    sweeps, _ = expected_after_cut(written, cut, dtype)
    if not sweeps:
        with pytest.raises(VrigError):
            jn.load_journal(path)
        return
    with jn.Journal(path) as journal:
        # complete: the file ends where a record ends (the reader cannot know more follow)
        frame_bytes = np.dtype(dtype).itemsize * len(NAMES)
        ends = {offset + len(frames) * frame_bytes for _, offset, _, frames in written}
        assert journal.complete == (cut in ends)
        for k, frames in sweeps.items():
            got = journal.read(k, 0, len(frames), list(NAMES))
            for c in range(len(NAMES)):
                np.testing.assert_array_equal(got[c], frames[:, c])
            middle = len(frames) // 2  # random access inside the sweep
            np.testing.assert_array_equal(journal.read(k, middle, len(frames), ["Im"])[0],
                                          frames[middle:, 1])


def test_a_zero_filled_tail_is_ignored(tmp_path):
    """After a power cut a file system can leave zeros where the last writes were."""
    path = tmp_path / "zeros.part"
    path.write_bytes(BYTES + b"\0" * 5000)
    recording = load_recording(path)
    sweeps, _ = expected_after_cut(WRITTEN, len(BYTES))
    np.testing.assert_array_equal(recording.sweep_lengths, [len(v) for v in sweeps.values()])


def test_value_range_and_target(tmp_path):
    path = tmp_path / "full.part"
    path.write_bytes(BYTES)
    sweeps, _ = expected_after_cut(WRITTEN, len(BYTES))
    every = np.concatenate(list(sweeps.values()))
    with jn.Journal(path) as journal:
        assert journal.complete
        assert journal.value_range("Im") == (every[:, 1].min(), every[:, 1].max())
        assert journal.target == "t.abf"


@pytest.mark.parametrize("damage", [
    b"",  # empty
    b"vRigJrn",  # cut inside the magic
    b"something else entirely",  # not a journal
    jn.MAGIC + struct.pack("<HHI", 99, 0, 2) + b"{}",  # a future version
    jn.MAGIC + struct.pack("<HHI", 1, 0, 2) + b"[]",  # a header that is not an object
    jn.MAGIC + struct.pack("<HHI", 1, 0, 5) + b"{\"na",  # cut JSON
])
def test_bad_journals_raise_only_vrig_error(damage, tmp_path):
    path = tmp_path / "bad.part"
    path.write_bytes(damage)
    with pytest.raises(VrigError):
        jn.load_journal(path)
