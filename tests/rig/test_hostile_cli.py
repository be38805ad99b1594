"""Hostile input through the command line: protocols, options, protocol files and
output paths drawn by hypothesis or chosen by hand. Whatever comes in, ``vrig`` exits
0 having written a complete file, or prints one ``vrig: error:`` line and exits 2,
with no traceback, no hang, bounded memory, and no partial or replaced file.

Most cases run ``ui.cli.main`` in this process; a few run the real command (a FIFO,
SIGTERM, kill -9, memory).
"""

import json
import os
import pty
import select
import signal
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rig.cli import main as rig_cli
from rig.files.recording import load_recording
from ui import cli as ui_cli

SENTINEL = b"an earlier file that must survive a refused run\n"
TINY = {"format": "vrig-protocol", "version": 1, "name": "tiny", "mode": "VC",
        "holding": -65, "sample_rate_khz": 20, "sweeps": 2, "sweep_interval_ms": 0,
        "epochs": [{"kind": "step", "duration_ms": 1, "level": -65},
                   {"kind": "step", "duration_ms": 2, "level": -20, "level_delta": 10}]}
HYPOTHESIS = settings(max_examples=40, deadline=None, derandomize=True,
                      suppress_health_check=[HealthCheck.function_scoped_fixture,
                                             HealthCheck.too_slow])


def vrig_command():
    script = Path(sys.executable).with_name("vrig")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ui.cli"]


def run_inprocess(args, capsys):
    """(status, stdout, stderr) of ``vrig args`` in this process; a raised exception
    (a traceback the user would see) fails the test."""
    capsys.readouterr()
    try:
        status = ui_cli.main([str(a) for a in args])
    except SystemExit as exc:
        status = exc.code
    except BaseException as exc:
        pytest.fail(f"vrig {args!r} raised {type(exc).__name__}: {exc}\n"
                    + "".join(traceback.format_exception(exc)))
    out, err = capsys.readouterr()
    return status, out, err


def check_outcome(status, out, err, output):
    """Exit 0 with a complete file, or one error line, status 2, the old file intact."""
    assert "Traceback" not in out + err
    leftovers = [p.name for p in output.parent.iterdir() if p.name.endswith(".part")]
    assert leftovers == [], leftovers
    if status == 0:
        assert err == "", err
        lines = out.splitlines()
        assert len(lines) == 1 and lines[0].startswith("wrote "), out
        recording = load_recording(output)
        assert recording.n_sweeps >= 1
        return recording
    assert status == 2, (status, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vrig: error: "), err
    assert out == ""
    assert output.read_bytes() == SENTINEL
    return None


@pytest.fixture
def place(tmp_path_factory):
    """A fresh folder with an existing output file (the sentinel) in it."""
    def make(name="out.npz"):
        folder = tmp_path_factory.mktemp("hostile")
        output = folder / name
        output.write_bytes(SENTINEL)
        return folder, output
    return make


# --- strategies ----------------------------------------------------------------------------

HOSTILE_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["\ud800", "a\udfffb", "line\nbreak", "\x1b[31mred", "\u2028", "\0",
                     "x" * 300, "é" * 150, "../../etc/passwd", ""]))
HOSTILE_NUMBER = st.one_of(
    st.integers(-10, 10), st.floats(-100, 100, allow_nan=False), st.just(1e308),
    st.just(-1e308), st.just(10 ** 400), st.booleans(), st.none(), st.just("5"),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                         max_size=2))


@st.composite
def hostile_protocols(draw):
    """A protocol's text: the tiny one with some fields replaced, removed or added,
    sometimes with a key written twice."""
    data = json.loads(json.dumps(TINY))
    for _ in range(draw(st.integers(1, 3))):
        epochs = [e for e in data.get("epochs", []) if isinstance(e, dict)] \
            if isinstance(data.get("epochs"), list) else []
        where = draw(st.sampled_from(["top", "epoch"])) if epochs else "top"
        target = data if where == "top" else draw(st.sampled_from(epochs))
        key = draw(st.sampled_from(sorted(target) + ["extra", "level_delta", "duration_delta_ms"]))
        action = draw(st.sampled_from(["number", "text", "remove"]))
        if action == "remove":
            target.pop(key, None)
        else:
            target[key] = draw(HOSTILE_NUMBER if action == "number" else HOSTILE_TEXT)
    text = json.dumps(data, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):
        text = text.replace('"mode":', '"mode": "CC", "mode":', 1)  # a duplicate key
    return text


OPTION_VALUES = {
    "--cell": st.sampled_from(["hh-squid", "model-cell", "cortical-neuron", "nope", "\ud800",
                               "x" * 300, "../cells/hh-squid"]),
    "--temperature": st.sampled_from(["6.3", "-300", "nan", "inf", "1e400", "warm", "20"]),
    "--ion": st.sampled_from(["out:Na=44", "in:K=1e-300", "out:Na=-1", "Na", "out:Xx=5",
                              "out:Na=nan"]),
    "--drug": st.sampled_from(["TTX=300nM", "TTX=-1nM", "in:TEA=10mM", "LSD=1mM", "TTX",
                               "TTX=1e400M"]),
    "--rs": st.sampled_from(["5", "-5", "0", "1e9", "nan", "five"]),
    "--rs-comp": st.sampled_from(["0", "80", "99", "-1", "x"]),
    "--filter-khz": st.sampled_from(["0", "2", "9", "1e9", "-2", "nan"]),
    "--gain": st.sampled_from(["1", "7", "0", "-1", "inf"]),
    "--seed": st.sampled_from(["0", "-1", "1.5", str(2 ** 64), "x"]),
    "--dt-us": st.sampled_from(["10", "5", "0", "-1", "1e9", "nan"]),
    "--signals": st.sampled_from(["basic", "all", "some"]),
    "--leak-sub": st.sampled_from(["0", "4", "17", "-1", "x"]),
    "--noise": st.sampled_from(["on", "off", "maybe"]),
    "--hum": st.sampled_from(["50", "off", "55"]),
}


# --- hypothesis through the CLI --------------------------------------------------------------

@HYPOTHESIS
@given(text=hostile_protocols(), extension=st.sampled_from([".npz", ".csv", ".abf"]))
def test_hostile_protocols(text, extension, place, capsys):
    folder, output = place("out" + extension)
    protocol = folder / "p.json"
    protocol.write_text(text, encoding="utf-8", errors="surrogatepass")
    status, out, err = run_inprocess(["run", protocol, "-o", output], capsys)
    check_outcome(status, out, err, output)


@HYPOTHESIS
@given(options=st.dictionaries(st.sampled_from(sorted(OPTION_VALUES)), st.none(),
                               min_size=1, max_size=4).flatmap(
    lambda keys: st.fixed_dictionaries({k: OPTION_VALUES[k] for k in keys})))
def test_hostile_options(options, place, capsys):
    folder, output = place()
    protocol = folder / "p.json"
    protocol.write_text(json.dumps(TINY))
    args = ["run", protocol, "-o", output]
    for key, value in options.items():
        args += [key, value]
    status, out, err = run_inprocess(args, capsys)
    check_outcome(status, out, err, output)


@HYPOTHESIS
@given(name=st.one_of(st.text(min_size=1, max_size=20), HOSTILE_TEXT),
       extension=st.sampled_from([".csv", ".npz", ".abf", ".txt", "", ".CSV"]))
def test_hostile_output_names(name, extension, place, capsys):
    folder, existing = place()
    protocol = folder / "p.json"
    protocol.write_text(json.dumps(TINY))
    target = name + extension
    if "\0" in target or "/" in target or target in (".", "..", "") or "\ud800" in name \
            or "\udfff" in name:
        return  # the shell cannot pass these as one file name (covered by hand below)
    status, out, err = run_inprocess(["run", protocol, "-o", folder / target], capsys)
    assert "Traceback" not in out + err
    assert not [p for p in folder.iterdir() if p.name.endswith(".part")]
    assert existing.read_bytes() == SENTINEL or (folder / target) == existing
    if status == 0:
        assert len(out.splitlines()) == 1 and err == ""
        load_recording(folder / target)
    else:
        assert status == 2 and len(err.splitlines()) == 1 and err.startswith("vrig: error: ")


# --- by hand: files that are not what they say -------------------------------------------------

def _fifo(folder):
    path = folder / "fifo.json"
    os.mkfifo(path)
    return path


def _symlink_to_zero(folder):
    path = folder / "zero.json"
    path.symlink_to("/dev/zero")
    return path


def _large(folder):
    path = folder / "large.json"
    path.write_text(json.dumps({**TINY, "description": "x" * 2_000_000}))
    return path


def _latin1(folder):
    path = folder / "latin.json"
    text = json.dumps({**TINY, "name": "Str\u00f6me"}, ensure_ascii=False)
    path.write_bytes(text.encode("latin-1"))
    return path


def _folder(folder):
    path = folder / "folder.json"
    path.mkdir()
    return path


def _long_name(folder):
    return folder / ("p" * 300 + ".json")


PROTOCOL_FILES = {"fifo": _fifo, "dev-zero": lambda f: Path("/dev/zero"),
                  "dev-urandom": lambda f: Path("/dev/urandom"), "symlink-zero": _symlink_to_zero,
                  "over-1MB": _large, "latin-1": _latin1, "folder": _folder,
                  "name-too-long": _long_name, "shipped-name-too-long": lambda f: Path("q" * 300)}


@pytest.mark.parametrize("case", sorted(PROTOCOL_FILES))
def test_protocol_files_that_are_not_protocols(case, place, capsys):
    folder, output = place()
    status, out, err = run_inprocess(["run", PROTOCOL_FILES[case](folder), "-o", output], capsys)
    assert status == 2
    check_outcome(status, out, err, output)


def _fifo_out(folder):
    path = folder / "fifo.csv"
    os.mkfifo(path)
    return path


def _read_only(folder):
    path = folder / "ro.npz"
    path.write_bytes(SENTINEL)
    path.chmod(0o444)
    return path


def _device(folder):
    path = folder / "null.csv"
    path.symlink_to("/dev/null")
    return path


OUTPUTS = {"fifo": _fifo_out, "device": _device,
           "read-only": _read_only, "folder": lambda f: (f / "dir.csv").mkdir() or f / "dir.csv",
           "missing-folder": lambda f: f / "missing" / "x.csv",
           "name-too-long": lambda f: f / ("o" * 300 + ".csv"),
           "protocol-itself": lambda f: f / "p.npz"}


@pytest.mark.parametrize("case", sorted(OUTPUTS))
def test_outputs_that_must_not_be_written(case, place, capsys):
    folder, existing = place()
    protocol = folder / "p.npz"  # a protocol in a file with a recording's extension
    protocol.write_text(json.dumps(TINY))
    before = protocol.read_bytes()
    status, out, err = run_inprocess(["run", protocol, "-o", OUTPUTS[case](folder)], capsys)
    assert status == 2 and err.startswith("vrig: error: ") and len(err.splitlines()) == 1, err
    assert "Traceback" not in err and out == ""
    assert protocol.read_bytes() == before and existing.read_bytes() == SENTINEL
    if case == "read-only":
        assert (folder / "ro.npz").read_bytes() == SENTINEL
    assert not [p for p in folder.iterdir() if p.name.endswith(".part")]


def test_user_text_is_printed_on_one_line(place, capsys):
    folder, _ = place()
    protocol = folder / "evil.json"
    protocol.write_text(json.dumps({**TINY, "name": "evil\nwrote fake.csv\x1b[2J"}))
    output = folder / "new\nline.npz"
    status, out, err = run_inprocess(["run", protocol, "-o", output], capsys)
    assert status == 0
    assert out == (f"wrote {folder}/new\\nline.npz: evil\\nwrote fake.csv\\x1b[2J, "
                   "2 sweep(s), 120 samples\n")
    status, out, err = run_inprocess(["run", protocol, "--cell", "bad\ncell", "-o", output], capsys)
    assert status == 2 and len(err.splitlines()) == 1 and "bad" in err and "cell" in err


def test_progress_on_a_terminal_only_and_erased(place, capsys, monkeypatch):
    folder, output = place()
    protocol = folder / "p.json"
    protocol.write_text(json.dumps(TINY))
    run_inprocess(["run", protocol, "-o", output], capsys)  # not a terminal: nothing on stderr

    class Terminal:
        def __init__(self):
            self.text = ""

        def write(self, text):
            self.text += text

        def flush(self):
            pass

        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(rig_cli, "PROGRESS_AFTER_S", 0.0)
    monkeypatch.setattr(rig_cli, "PROGRESS_EVERY_S", 0.0)
    monkeypatch.setattr(sys, "stderr", terminal)
    assert ui_cli.main(["run", str(protocol), "-o", str(output)]) == 0
    lines = terminal.text.split("\r")
    assert "vrig: tiny: sweep 1 of 2" in terminal.text
    assert "100% of 0.006 s simulated" in terminal.text
    assert lines[-1] == "\x1b[K"  # the line is erased at the end


def test_progress_waits_a_few_seconds_then_updates_four_times_a_second():
    class Stream:
        text = ""

        def write(self, text):
            Stream.text += text

        def flush(self):
            pass

    now = {"t": 0.0}
    progress = rig_cli.TerminalProgress(Stream(), "long", clock=lambda: now["t"])
    progress(1.0, 600.0, 0, 1)
    now["t"] = 1.9
    progress(2.0, 600.0, 0, 1)
    assert Stream.text == ""
    now["t"] = 2.0
    progress(150.0, 600.0, 0, 1)
    now["t"] = 2.1
    progress(160.0, 600.0, 0, 1)  # too soon after the last line
    now["t"] = 62.5
    progress(600.0, 600.0, 0, 1)
    assert Stream.text == (
        "\rvrig: long: sweep 1 of 1, 25% of 600 s simulated, 0:02 elapsed\x1b[K"
        "\rvrig: long: sweep 1 of 1, 100% of 600 s simulated, 1:02 elapsed\x1b[K")
    progress.close()
    assert Stream.text.endswith("\r\x1b[K")


# --- real processes -----------------------------------------------------------------------------

def test_a_fifo_does_not_hang_the_real_command(tmp_path):
    fifo = tmp_path / "f.json"
    os.mkfifo(fifo)
    result = subprocess.run(vrig_command() + ["run", str(fifo), "-o", str(tmp_path / "x.csv")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.startswith("vrig: error: ")
    assert "not a regular file" in result.stderr and "Traceback" not in result.stderr


LONG = {**TINY, "name": "long", "sample_rate_khz": 50, "sweeps": 1,
        "epochs": [{"kind": "step", "duration_ms": 60_000, "level": -65}]}


# 600 s at dt 0.1 us: minutes of computing, shown by a progress line on a terminal
LONG_RUN = {**TINY, "name": "long", "sample_rate_khz": 1, "sweeps": 1,
            "epochs": [{"kind": "step", "duration_ms": 600_000, "level": -65}]}
HANG_GUARD_S = 120  # only against a hung process; nothing here is timed


def _read_terminal(fd, until=None):
    """Bytes the process writes on its terminal, up to a line containing `until` (or
    to the end when None). Blocks in select (no sleeping)."""
    seen = b""
    while until is None or until not in seen:
        ready, _, _ = select.select([fd], [], [], HANG_GUARD_S)
        assert ready, f"the process hung; it printed {seen!r}"
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every copy of the terminal is closed (the process ended)
            chunk = b""
        if not chunk:
            assert until is None, f"the run ended before its progress line: {seen!r}"
            return seen
        seen += chunk
    return seen


def _start_long_run(tmp_path, output):
    """The real command on a long run, its stderr on a pseudo-terminal as in a shell;
    returns (process, terminal) once its first progress line shows it is writing (so its
    temporary file exists)."""
    protocol = tmp_path / "long.json"
    protocol.write_text(json.dumps(LONG_RUN))
    terminal, child_end = pty.openpty()
    process = subprocess.Popen(vrig_command() + ["run", str(protocol), "-o", str(output),
                                                 "--signals", "all", "--dt-us", "0.1"],
                               stdout=subprocess.PIPE, stderr=child_end)
    os.close(child_end)
    _read_terminal(terminal, until=b"% of 600 s simulated")
    return process, terminal


def test_sigterm_removes_the_temporary_files(tmp_path):
    output = tmp_path / "out.csv"
    output.write_bytes(SENTINEL)
    process, terminal = _start_long_run(tmp_path, output)
    process.send_signal(signal.SIGTERM)
    err = _read_terminal(terminal).decode()
    process.communicate(timeout=HANG_GUARD_S)
    os.close(terminal)
    assert process.returncode == 128 + signal.SIGTERM
    assert "vrig: terminated by signal 15" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.json", "out.csv"]
    assert output.read_bytes() == SENTINEL


def test_kill_9_leaves_a_part_that_the_next_run_clears(tmp_path, capsys):
    output = tmp_path / "out.npz"
    process, terminal = _start_long_run(tmp_path, output)
    process.kill()
    process.communicate(timeout=HANG_GUARD_S)
    os.close(terminal)
    stale = [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert stale and all(f".vrig-{process.pid}-" in name for name in stale)
    protocol = tmp_path / "tiny.json"
    protocol.write_text(json.dumps(TINY))
    status, _out, _err = run_inprocess(["run", protocol, "-o", output], capsys)
    assert status == 0
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def _peak_rss_mb(args):
    """Peak resident memory (MB) of the real command, measured by a wrapper process."""
    wrapper = ("import resource, subprocess, sys; "
               "r = subprocess.run(sys.argv[1:], capture_output=True); "
               "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    result = subprocess.run([sys.executable, "-c", wrapper] + vrig_command() + args,
                            capture_output=True, text=True, timeout=600)
    code, kb = result.stdout.split()
    assert code == "0", result
    return int(kb) / 1024


def test_memory_does_not_grow_with_the_recording(tmp_path):
    """Three times the samples (900,000 instead of 300,000, every signal) take hardly
    more memory: the recording is streamed in pieces, never held (holding it would take
    64 MiB more; the largest protocol took 3 GB before). What grows is the sweep's
    command, which rig.protocols.protocol.render_sweep builds whole (about 16 bytes a sample)."""
    peaks = {}
    for samples in (300_000, 900_000):
        protocol = tmp_path / f"p{samples}.json"
        protocol.write_text(json.dumps({**LONG, "epochs": [
            {"kind": "step", "duration_ms": samples / 50, "level": -65}]}))
        peaks[samples] = _peak_rss_mb(["run", str(protocol), "-o", str(tmp_path / f"{samples}.abf"),
                                       "--signals", "all"])
        assert load_recording(tmp_path / f"{samples}.abf").sweep_lengths[0] == samples
    held_mb = 600_000 * 14 * 8 / 2 ** 20
    assert peaks[900_000] - peaks[300_000] < held_mb / 2, peaks
