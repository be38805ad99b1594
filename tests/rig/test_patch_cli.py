"""`vrig run` with counted channels: --cell patch-na --channels N, --stochastic on|off,
the metadata they add, and one clear error (exit status 2) for each bad input."""

import json

import numpy as np
import pytest

from tests.rig.test_cli import assert_one_error_line, read_csv, run_inprocess

SHORT = {"format": "vrig-protocol", "version": 1, "name": "short patch", "mode": "VC",
         "holding": -100, "sample_rate_khz": 10, "sweeps": 3, "sweep_interval_ms": 10,
         "epochs": [{"kind": "step", "duration_ms": 1, "level": -100},
                    {"kind": "step", "duration_ms": 5, "level": -40}]}


@pytest.fixture
def protocol(tmp_path):
    path = tmp_path / "short.json"
    path.write_text(json.dumps(SHORT), encoding="utf-8")
    return path


def test_patch_run_with_a_channel_count_writes_counts_and_conductances(tmp_path, capsys,
                                                                      protocol):
    out = tmp_path / "patch.csv"
    status, _, err = run_inprocess(["run", protocol, "--cell", "patch-na", "--channels", "50",
                                    "-o", out], capsys)
    assert status == 0, err
    metadata, header, table = read_csv(out)
    assert metadata["channels"] == "Na=50"
    assert metadata["unitary_conductance_pS"] == "Na=20"
    assert metadata["stochastic"] == "on"
    assert metadata["channel_algorithm"] == "Na=exact"
    assert metadata["patch_configuration"] == "outside-out"
    im = table[:, header.index("Im_pA")]
    e_na = float(dict(item.split("=") for item in metadata["E_rev_mV"].split())["Na"])
    unitary = 20e-3 * (-40 - e_na)
    # during the step, after its capacitive sample: whole numbers of openings
    step = np.isclose(table[:, header.index("Vm_mV")], -40)
    settled = step & np.r_[False, step[:-1]]
    # E_rev in the header is rounded to 0.1 mV: take i from the smallest opening
    levels = im[settled]
    smallest = levels[np.abs(levels) > 1e-9][np.argmin(np.abs(levels[np.abs(levels) > 1e-9]))]
    assert smallest == pytest.approx(unitary, rel=2e-3)
    n_open = levels / smallest
    # exact in the rig (test_stochastic); here to the CSV's 7 significant digits
    np.testing.assert_allclose(n_open, np.round(n_open), atol=1e-5)
    assert np.round(n_open).max() >= 1


def test_stochastic_off_gives_the_mean_and_on_a_whole_cell_gives_noise(tmp_path, capsys,
                                                                       protocol):
    runs = {}
    for cell, setting in (("patch-na", "off"), ("hh-squid", "on"), ("hh-squid", "off")):
        out = tmp_path / f"{cell}-{setting}.csv"
        status, _, err = run_inprocess(["run", protocol, "--cell", cell, "--stochastic",
                                        setting, "-o", out], capsys)
        assert status == 0, err
        runs[cell, setting] = read_csv(out)
    metadata, header, table = runs["patch-na", "off"]
    assert metadata["stochastic"] == "off" and metadata["channel_algorithm"] == "Na=mean"
    assert metadata["channels"] == "Na=20"
    mean_im = table[:, header.index("Im_pA")][15:60]
    # the mean of 20 channels: smooth and inward, never a whole number of openings
    assert mean_im.max() < 0 and np.unique(mean_im).size > 30
    metadata, _, _ = runs["hh-squid", "on"]
    assert metadata["channels"] == "Na=60000 K=18000"
    assert metadata["unitary_conductance_pS"] == "Na=20 K=20"
    assert "channels" not in runs["hh-squid", "off"][0]
    on = runs["hh-squid", "on"]
    off = runs["hh-squid", "off"]
    im_on = on[2][:, on[1].index("Im_pA")]
    im_off = off[2][:, off[1].index("Im_pA")]
    assert not np.array_equal(im_on, im_off)
    # the noise is that of 78 000 channels: small against the current, but there
    assert 0 < np.abs(im_on - im_off)[12:].max() < 0.2 * np.abs(im_off[12:]).max()


@pytest.mark.parametrize(("args", "message"), [
    (["--cell", "patch-na", "--channels", "-5"], "whole number from 0"),
    (["--cell", "patch-na", "--channels", "2.5"], "whole number"),
    (["--cell", "patch-na", "--channels", "Na=1e3"], "whole number"),
    (["--cell", "patch-na", "--channels", "K=5"], "no K channels"),
    (["--cell", "patch-na", "--channels", "=5"], "LABEL=N"),
    (["--cell", "hh-squid", "--channels", "50"], "give each count with its label"),
    (["--cell", "patch-na", "--stochastic", "maybe"], "--stochastic"),
    (["--cell", "patch-na", "--rs", "5"], "ideal voltage clamp"),
    (["--cell", "squid-axon", "--stochastic", "on"], "single compartment"),
    (["--cell", "patch-na", "--patch-config", "whole-cell"], "must be one of"),
    (["--cell", "hh-squid", "--patch-config", "inside-out"], "is a whole cell"),
])
def test_bad_channel_options_give_one_error_line(tmp_path, capsys, protocol, args, message):
    status, out, err = run_inprocess(["run", protocol, *args, "-o", tmp_path / "x.csv"], capsys)
    assert_one_error_line(status, out, err)
    assert message in err


def test_a_bad_scheme_file_is_one_error_line(tmp_path, capsys, protocol, monkeypatch):
    """A shipped scheme whose rates are negative, or whose states do not connect,
    stops the patch that uses it with one clear line."""
    import shutil

    from rig import resources

    copied = tmp_path / "presets"
    shutil.copytree(resources.resources_dir(), copied)
    scheme = copied / "schemes" / "hh-na-markov.json"
    data = json.loads(scheme.read_text(encoding="utf-8"))
    data["transitions"] = data["transitions"][:4]
    scheme.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(resources, "resources_dir", lambda: copied)
    status, out, err = run_inprocess(["run", protocol, "--cell", "patch-na", "-o",
                                      tmp_path / "x.csv"], capsys)
    assert_one_error_line(status, out, err)
    assert "hh-na-markov" in err and "connect" in err


def test_patch_config_inside_out_reads_inward_openings_upward(tmp_path, capsys):
    """Inside-out, Vp +100 -> +40 mV puts the membrane at -100 -> -40 mV: Na
    channels open and pass inward current, which reads positive (upward; Axon
    convention), in whole multiples of 20 pS x (E_Na + 40 mV)."""
    mirrored = dict(SHORT, holding=100, sweeps=5,
                    epochs=[{"kind": "step", "duration_ms": 1, "level": 100},
                            {"kind": "step", "duration_ms": 5, "level": 40}])
    path = tmp_path / "mirrored.json"
    path.write_text(json.dumps(mirrored), encoding="utf-8")
    out = tmp_path / "io.csv"
    status, _, err = run_inprocess(["run", path, "--cell", "patch-na", "--channels", "50",
                                    "--patch-config", "inside-out", "-o", out], capsys)
    assert status == 0, err
    meta, header, table = read_csv(out)
    assert meta["patch_configuration"] == "inside-out"
    assert "Vm=-Vp" in meta["patch_polarity"]
    time_ms, im = table[:, header.index("time_ms")], table[:, header.index("Im_pA")]
    pulse = im[time_ms > 1.15]
    e_na = float(dict(p.split("=") for p in meta["E_rev_mV"].split())["Na"])
    unitary = 20e-3 * (e_na + 40.0)  # pA, inward current read upward
    levels = pulse / unitary
    # E_Na is in the header to 0.1 mV: the levels match to 0.1 / 90 of a level
    np.testing.assert_allclose(levels, np.round(levels), atol=3e-3)
    assert levels.min() >= 0 and levels.max() >= 1
