"""`vrig run` with the pump, accumulation and fast-forward options."""

import pytest

from rig.files.formats import read_parts
from tests.rig.test_cli import run_inprocess


@pytest.fixture(scope="module")
def short_protocol(tmp_path_factory):
    import json

    from rig.protocols.protocol import load_protocol
    data = load_protocol("cc-step-family").to_dict()
    data["sweeps"] = 1
    path = tmp_path_factory.mktemp("p") / "short.json"
    path.write_text(json.dumps(data))
    return path


def test_columns_and_metadata(tmp_path, capsys, short_protocol):
    out = tmp_path / "a.csv"
    status, _, err = run_inprocess(["run", str(short_protocol), "-o", str(out), "--pump", "on",
                                    "--accumulation", "on", "--signals", "all",
                                    "--fast-forward", "600"], capsys)
    assert status == 0, err
    parts = read_parts(out)
    for name in ("Na_in", "K_in", "K_out", "Ipump", "E_Na", "E_K"):
        assert name in parts.signals
    meta = parts.metadata
    assert meta["pump"] == "on" and meta["accumulation"] == "on"
    assert meta["fast_forward_s"] == "600"
    assert meta["cell_volume_um3"].startswith("11")
    assert parts.signals["Ipump"][0, 0] > 10e-12  # about 17 pA outward


@pytest.mark.parametrize("args, message", [
    (["--accumulation", "on", "--pump-density", "-1"], "pump density"),
    (["--fast-forward", "60"], "accumulation on"),
    (["--accumulation", "on", "--fast-forward", "-5"], "fast-forward duration"),
    # in 40 mM K the squid axon's rest is unstable: it fires on its own
    (["--accumulation", "on", "--ion", "out:K=40", "--fast-forward", "60"], "skip spikes"),
])
def test_bad_input_is_one_error_line(tmp_path, capsys, short_protocol, args, message):
    status, _, err = run_inprocess(["run", str(short_protocol), "-o", str(tmp_path / "x.csv")]
                                   + args, capsys)
    assert status == 2
    assert err.startswith("vrig: error:") and message in err and err.count("\n") == 1
