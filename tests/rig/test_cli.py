"""The ``vrig`` command: good runs write complete files; bad input prints one line on
stderr, exits with status 2, shows no traceback and leaves the output file alone.

Most cases call the console script's ``main`` in-process (each real start costs about
a second); a few run the installed ``vrig`` in a subprocess to check the real thing.
"""

import json
import math
import os
import subprocess
import sys
import traceback
from pathlib import Path

import numpy as np
import pytest

from ui import cli as ui_cli

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = ROOT / "resources"
R = 8.314462618
F = 96485.33212
REQUIRED_METADATA = ("vrig_version", "protocol", "mode", "cell", "membrane_area_um2",
                     "membrane_capacitance_pF", "temperature_C", "sample_rate_kHz", "dt_us",
                     "seed", "bath_mM", "pipette_mM", "E_rev_mV")
EXTRA_COLUMNS = ("INa_pA", "IK_pA", "Ileak_pA", "m", "h", "n")
SENTINEL = b"an earlier recording that must survive a failed run\n"

TINY = {"format": "vrig-protocol", "version": 1, "name": "tiny", "mode": "VC",
        "holding": -65, "sample_rate_khz": 20, "sweeps": 2, "sweep_interval_ms": 0,
        "epochs": [{"kind": "step", "duration_ms": 1, "level": -65},
                   {"kind": "step", "duration_ms": 2, "level": -20, "level_delta": 10}]}


def vrig_command():
    script = Path(sys.executable).with_name("vrig")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ui.cli"]


def run_subprocess(args, cwd):
    return subprocess.run(vrig_command() + [str(a) for a in args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def run_inprocess(args, capsys):
    """(status, stdout, stderr) of ``vrig args`` run in this process."""
    args = [str(a) for a in args]
    capsys.readouterr()
    try:
        status = ui_cli.main(args)
    except SystemExit as exc:
        status = exc.code
    except Exception as exc:  # the user would see a traceback
        out, err = capsys.readouterr()
        pytest.fail(f"vrig {' '.join(args)} raised {type(exc).__name__}: {exc}\n"
                    + "".join(traceback.format_exception(exc)))
    out, err = capsys.readouterr()
    return status, out, err


def read_csv(path):
    """(metadata dict, header list, table array) of a vRig CSV."""
    metadata = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("# "):
                key, _, value = line[2:].rstrip("\n").partition(": ")
                metadata[key] = value
            else:
                header = line.strip().split(",")
                break
        table = np.loadtxt(handle, delimiter=",", ndmin=2)
    return metadata, header, table


def e_rev(metadata):
    return {k: float(v) for k, v in (item.split("=") for item in metadata["E_rev_mV"].split())}


def concentrations(text):
    return {k: float(v) for k, v in (item.split("=") for item in text.split())}


def nernst_mv(z, out_mm, in_mm, temperature_c):
    return 1e3 * R * (temperature_c + 273.15) / (z * F) * math.log(out_mm / in_mm)


def assert_one_error_line(status, out, err):
    assert status == 2, f"exit status {status}; stderr: {err!r}"
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {err!r}"
    assert lines[0].startswith("vrig: error:"), lines[0]
    assert len(lines[0]) > len("vrig: error: ")
    assert "Traceback" not in err and "Traceback" not in out
    assert "wrote" not in out


def no_part_files(folder):
    return [p.name for p in Path(folder).iterdir() if p.name.endswith(".part")]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Hostile and tiny protocol files."""
    folder = tmp_path_factory.mktemp("protocols")

    def write(name, data=None, text=None, raw=None):
        path = folder / name
        if raw is not None:
            path.write_bytes(raw)
        else:
            path.write_text(text if text is not None else json.dumps(data), encoding="utf-8")
        return path

    def tiny(**changes):
        data = json.loads(json.dumps(TINY))
        data.update(changes)
        return data

    def tiny_epoch(**changes):
        data = tiny()
        data["epochs"][1].update(changes)
        return data

    paths = {
        "tiny": write("tiny.json", tiny()),
        "cc": write("cc.json", tiny(mode="CC", holding=0, epochs=[
            {"kind": "step", "duration_ms": 1, "level": 0},
            {"kind": "step", "duration_ms": 2, "level": 50}])),
        "nan": write("nan.json", text=json.dumps(tiny()).replace(
            '"duration_ms": 2', '"duration_ms": NaN')),
        "negative": write("negative.json", tiny_epoch(duration_ms=-5)),
        "string": write("string.json", tiny_epoch(duration_ms="2")),
        "bool": write("bool.json", tiny_epoch(level=True)),
        "kind": write("kind.json", tiny_epoch(kind="pulse")),
        "list-kind": write("list-kind.json", tiny_epoch(kind=["step"])),
        "billion": write("billion.json", tiny(sweeps=1_000_000_000)),
        "rate": write("rate.json", tiny(sample_rate_khz=1e9)),
        "gigabytes": write("gigabytes.json", tiny_epoch(duration_ms=1e7)),
        "delta": write("delta.json", tiny(sweeps=60)),
        "version": write("version.json", tiny(version=2)),
        "list": write("list.json", [tiny()]),
        "huge-int": write("huge-int.json", text=json.dumps(tiny()).replace(
            '"sweeps": 2', '"sweeps": 1' + "0" * 400)),
        "huge-digits": write("huge-digits.json", text=json.dumps(tiny()).replace(
            '"sweeps": 2', '"sweeps": 1' + "0" * 5000)),
        "deep": write("deep.json", text="[" * 100_000 + "]" * 100_000),
        "empty": write("empty.json", raw=b""),
        "latin": write("latin.json", raw=b"\xff\xfe\xfa{\x80}"),
        "garbage": write("garbage.json", text="{this is not json"),
    }
    paths["missing"] = folder / "missing.json"
    return paths


# --- good runs -------------------------------------------------------------------------

def test_run_shipped_protocol_writes_csv(tmp_path):
    out = tmp_path / "out.csv"
    result = run_subprocess(["run", "vc-iv-family", "-o", out], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Traceback" not in result.stdout
    assert len(result.stdout.splitlines()) == 1
    metadata, header, table = read_csv(out)
    for key in REQUIRED_METADATA:
        assert key in metadata, key
        assert metadata[key] != "", key
    assert metadata["mode"] == "VC"
    assert metadata["cell"] == "hh-squid"
    assert float(metadata["sample_rate_kHz"]) == 50
    assert metadata["seed"] == "0"
    # the hh-squid patch: 1000 um2 at 1 uF/cm2, HH's reversals in squid solutions at 6.3 degC
    assert float(metadata["membrane_area_um2"]) == 1000.0
    assert float(metadata["membrane_capacitance_pF"]) == 10.0
    assert e_rev(metadata)["Na"] == pytest.approx(50.1, abs=0.05)
    assert e_rev(metadata)["K"] == pytest.approx(-77.0, abs=0.05)
    assert header == ["sweep", "time_ms", "Vm_mV", "Im_pA", "command_mV"]
    assert table.shape == (15 * 2500, 5)
    assert np.isfinite(table).all()
    sweeps = table[:, 0].astype(int)
    assert list(np.bincount(sweeps)) == [2500] * 15
    for k in (0, 7, 14):
        rows = table[sweeps == k]
        np.testing.assert_allclose(rows[:, 1], np.arange(2500) * 0.02, atol=1e-5)
        np.testing.assert_allclose(rows[1000, 4], -80 + 10 * k)
        np.testing.assert_allclose(rows[0, 4], -65)
        # hh-squid is clamped ideally: the membrane follows the command, read one
        # sample after it is written
        np.testing.assert_allclose(rows[1:, 2], rows[:-1, 4], atol=1e-3)
        np.testing.assert_allclose(rows[0, 2], -65, atol=1e-3)
    assert no_part_files(tmp_path) == []


def test_signals_all_adds_the_channel_columns(tmp_path, capsys):
    out = tmp_path / "all.csv"
    status, _stdout, err = run_inprocess(
        ["run", "vc-iv-family", "-o", out, "--signals", "all"], capsys)
    assert status == 0, err
    assert err == ""
    _, header, table = read_csv(out)
    assert header[:5] == ["sweep", "time_ms", "Vm_mV", "Im_pA", "command_mV"]
    for column in EXTRA_COLUMNS:
        assert column in header, header
    assert len(set(header)) == len(header)
    assert table.shape == (15 * 2500, len(header))
    for gate in ("m", "h", "n"):
        values = table[:, header.index(gate)]
        assert values.min() >= 0 and values.max() <= 1
    # the steps near 0 mV open sodium channels: a large inward (negative) current
    ina = table[:, header.index("INa_pA")]
    assert ina.min() < -100


def test_npz_output(tmp_path, capsys):
    out = tmp_path / "out.npz"
    status, _stdout, err = run_inprocess(["run", "vc-iv-family", "-o", out], capsys)
    assert status == 0, err
    with np.load(out, allow_pickle=False) as data:
        names = set(data.files)
        assert {"Vm_mV", "Im_pA", "command_mV"} <= names
        assert data["Vm_mV"].shape == (15, 2500)
        np.testing.assert_allclose(data["command_mV"][3, 1000], -50)
        metadata = json.loads(str(data["metadata_json"]))
    for key in REQUIRED_METADATA:
        assert key in metadata, key


def test_npz_signals_all(tmp_path, capsys):
    out = tmp_path / "all.npz"
    status, _, err = run_inprocess(["run", "vc-iv-family", "-o", out, "--signals", "all"],
                                   capsys)
    assert status == 0, err
    with np.load(out, allow_pickle=False) as data:
        for column in EXTRA_COLUMNS:
            assert column in data.files


def test_ion_override_changes_the_sodium_reversal(tmp_path, capsys, files):
    base, low_na = tmp_path / "base.csv", tmp_path / "na44.csv"
    assert run_inprocess(["run", files["tiny"], "-o", base], capsys)[0] == 0
    status, _, err = run_inprocess(["run", files["tiny"], "-o", low_na, "--ion", "out:Na=44"],
                                   capsys)
    assert status == 0, err
    before, _, _ = read_csv(base)
    after, _, _ = read_csv(low_na)
    assert concentrations(after["bath_mM"])["Na"] == 44
    assert concentrations(before["bath_mM"])["Na"] != 44
    inside = concentrations(after["pipette_mM"])["Na"]
    temperature = float(after["temperature_C"])
    assert e_rev(after)["Na"] == pytest.approx(nernst_mv(1, 44, inside, temperature), abs=0.06)
    outside = concentrations(before["bath_mM"])["Na"]
    assert e_rev(before)["Na"] == pytest.approx(nernst_mv(1, outside, inside, temperature),
                                                abs=0.06)
    assert e_rev(after)["Na"] < e_rev(before)["Na"] - 10
    assert e_rev(after)["K"] == e_rev(before)["K"]


def test_inside_ion_override_and_repeated_ions(tmp_path, capsys, files):
    out = tmp_path / "k.csv"
    status, _, err = run_inprocess(["run", files["tiny"], "-o", out, "--ion", "in:K=140",
                                    "--ion", "out:K=5"], capsys)
    assert status == 0, err
    metadata, _, _ = read_csv(out)
    assert concentrations(metadata["pipette_mM"])["K"] == 140
    assert concentrations(metadata["bath_mM"])["K"] == 5
    temperature = float(metadata["temperature_C"])
    assert e_rev(metadata)["K"] == pytest.approx(nernst_mv(1, 5, 140, temperature), abs=0.06)


def test_options_reach_the_metadata(tmp_path, capsys, files):
    out = tmp_path / "opts.csv"
    status, _, err = run_inprocess(["run", files["tiny"], "-o", out, "--temperature", "20",
                                    "--seed", "7", "--dt-us", "5"], capsys)
    assert status == 0, err
    metadata, _, _ = read_csv(out)
    assert float(metadata["temperature_C"]) == 20
    assert metadata["seed"] == "7"
    assert float(metadata["dt_us"]) == 5
    assert metadata["protocol"] == "tiny"


def test_current_clamp_run_writes_command_in_pa(tmp_path, capsys, files):
    out = tmp_path / "cc.csv"
    status, _, err = run_inprocess(["run", files["cc"], "-o", out], capsys)
    assert status == 0, err
    metadata, header, table = read_csv(out)
    assert metadata["mode"] == "CC"
    assert header == ["sweep", "time_ms", "Vm_mV", "Im_pA", "command_pA"]
    assert table[-1, 4] == pytest.approx(50)


def test_run_overwrites_an_earlier_file_completely(tmp_path, capsys, files):
    out = tmp_path / "again.csv"
    out.write_bytes(SENTINEL * 10_000)
    status, _, err = run_inprocess(["run", files["tiny"], "-o", out], capsys)
    assert status == 0, err
    text = out.read_text(encoding="utf-8")
    assert SENTINEL.decode() not in text
    assert read_csv(out)[2].shape[0] == 2 * 60
    assert no_part_files(tmp_path) == []


# --- vrig list -------------------------------------------------------------------------

@pytest.mark.parametrize("what", ["protocols", "cells", "solutions"])
def test_list_prints_one_line_per_preset(what, capsys):
    names = sorted(p.stem for p in (RESOURCES / what).glob("*.json"))
    assert names
    status, out, err = run_inprocess(["list", what], capsys)
    assert status == 0
    assert err == ""
    lines = out.splitlines()
    assert len(lines) == len(names), out
    assert [line.split()[0] for line in lines] == names


def test_list_protocols_in_a_real_process(tmp_path):
    names = sorted(p.stem for p in (RESOURCES / "protocols").glob("*.json"))
    result = run_subprocess(["list", "protocols"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert [line.split()[0] for line in result.stdout.splitlines()] == names


# --- bad input -------------------------------------------------------------------------

BAD_RUNS = {
    # hostile protocol files
    "NaN duration": lambda f, o: ["run", f["nan"], "-o", o],
    "negative duration": lambda f, o: ["run", f["negative"], "-o", o],
    "string duration": lambda f, o: ["run", f["string"], "-o", o],
    "bool level": lambda f, o: ["run", f["bool"], "-o", o],
    "unknown epoch kind": lambda f, o: ["run", f["kind"], "-o", o],
    "list as epoch kind": lambda f, o: ["run", f["list-kind"], "-o", o],
    "a billion sweeps": lambda f, o: ["run", f["billion"], "-o", o],
    "sample rate 1e9 kHz": lambda f, o: ["run", f["rate"], "-o", o],
    "gigabyte durations": lambda f, o: ["run", f["gigabytes"], "-o", o],
    "delta out of range in a later sweep": lambda f, o: ["run", f["delta"], "-o", o],
    "version 2": lambda f, o: ["run", f["version"], "-o", o],
    "top-level list": lambda f, o: ["run", f["list"], "-o", o],
    "400-digit integer": lambda f, o: ["run", f["huge-int"], "-o", o],
    "5000-digit integer": lambda f, o: ["run", f["huge-digits"], "-o", o],
    "deeply nested": lambda f, o: ["run", f["deep"], "-o", o],
    "0-byte file": lambda f, o: ["run", f["empty"], "-o", o],
    "non-UTF8 file": lambda f, o: ["run", f["latin"], "-o", o],
    "not JSON": lambda f, o: ["run", f["garbage"], "-o", o],
    "missing protocol file": lambda f, o: ["run", f["missing"], "-o", o],
    "unknown protocol name": lambda f, o: ["run", "no-such-protocol", "-o", o],
    # presets
    "unknown cell": lambda f, o: ["run", f["tiny"], "-o", o, "--cell", "no-such-cell"],
    "unknown bath": lambda f, o: ["run", f["tiny"], "-o", o, "--bath", "no-such-bath"],
    "unknown pipette": lambda f, o: ["run", f["tiny"], "-o", o, "--pipette", "nope"],
    # concentrations
    "--ion out:Na=0": lambda f, o: ["run", f["tiny"], "-o", o, "--ion", "out:Na=0"],
    "--ion out:Na=-5": lambda f, o: ["run", f["tiny"], "-o", o, "--ion", "out:Na=-5"],
    "--ion out:Na=nan": lambda f, o: ["run", f["tiny"], "-o", o, "--ion", "out:Na=nan"],
    "--ion out:Na=inf": lambda f, o: ["run", f["tiny"], "-o", o, "--ion", "out:Na=inf"],
    "--ion garbage": lambda f, o: ["run", f["tiny"], "-o", o, "--ion", "garbage"],
    "--ion unknown ion": lambda f, o: ["run", f["tiny"], "-o", o, "--ion", "out:Xx=5"],
    "--ion bad side": lambda f, o: ["run", f["tiny"], "-o", o, "--ion", "up:Na=5"],
    "--ion not a number": lambda f, o: ["run", f["tiny"], "-o", o, "--ion", "out:Na=lots"],
    # temperature
    "--temperature 50": lambda f, o: ["run", f["tiny"], "-o", o, "--temperature", "50"],
    "--temperature -1": lambda f, o: ["run", f["tiny"], "-o", o, "--temperature=-1"],
    "--temperature abc": lambda f, o: ["run", f["tiny"], "-o", o, "--temperature", "abc"],
    "--temperature nan": lambda f, o: ["run", f["tiny"], "-o", o, "--temperature", "nan"],
    "--temperature inf": lambda f, o: ["run", f["tiny"], "-o", o, "--temperature", "inf"],
    # time step and seed
    "--dt-us 0": lambda f, o: ["run", f["tiny"], "-o", o, "--dt-us", "0"],
    "--dt-us nan": lambda f, o: ["run", f["tiny"], "-o", o, "--dt-us", "nan"],
    "--dt-us -10": lambda f, o: ["run", f["tiny"], "-o", o, "--dt-us=-10"],
    "--dt-us abc": lambda f, o: ["run", f["tiny"], "-o", o, "--dt-us", "abc"],
    "--dt-us 1e6": lambda f, o: ["run", f["tiny"], "-o", o, "--dt-us", "1e6"],
    "--seed x": lambda f, o: ["run", f["tiny"], "-o", o, "--seed", "x"],
    "--seed 1.5": lambda f, o: ["run", f["tiny"], "-o", o, "--seed", "1.5"],
    "--seed -1": lambda f, o: ["run", f["tiny"], "-o", o, "--seed=-1"],
    # arguments
    "--signals bogus": lambda f, o: ["run", f["tiny"], "-o", o, "--signals", "bogus"],
    "unknown option": lambda f, o: ["run", f["tiny"], "-o", o, "--frobnicate"],
    "missing -o": lambda f, o: ["run", f["tiny"]],
    "missing protocol": lambda f, o: ["run", "-o", o],
    "unknown command": lambda f, o: ["frobnicate"],
    "list nothing": lambda f, o: ["list", "nothing"],
}

BAD_OUTPUTS = {
    "unknown extension": "out.txt",
    "no extension": "out",
    "missing folder": "no/such/folder/out.csv",
    "output is a folder": "folder.csv",
}


def check_bad(status, out, err, folder, target, existed):
    assert_one_error_line(status, out, err)
    if existed:
        assert target.read_bytes() == SENTINEL
    else:
        assert not target.exists() or target.is_dir()
    assert no_part_files(folder) == []


@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
@pytest.mark.parametrize("case", sorted(BAD_RUNS))
def test_bad_run_exits_2_with_one_line(case, existing, tmp_path, capsys, files):
    target = tmp_path / "out.csv"
    if existing:
        target.write_bytes(SENTINEL)
    status, out, err = run_inprocess(BAD_RUNS[case](files, target), capsys)
    check_bad(status, out, err, tmp_path, target, existing)


@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
@pytest.mark.parametrize("case", sorted(BAD_OUTPUTS))
def test_bad_output_path_exits_2_with_one_line(case, existing, tmp_path, capsys, files):
    target = tmp_path / BAD_OUTPUTS[case]
    if case == "output is a folder":
        target.mkdir()
        existing = False
    elif existing and case != "missing folder":
        target.write_bytes(SENTINEL)
    else:
        existing = False
    status, out, err = run_inprocess(["run", files["tiny"], "-o", target], capsys)
    check_bad(status, out, err, tmp_path, target, existing)
    if case == "output is a folder":
        assert target.is_dir() and list(target.iterdir()) == []


def test_failure_to_create_the_file_exits_2(tmp_path, capsys, files, monkeypatch):
    """A folder the rig may not write to (here: creating the temporary file fails)."""
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    target = tmp_path / "out.csv"
    target.write_bytes(SENTINEL)
    status, out, err = run_inprocess(["run", files["tiny"], "-o", target], capsys)
    check_bad(status, out, err, tmp_path, target, True)


def test_failure_to_rename_the_file_exits_2(tmp_path, capsys, files, monkeypatch):
    real_replace = os.replace

    def refuse(src, dst, *args, **kwargs):
        if str(dst).endswith("out.csv"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", refuse)
    target = tmp_path / "out.csv"
    target.write_bytes(SENTINEL)
    status, out, err = run_inprocess(["run", files["tiny"], "-o", target], capsys)
    check_bad(status, out, err, tmp_path, target, True)


# a few of the above through the real console script
SUBPROCESS_CASES = {
    "hostile protocol": lambda f, o: ["run", f["list-kind"], "-o", o],
    "--temperature 50": lambda f, o: ["run", f["tiny"], "-o", o, "--temperature", "50"],
    "--ion out:Na=0": lambda f, o: ["run", f["tiny"], "-o", o, "--ion", "out:Na=0"],
}


@pytest.mark.parametrize("case", sorted(SUBPROCESS_CASES))
def test_bad_run_in_a_real_process(case, tmp_path, files):
    target = tmp_path / "out.csv"
    target.write_bytes(SENTINEL)
    result = run_subprocess(SUBPROCESS_CASES[case](files, target), cwd=tmp_path)
    check_bad(result.returncode, result.stdout, result.stderr, tmp_path, target, True)


def test_bad_extension_in_a_real_process(tmp_path):
    result = run_subprocess(["run", "vc-iv-family", "-o", tmp_path / "out.xlsx"], cwd=tmp_path)
    check_bad(result.returncode, result.stdout, result.stderr, tmp_path,
              tmp_path / "out.xlsx", False)
