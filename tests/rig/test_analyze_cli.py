"""``vrig analyze`` on recordings written by ``vrig run``: the same table as the tab's
analysis, one row per sweep, the family's results as '# name: value unit' lines; bad
input gives one 'vrig: error:' line and status 2 and leaves files alone."""

import csv
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli import run_inprocess, run_subprocess

import rig
from rig.analysis.report import AnalysisSettings, analysis_csv
from rig.analysis.sweep_family import SweepFamily
from rig.files.recording import load_recording

FORMATS = (".csv", ".npz", ".abf")


def parse(text):
    """(facts {name: (value, unit)}, header, rows as dicts of floats) of analyze output."""
    facts, lines = {}, text.splitlines()
    body = [line for line in lines if not line.startswith("#")]
    for line in lines:
        if line.startswith("# ") and ": " in line:
            name, _, rest = line[2:].partition(": ")
            value, _, unit = rest.partition(" ")
            facts.setdefault(name, (value, unit))
    reader = csv.DictReader(io.StringIO("\n".join(body)))
    rows = [{k: float(v) for k, v in row.items()} for row in reader]
    return facts, reader.fieldnames, rows


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """cc-threshold and vc-iv-family written by `vrig run` in each format, and the
    recordings made in memory by the same engine."""
    folder = tmp_path_factory.mktemp("recordings")
    setup = rig.Rig.from_presets("hh-squid")
    made = {}
    for name in ("cc-threshold", "vc-iv-family"):
        made[name] = setup.run(rig.load_protocol(name))
        for ext in FORMATS:
            path = folder / f"{name}{ext}"
            from ui import cli
            assert cli.main(["run", name, "-o", str(path)]) == 0
    return folder, made


@pytest.mark.parametrize("ext", FORMATS)
def test_threshold_recording_first_firing_sweep_and_spike(recordings, capsys, ext):
    folder, made = recordings
    status, out, err = run_inprocess(["analyze", folder / f"cc-threshold{ext}"], capsys)
    assert status == 0 and err == ""
    facts, header, rows = parse(out)
    assert header[:4] == ["sweep", "stimulus_pA", "spikes", "latency_ms"]
    assert len(rows) == 12 and [r["sweep"] for r in rows] == list(range(1, 13))
    assert facts["first_firing_sweep"][0] == "6"
    assert float(facts["rheobase"][0]) == pytest.approx(70.0, abs=0.01)  # ABF: 16-bit levels
    assert facts["rheobase"][1] == "pA"
    assert [r["spikes"] for r in rows] == [0] * 5 + [1] * 7
    # the same numbers as the analysis of the recording in memory (test_cc_analysis holds
    # those against an LSODA reference): CSV keeps 7 significant digits, NPZ all of them,
    # ABF 16-bit samples (tens of uV, which move the dV/dt threshold by a few uV)
    expected = rig.analysis.report.analyze(SweepFamily.from_recording(made["cc-threshold"]))
    tolerance = 0.02 if ext == ".abf" else 2e-3
    for key in ("threshold_mV", "peak_mV", "half_width_ms", "ahp_mV", "latency_ms"):
        assert rows[5][key] == pytest.approx(expected.rows[5][key], abs=tolerance), key


@pytest.mark.parametrize("ext", FORMATS)
def test_iv_recording_reversal_and_g_v(recordings, capsys, ext):
    folder, _ = recordings
    status, out, _ = run_inprocess(["analyze", folder / f"vc-iv-family{ext}"], capsys)
    assert status == 0
    facts, header, rows = parse(out)
    assert len(rows) == 15 and header[:3] == ["sweep", "V_mV", "peak_pA"]
    # the exact reversal of the peak current is 43.5551 mV (test_vc_analysis); the ABF
    # stores currents in 16 bits
    tolerance = 0.05 if ext == ".abf" else 0.002
    assert float(facts["E_rev"][0]) == pytest.approx(43.5551, abs=tolerance)
    assert float(facts["GV_V_half"][0]) == pytest.approx(-16.518, abs=5 * tolerance)
    assert facts["GV_slope"][1] == "mV" and facts["GV_Gmax"][1] == "nS"


def test_output_file_holds_what_is_printed(recordings, capsys, tmp_path):
    folder, _ = recordings
    source = folder / "cc-threshold.npz"
    _, printed, _ = run_inprocess(["analyze", source], capsys)
    out = tmp_path / "table.csv"
    status, said, _ = run_inprocess(["analyze", source, "-o", out], capsys)
    assert status == 0 and said == ""
    assert out.read_text() == printed


def test_windows_and_criteria_from_the_command_line(recordings, capsys):
    folder, _made = recordings
    source = folder / "cc-threshold.csv"
    # a spike window that ends before the 70 pA spike starts (9.5 ms) misses it
    _, out, _ = run_inprocess(["analyze", source, "--window1", "5,9"], capsys)
    facts, _, rows = parse(out)
    assert rows[5]["spikes"] == 0 and facts["first_firing_sweep"][0] == "7"
    assert "window1" in facts and facts["window1"][0] == "5"
    _, out, _ = run_inprocess(["analyze", source, "--dvdt", "50"], capsys)
    strict = parse(out)[2][5]["threshold_mV"]
    assert strict > parse(run_inprocess(["analyze", source], capsys)[1])[2][5]["threshold_mV"]
    # the text is the one the tab exports
    settings = AnalysisSettings(windows=((0.005, 0.009), None, None))
    family = SweepFamily.from_recording(load_recording(source))
    assert analysis_csv(family, settings, source.name) == \
        run_inprocess(["analyze", source, "--window1", "5,9"], capsys)[1]


def test_signal_choice(recordings, capsys, tmp_path):
    path = tmp_path / "all.npz"
    assert run_inprocess(["run", "vc-iv-family", "-o", path, "--signals", "all"], capsys)[0] == 0
    status, out, _ = run_inprocess(["analyze", path, "--signal", "INa", "--polarity", "abs"],
                                   capsys)
    facts, _, _ = parse(out)
    assert status == 0 and float(facts["E_rev"][0]) == pytest.approx(50.075, abs=0.1)
    assert facts["signal"][0] == "INa"


def one_error(status, out, err):
    assert status == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vrig: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("args, says", [
    (["--window1", "5"], "two times in ms"),
    (["--window1", "a,b"], "--window1 'a' is not a valid number"),
    (["--window2", "10,5"], "must end after it starts"),
    (["--window3", "500,600"], "outside the sweeps"),
    (["--dvdt", "0"], "--dvdt 0 is outside the allowed 0.1 to 1000 mV/ms"),
    (["--dvdt", "inf"], "--dvdt inf is outside the allowed 0.1 to 1000 mV/ms"),
    (["--detect", "-500"], "--detect -500 is outside the allowed -200 to 100 mV"),
    (["--recovery", "0"], "--recovery 0 is outside the allowed 1 to 100 %"),
    (["--signal", "INa"], "cannot measure 'INa'"),
    (["--signal", "command"], "cannot measure 'command'"),
    (["--polarity", "up"], "invalid choice"),
])
def test_bad_options_give_one_line(recordings, capsys, args, says):
    folder, _ = recordings
    line = one_error(*run_inprocess(["analyze", folder / "cc-threshold.csv"] + args, capsys))
    assert says in line


def test_bad_files_give_one_line(recordings, capsys, tmp_path):
    folder, _ = recordings
    assert "does not exist" in one_error(*run_inprocess(["analyze", tmp_path / "no.csv"], capsys))
    junk = tmp_path / "junk.csv"
    junk.write_text("hello\n1,2\n")
    assert "not a vRig CSV" in one_error(*run_inprocess(["analyze", junk], capsys))
    nocommand = tmp_path / "nocommand.csv"
    nocommand.write_text("sweep,time_ms,Vm_mV\n" + "".join(f"0,{k * 0.02:.2f},-65\n"
                                                         for k in range(20)))
    assert "no command channel" in one_error(*run_inprocess(["analyze", nocommand], capsys))
    short = tmp_path / "short.csv"
    short.write_text("sweep,time_ms,Vm_mV,command_pA\n0,0,-65,0\n0,0.02,-65,0\n")
    assert "at least 10" in one_error(*run_inprocess(["analyze", short], capsys))
    source = folder / "cc-threshold.csv"
    kept = tmp_path / "kept.txt"
    kept.write_text("keep me")
    assert ".csv file" in one_error(*run_inprocess(["analyze", source, "-o", kept], capsys))
    assert kept.read_text() == "keep me"
    missing = tmp_path / "none" / "t.csv"
    assert "does not exist" in one_error(*run_inprocess(["analyze", source, "-o", missing],
                                                        capsys))
    assert "the recording itself" in one_error(*run_inprocess(["analyze", source, "-o", source],
                                                              capsys))
    assert load_recording(source).n_sweeps == 12


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=20))
def test_any_window_text_is_handled(recordings, capsys, text):
    folder, _ = recordings
    status, out, err = run_inprocess(["analyze", folder / "vc-iv-family.npz",
                                      f"--window1={text}"], capsys)
    if status == 0:
        assert parse(out)[2]
    else:
        one_error(status, out, err)


def test_the_installed_command(recordings, tmp_path):
    folder, _ = recordings
    result = run_subprocess(["analyze", folder / "vc-iv-family.csv", "--window1", "10.2,15"],
                            tmp_path)
    assert result.returncode == 0
    facts, _, rows = parse(result.stdout)
    assert len(rows) == 15 and float(facts["E_rev"][0]) == pytest.approx(43.5551, abs=0.002)
    bad = run_subprocess(["analyze", folder / "vc-iv-family.csv", "--window1", "x"], tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("vrig: error:") and not bad.stdout
    assert np.isfinite(float(facts["GV_V_half"][0]))
