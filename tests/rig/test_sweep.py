"""`vrig sweep`: a tidy table with the measures and metadata of every point, the same
whether it ran here, in a process pool or on a Dask cluster, resumed from its cache
without recomputing finished points, and one error line for bad input."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig.dynamics import sweep_exec
from rig.dynamics.sweep_spec import grid, parse_vary
from rig.errors import VrigError
from ui import cli as ui_cli

STEP = {"format": "vrig-protocol", "version": 1, "name": "short step", "mode": "CC",
        "holding": 0, "sample_rate_khz": 20, "sweeps": 1, "sweep_interval_ms": 70,
        "epochs": [{"kind": "step", "duration_ms": 5, "level": 0},
                   {"kind": "step", "duration_ms": 50, "level": 0},
                   {"kind": "step", "duration_ms": 5, "level": 0}]}
VARY = ["--vary", "protocol.epoch2.level=0:200:3"]
MEASURES = ["--measure", "spike_count,rate_hz", "--measure", "first_spike_ms,peak_mV"]


@pytest.fixture
def protocol(tmp_path):
    path = tmp_path / "step.json"
    path.write_text(json.dumps(STEP))
    return str(path)


def _sweep(protocol, output, *extra):
    return ui_cli.main(["sweep", protocol, *VARY, *MEASURES, "-o", str(output), *extra])


def _table(path):
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","))) for line in lines[1:]]


def test_a_sweep_writes_one_row_per_point_with_measures_and_metadata(tmp_path, protocol,
                                                                      capsys):
    out = tmp_path / "t.csv"
    assert _sweep(protocol, out, "--workers", "1") == 0
    rows = _table(out)
    assert [float(r["protocol.epoch2.level"]) for r in rows] == [0, 100, 200]
    # 0 pA rests; 100 and 200 pA (10 and 20 uA/cm^2, above the Hopf) fire
    assert float(rows[0]["spike_count"]) == 0 and rows[0]["first_spike_ms"] == ""
    assert float(rows[1]["spike_count"]) >= 2 and float(rows[2]["spike_count"]) >= 2
    assert float(rows[2]["rate_hz"]) > float(rows[1]["rate_hz"]) > 0
    assert all(r["meta_cell"] == "hh-squid" and r["meta_temperature_C"] == "6.3" for r in rows)
    assert "3 points (0 from the cache" in capsys.readouterr().out


def test_an_interrupted_sweep_resumes_without_recomputing(tmp_path, protocol, monkeypatch,
                                                          capsys):
    out = tmp_path / "t.csv"
    assert _sweep(protocol, out, "--workers", "1") == 0
    first = out.read_bytes()
    cache = tmp_path / "t.csv.cache"
    files = sorted(cache.glob("*.json"))
    assert len(files) == 3
    files[1].unlink()  # as if the sweep had stopped before this point finished
    calls = []
    real = sweep_exec.run_task
    monkeypatch.setattr(sweep_exec, "run_task", lambda task: calls.append(task) or real(task))
    out.unlink()
    assert _sweep(protocol, out, "--workers", "1") == 0
    assert len(calls) == 1 and out.read_bytes() == first
    assert "(2 from the cache" in capsys.readouterr().out


def test_process_pool_and_dask_cluster_give_the_local_table(tmp_path, protocol):
    distributed = pytest.importorskip("distributed")
    noisy = ["--noise", "on", "--measure", "baseline_mV", "--vary", "seed=1:2:2"]
    local = tmp_path / "local.csv"
    assert _sweep(protocol, local, "--workers", "1", *noisy) == 0
    rows = _table(local)
    # with the noise on, each seed draws its own: the baselines differ by seed
    assert rows[0]["baseline_mV"] != rows[1]["baseline_mV"]
    assert rows[0]["protocol.epoch2.level"] == rows[1]["protocol.epoch2.level"]
    pool = tmp_path / "pool.csv"
    assert _sweep(protocol, pool, "--workers", "2", *noisy) == 0
    assert pool.read_bytes() == local.read_bytes()
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  host="127.0.0.1", protocol="tcp", scheduler_port=0,
                                  dashboard_address=None) as cluster:
        remote = tmp_path / "dask.csv"
        assert _sweep(protocol, remote, "--scheduler", cluster.scheduler_address, *noisy) == 0
    assert remote.read_bytes() == local.read_bytes()


@pytest.mark.parametrize("argv, message", [
    (["--vary", "nonsense=0:1:2"], "unknown parameter 'nonsense'"),
    (["--vary", "temperature=6:20:0"], "N must be at least 1"),
    (["--vary", "temperature=20:6:3"], "reversed"),
    (["--vary", "temperature=6:20"], "START:STOP:N"),
    (["--vary", "temperature=6:20:2", "--vary", "temperature=1:2:2"], "given twice"),
    (["--vary", "channel.no-such=1:2:2"], "no-such"),
    (["--vary", "temperature=6:20:2", "--measure", "banana"], "unknown measure"),
    (["--vary", "temperature=6:20:2", "--scheduler", "localhost:1"], "tcp://"),
    (["--vary", "leak.Zn=0:1:2"], "a leak component is one of"),
    (["--vary", "cell.cm=0:1:2"], "outside the allowed 0.1 to 10 uF/cm2"),
    (["--vary", "protocol.epoch9.level=0:1:2"], "the protocol has 3 epochs"),
    (["--vary", "drug.NOPE=1:2:2"], "unknown drug"),
    (["--vary", "bath.K=-5:1:2"], "concentration of K"),
])
def test_bad_sweep_input_is_one_error_line(tmp_path, protocol, capsys, argv, message):
    out = tmp_path / "t.csv"
    assert ui_cli.main(["sweep", protocol, *argv, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vrig: error:") and message in err[0]
    assert list(tmp_path.iterdir()) == [tmp_path / "step.json"]


def test_an_unreachable_scheduler_fails_quickly_and_writes_nothing(tmp_path, protocol,
                                                                   capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(sweep_exec, "SCHEDULER_TIMEOUT_S", 1.0)  # 5 s for people
    out = tmp_path / "t.csv"
    assert _sweep(protocol, out, "--scheduler", "tcp://127.0.0.1:9") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot reach the Dask scheduler" in err[0]
    assert list(tmp_path.iterdir()) == [tmp_path / "step.json"]


def test_parquet_without_pyarrow_is_a_clear_error(tmp_path, protocol, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyarrow" else real(name, *a))
    assert _sweep(protocol, tmp_path / "t.parquet") == 2
    assert "needs pyarrow" in capsys.readouterr().err


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_vary_text_is_a_range_or_a_vrig_error(text):
    try:
        vary = parse_vary(text)
    except VrigError as exc:
        assert "\n" not in str(exc)
        return
    assert vary.values and list(vary.values) == sorted(vary.values)


@settings(max_examples=100, deadline=None)
@given(st.floats(-1e6, 1e6), st.floats(0, 1e6), st.integers(1, 50))
def test_a_range_gives_n_values_from_start_to_stop(start, span, n):
    (point_values,) = [parse_vary(f"temperature={start!r}:{start + span!r}:{n}").values]
    assert len(point_values) == n and point_values[0] == start
    if n > 1:
        assert point_values[-1] == pytest.approx(start + span)


def test_the_grid_is_the_product_first_name_slowest():
    points = grid([parse_vary("temperature=5:6:2"), parse_vary("bath.K=1:3:3")])
    assert [(p["temperature"], p["bath.K"]) for p in points] == [
        (5, 1), (5, 2), (5, 3), (6, 1), (6, 2), (6, 3)]
