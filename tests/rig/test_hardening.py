"""Regression tests for the hardening leftovers of issue 9: a long run in pieces of
bounded kernel steps, protocol files with a byte order mark, CSV metadata that cannot
break its header, an output under a file, and limits shown with the digits that
matter."""

import json
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rig.acquisition import run_to_file as rtf
from rig.errors import VrigError
from rig.files.recording import load_recording
from rig.model import limits
from rig.protocols.protocol import load_protocol, protocol_from_dict
from rig.simulation.engine import Rig
from rig.simulation.episodes import PN_BASELINE_S, PN_SETTLE_S
from ui import cli as ui_cli

TINY = {"format": "vrig-protocol", "version": 1, "name": "tiny", "mode": "VC",
        "holding": -65, "sample_rate_khz": 10, "sweeps": 1, "sweep_interval_ms": 0,
        "epochs": [{"kind": "step", "duration_ms": 10, "level": -65},
                   {"kind": "step", "duration_ms": 40, "level": -10}]}


def run_cli(args, capsys):
    capsys.readouterr()
    status = ui_cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


# --- (a) a long run comes in pieces of bounded kernel steps ---------------------------------------

def test_pieces_are_bounded_in_kernel_steps_and_change_no_number(tmp_path, monkeypatch):
    """At dt 1 us and 10 kHz a sample takes 100 kernel steps, so with PIECE_STEPS 20,000
    the 500-sample sweep comes in pieces of 200 samples (progress after each), and the
    recording is the one Rig.run makes in one go."""
    protocol = protocol_from_dict(TINY)
    monkeypatch.setattr(rtf, "PIECE_STEPS", 20_000)
    bench = Rig.from_presets(cell="hh-squid", dt=1e-6)
    bench.settle()
    assert rtf.piece_samples(bench, protocol) == 200
    done = []
    rtf.run_to_file(bench, protocol, tmp_path / "p.npz",
                    progress=lambda done_s, total_s, sweep, sweeps: done.append(done_s))
    steps = [d for d in np.diff([0.0] + done) if d > 0]  # (the end of a sweep adds 0 s)
    assert np.allclose(steps, [0.02, 0.02, 0.01])
    whole = Rig.from_presets(cell="hh-squid", dt=1e-6)
    whole.settle()
    expected = whole.run(protocol)
    back = load_recording(tmp_path / "p.npz")
    for name in ("Vm", "Im"):
        np.testing.assert_allclose(back.sweep(name, 0), expected.sweep(name, 0), rtol=1e-12,
                                   atol=1e-18)


def test_a_piece_is_at_least_one_sample(monkeypatch):
    """A sample that takes more than PIECE_STEPS steps still comes one at a time."""
    monkeypatch.setattr(rtf, "PIECE_STEPS", 50_000)
    protocol = protocol_from_dict({**TINY, "sample_rate_khz": 0.1})  # 10 ms samples
    bench = Rig.from_presets(cell="hh-squid", dt=0.1e-6)  # 100,000 steps a sample
    assert rtf.piece_samples(bench, protocol) == 1


# --- (b) a byte order mark ------------------------------------------------------------------------

def test_a_protocol_with_a_byte_order_mark_is_read(tmp_path, capsys):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(TINY).encode())
    assert load_protocol(path).name == "tiny"
    status, out, err = run_cli(["run", path, "-o", tmp_path / "x.csv"], capsys)
    assert (status, err) == (0, "") and out.startswith("wrote ")


def test_a_bom_anywhere_else_is_refused_with_the_file_named(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf\xef\xbb\xbf" + json.dumps(TINY).encode())
    with pytest.raises(VrigError, match="bom.json is not valid JSON"):
        load_protocol(path)


def test_a_csv_recording_saved_with_a_byte_order_mark_loads(tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(TINY))
    assert run_cli(["run", path, "-o", tmp_path / "x.csv"], capsys)[0] == 0
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "x.csv").read_bytes())
    back = load_recording(tmp_path / "bom.csv")
    assert back.metadata["protocol"] == "tiny" and back.sweep_lengths[0] == 500


# --- (c) CSV metadata cannot break the header -----------------------------------------------------

@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)
       | st.sampled_from(["a\nsweep,time_ms,Vm_mV\n0,0,0", "x\r# mode: CC", "\t\x1b[2J\x00",
                          "a\u2028b\x85c"]))
def test_control_characters_in_a_name_are_escaped_in_the_csv(name, tmp_path, capsys):
    """Whatever the protocol's name, the CSV has one metadata line per entry, the name is
    written escaped (no control character in the file but the newlines ending lines),
    and the file loads back with its every sample."""
    protocol = tmp_path / "p.json"
    protocol.write_text(json.dumps({**TINY, "name": name}))
    output = tmp_path / "x.csv"
    status, _out, err = run_cli(["run", protocol, "-o", output], capsys)
    if status != 0:  # a name the protocol refuses (blank, too long)
        assert status == 2 and err.startswith("vrig: error: ") and err.count("\n") == 1
        return
    lines = output.read_text(encoding="utf-8").split("\n")
    header = lines[: lines.index(next(line for line in lines if not line.startswith("# ")))]
    assert lines[len(header)] == "sweep,time_ms,Vm_mV,Im_pA,command_mV"
    assert not any(ch in line for line in header for ch in "\r\t\x00\x1b\x85\u2028")
    protocol_line = next(line for line in header if line.startswith("# protocol: "))
    assert "\n" not in protocol_line and len(header) == len(load_recording(output).metadata)
    assert load_recording(output).sweep_lengths[0] == 500


def test_a_newline_in_a_name_is_written_as_an_escape(tmp_path, capsys):
    protocol = tmp_path / "p.json"
    protocol.write_text(json.dumps({**TINY, "name": "two\nlines\tand a tab"}))
    assert run_cli(["run", protocol, "-o", tmp_path / "x.csv"], capsys)[0] == 0
    assert "# protocol: two\\nlines\\tand a tab\n" in (tmp_path / "x.csv").read_text()


# --- (d) an output under a file -------------------------------------------------------------------

@pytest.mark.parametrize("below", ["x.csv", "a/b/x.npz"])
def test_an_output_under_a_file_says_the_file_is_not_a_folder(below, tmp_path, capsys):
    protocol = tmp_path / "p.json"
    protocol.write_text(json.dumps(TINY))
    status, _out, err = run_cli(["run", protocol, "-o", protocol / below], capsys)
    assert status == 2 and err.count("\n") == 1
    assert err == (f"vrig: error: cannot write {protocol / below}: {protocol} is a file, not a "
                   "folder; choose a folder for the output\n")
    assert protocol.read_text() == json.dumps(TINY)


def test_a_missing_folder_is_still_called_missing(tmp_path, capsys):
    protocol = tmp_path / "p.json"
    protocol.write_text(json.dumps(TINY))
    status, _out, err = run_cli(["run", protocol, "-o", tmp_path / "no" / "x.csv"], capsys)
    assert (status, err) == (2, f"vrig: error: cannot write {tmp_path / 'no' / 'x.csv'}: "
                                f"folder {tmp_path / 'no'} does not exist\n")


# --- (e) a time step beyond its limits ------------------------------------------------------------

@pytest.mark.parametrize("dt_us", ["0.09999999", "100.0000001", "0.01", "1000", "1e300",
                                   "1e400", "nan"])
def test_a_time_step_outside_the_limits_shows_the_digits_that_matter(dt_us, tmp_path, capsys):
    protocol = tmp_path / "p.json"
    protocol.write_text(json.dumps(TINY))
    status, _out, err = run_cli(["run", protocol, "-o", tmp_path / "x.csv", "--dt-us", dt_us],
                                capsys)
    # as typed: the command line checks the number before converting it to s
    assert (status, err) == (2, f"vrig: error: --dt-us {dt_us} is outside the allowed "
                                "0.1 to 100 us\n")


@pytest.mark.parametrize("dt_s, shown", [
    (0.09999999e-6, "0.09999999"), (100.0000001e-6, "100.0000001"), (1e-8, "0.01"),
    (1e-3, "1000"), (1e294, "1e+300"), (float("nan"), "nan")])
def test_the_api_time_step_outside_the_limits_shows_the_digits_that_matter(dt_s, shown):
    with pytest.raises(VrigError) as refused:
        limits.check_dt(dt_s)
    assert str(refused.value) == f"time step {shown} us is outside the allowed 0.1 to 100 us"


@pytest.mark.parametrize("dt_us", ["0.1", "100", "99.99999999999999"])
def test_the_limits_themselves_are_allowed(dt_us):
    assert limits.check_dt(float(dt_us) * 1e-6) == float(dt_us) * 1e-6


def test_distinct_adds_digits_only_when_needed():
    assert limits.distinct(0.0999, 0.1) == "0.0999"
    assert limits.distinct(0.09999999, 0.1) == "0.09999999"
    assert limits.distinct(150.0, 100.0) == "150"


# --- siblings -------------------------------------------------------------------------------------

@pytest.mark.parametrize("option, value", [("--leak-sub", "1e9"), ("--leak-sub", "2.5"),
                                           ("--seed", "1.5")])
def test_a_count_that_is_not_whole_says_so(option, value, tmp_path, capsys):
    protocol = tmp_path / "p.json"
    protocol.write_text(json.dumps(TINY))
    status, _out, err = run_cli(["run", protocol, "-o", tmp_path / "x.csv", option, value],
                                capsys)
    assert (status, err) == (2, f"vrig: error: {option} '{value}' is not a whole number "
                                "(digits only)\n")
    assert not (tmp_path / "x.csv").exists()


def test_reading_a_csv_recording_takes_about_twice_its_numbers(tmp_path, capsys):
    """A CSV recording is parsed a block of rows at a time: the peak of Python's and
    numpy's allocations while loading stays within 3x the numbers it holds (2.2x
    measured; a list of every line of text, as before, took 4.1x)."""
    protocol = tmp_path / "p.json"
    protocol.write_text(json.dumps({**TINY, "sample_rate_khz": 50, "sweeps": 4, "epochs": [
        {"kind": "step", "duration_ms": 1000, "level": -65}]}))
    path = tmp_path / "x.csv"
    assert run_cli(["run", protocol, "-o", path], capsys)[0] == 0
    tracemalloc.start()
    try:
        back = load_recording(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    numbers = 200_000 * 5 * 8  # rows x (sweep, time, Vm, Im, command) x float64
    assert back.sweep_lengths.tolist() == [50_000] * 4
    assert peak < 3 * numbers, peak / numbers


@pytest.mark.parametrize("leak_sub", [None, 3])
def test_p_n_sub_sweeps_come_in_bounded_pieces_and_count_in_the_progress(leak_sub, tmp_path,
                                                                         monkeypatch):
    """With P/N the sub-sweeps (three sweeps' worth of simulating) come in the same
    bounded pieces as the sweep, the progress reaches exactly 100% at the end (not
    during the sub-sweeps), and the leak-subtracted current is the one Rig.run gives."""
    protocol = protocol_from_dict(TINY)
    monkeypatch.setattr(rtf, "PIECE_STEPS", 20_000)
    bench = Rig.from_presets(cell="hh-squid", dt=1e-6)
    bench.settle()
    done = []
    rtf.run_to_file(bench, protocol, tmp_path / "p.npz", leak_subtraction=leak_sub,
                    progress=lambda done_s, total_s, sweep, sweeps: done.append((done_s,
                                                                                 total_s)))
    increments = np.diff([0.0] + [d for d, _ in done])
    # 200 samples of 0.1 ms, plus a sub-sweep's settling and baseline at the P/N level
    assert increments.max() <= 0.02 + PN_SETTLE_S + PN_BASELINE_S + 1e-12
    assert done[-1][0] == pytest.approx(done[-1][1], rel=1e-9)
    assert len(done) >= (1 + (leak_sub or 0)) * 3
    whole = Rig.from_presets(cell="hh-squid", dt=1e-6)
    whole.settle()
    expected = whole.run(protocol, leak_subtraction=leak_sub)
    back = load_recording(tmp_path / "p.npz")
    np.testing.assert_allclose(back.sweep("Im", 0), expected.sweep("Im", 0), rtol=1e-9,
                               atol=1e-15)
