"""`vrig run` on a fibre: the cell options (--length-mm, --diameter-um, --compartments)
reach the simulation and the file header, and bad input is one `vrig: error:` line,
exit status 2 and nothing written."""

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rig.cli.main import main
from rig.files.recording import load_recording
from rig.model.cell import load_cell, resize_fibre
from rig.model.geometry import FIBRE_MEMORY_BYTES, bytes_per_compartment, compartment_limit

# 3 ms of CC at 40 kHz: a 20 us pulse at 0.5 ms, then nothing
SHORT_CC = {"format": "vrig-protocol", "version": 1, "name": "short", "mode": "CC",
            "holding": 0, "sample_rate_khz": 40, "sweeps": 1, "sweep_interval_ms": 0,
            "epochs": [{"kind": "step", "duration_ms": 0.5, "level": 0},
                       {"kind": "step", "duration_ms": 0.1, "level": 2000},
                       {"kind": "step", "duration_ms": 2.4, "level": 0}]}


@pytest.fixture(scope="module")
def protocol(tmp_path_factory):
    path = tmp_path_factory.mktemp("protocols") / "short.json"
    path.write_text(json.dumps(SHORT_CC))
    return path


def run(args, capsys):
    """(status, stdout, stderr) of `vrig args` in this process."""
    capsys.readouterr()
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def assert_refused(args, capsys, tmp_path, *fragments):
    """`vrig run ... -o out.csv` exits 2 with one 'vrig: error:' line holding each
    fragment, and writes nothing."""
    out_file = tmp_path / "out.csv"
    status, out, err = run(list(args) + ["-o", out_file], capsys)
    assert status == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vrig: error: "), err
    for fragment in fragments:
        assert fragment in lines[0]
    assert "wrote" not in out
    assert list(tmp_path.iterdir()) == [] or not out_file.exists()
    assert not any(p.name.startswith("out.csv") for p in tmp_path.iterdir())


def test_the_geometry_options_reach_the_run_and_the_header(protocol, tmp_path, capsys):
    """thin-fibre made 2 mm long, 0.5 um across, in 40 pieces: the header gives the
    new geometry, a column per site named Vm_mV@<site>mm, and the AP (a 2 nA, 0.1 ms
    pulse at 0 mm) reaches 1.5 mm after 0.5 mm."""
    out = tmp_path / "geometry.csv"
    status, _, err = run(["run", protocol, "--cell", "thin-fibre", "--length-mm", "2",
                          "--diameter-um", "0.5", "--compartments", "40", "--record-at",
                          "0.5,1.5", "--dt-us", "25", "-o", out], capsys)
    assert status == 0, err
    recording = load_recording(out)
    meta = recording.metadata
    assert (meta["length_mm"], meta["diameter_um"], meta["compartments"]) == ("2", "0.5", "40")
    resistivity = load_cell("thin-fibre").geometry.axial_resistivity_ohm_cm
    assert meta["axial_resistivity_ohm_cm"] == f"{resistivity:g}"
    assert meta["recording_sites"] == "Vm@0.5mm, Vm@1.5mm"
    header = next(line for line in out.read_text().splitlines() if not line.startswith("#"))
    assert header.endswith("Vm_mV@0.5mm,Vm_mV@1.5mm")
    near, far = recording.sweep("Vm@0.5mm", 0), recording.sweep("Vm@1.5mm", 0)
    assert near.max() > 0 and far.max() > 0
    assert np.argmax(far > 0) > np.argmax(near > 0)


def test_a_length_alone_keeps_the_compartment_length():
    cell = load_cell("thin-fibre")  # 5 mm in 500 pieces of 10 um
    longer = resize_fibre(cell, length_um=12_000.0)
    assert longer.geometry.n_compartments == 1200
    assert longer.area_um2 == pytest.approx(cell.area_um2 * 12 / 5)
    myelinated = load_cell("myelinated-axon")
    myelin = myelinated.geometry.myelin
    period = myelin.internode_length_um + myelin.node_length_um
    twice = resize_fibre(myelinated, length_um=2 * myelinated.geometry.length_um)
    assert twice.geometry.n_internodes == pytest.approx(
        2 * myelinated.geometry.length_um / period, abs=1)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(option=st.sampled_from(["--length-mm", "--diameter-um"]),
       value=st.one_of(st.floats(max_value=0.0), st.just(math.nan), st.just(math.inf)))
def test_a_length_or_diameter_that_is_not_positive_and_finite_is_refused(
        option, value, protocol, tmp_path_factory, capsys):
    tmp_path = tmp_path_factory.mktemp("bad")
    assert_refused(["run", protocol, "--cell", "thin-fibre", f"{option}={value!r}"], capsys,
                   tmp_path, option)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(max_value=0))
def test_a_compartment_count_below_one_is_refused(count, protocol, tmp_path_factory, capsys):
    tmp_path = tmp_path_factory.mktemp("bad")
    assert_refused(["run", protocol, "--cell", "thin-fibre", f"--compartments={count}"],
                   capsys, tmp_path, "--compartments")


@pytest.mark.parametrize("text", ["nan", "2.5", "1e3", "many"])
def test_a_compartment_count_that_is_not_a_whole_number_is_refused(text, protocol, tmp_path,
                                                                   capsys):
    assert_refused(["run", protocol, "--cell", "thin-fibre", "--compartments", text], capsys,
                   tmp_path, "--compartments")


def test_too_many_compartments_for_memory_are_refused_with_the_limit(protocol, tmp_path,
                                                                      capsys):
    cell = load_cell("thin-fibre")
    n_gates, n_channels = len(cell.gates()), len(cell.channels) + 1
    limit = compartment_limit(n_gates, n_channels)
    assert limit == FIBRE_MEMORY_BYTES // bytes_per_compartment(n_gates, n_channels)
    resize_fibre(cell, compartments=limit)  # the limit itself is allowed
    assert_refused(["run", protocol, "--cell", "thin-fibre", "--compartments", limit + 1],
                   capsys, tmp_path, f"at most {limit} compartments", "32 MiB")
    assert_refused(["run", protocol, "--cell", "thin-fibre", "--length-mm", "1000",
                    "--compartments", str(10 ** 30)], capsys, tmp_path, f"at most {limit}")


@pytest.mark.parametrize("option", ["--length-mm", "--diameter-um", "--compartments"])
def test_the_geometry_options_are_refused_on_a_point_cell(option, protocol, tmp_path, capsys):
    assert_refused(["run", protocol, "--cell", "hh-squid", option, "3"], capsys, tmp_path,
                   option, "single compartment")


def test_a_myelinated_fibre_takes_no_compartment_count(protocol, tmp_path, capsys):
    assert_refused(["run", protocol, "--cell", "myelinated-axon", "--compartments", "50"],
                   capsys, tmp_path, "nodes of Ranvier")


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(option=st.sampled_from(["--stim-at", "--record-at"]),
       position=st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=5.000001),
                          st.just(math.nan)))
def test_a_site_off_the_fibre_is_refused(option, position, protocol, tmp_path_factory,
                                         capsys):
    tmp_path = tmp_path_factory.mktemp("bad")
    assert_refused(["run", protocol, "--cell", "thin-fibre", f"{option}={position!r}"],
                   capsys, tmp_path, option, "the fibre runs from 0 to 5 mm")


def test_a_site_off_a_shortened_fibre_is_refused(protocol, tmp_path, capsys):
    assert_refused(["run", protocol, "--cell", "thin-fibre", "--length-mm", "2",
                    "--record-at", "1,3"], capsys, tmp_path, "0 to 2 mm")


@pytest.mark.parametrize("stretch, fragment", [
    ("3:2mm", "from low to high"), ("2:2mm", "from low to high"),
    ("3:8mm", "within 0 to 5 mm"), ("-1:2mm", "within 0 to 5 mm"),
    ("nan:2mm", "from low to high"), ("3:3.001mm", "holds no compartment centre"),
    ("3-4mm", "START:ENDmm")])
def test_a_drug_stretch_that_is_empty_reversed_or_off_the_fibre_is_refused(
        stretch, fragment, protocol, tmp_path, capsys):
    assert_refused(["run", protocol, "--cell", "thin-fibre", f"--drug=TTX=1uM@{stretch}"],
                   capsys, tmp_path, fragment, "--drug")


def test_vrig_run_fires_a_propagating_ap_in_the_squid_axon(tmp_path, capsys):
    """The issue's command: `vrig run axon-conduction --cell squid-axon --record-at
    5,15,25`: the 20 uA sweep's AP crosses 0 mV at 5, 15 and 25 mm in turn, 18-20 m/s."""
    from rig.simulation.fibre import crossing_time

    out = tmp_path / "x.csv"
    status, _, err = run(["run", "axon-conduction", "--cell", "squid-axon", "--record-at",
                          "5,15,25", "-o", out], capsys)
    assert status == 0, err
    recording = load_recording(out)
    assert recording.metadata["recording_sites"] == "Vm@5mm, Vm@15mm, Vm@25mm"
    assert "range=+/-1000uA" in recording.metadata["amplifier"]
    t = np.arange(recording.sweep("Vm@5mm", 1).size) * recording.sample_interval_s
    times = [crossing_time(t, recording.sweep(f"Vm@{x}mm", 1)) for x in (5, 15, 25)]
    assert 18.0 < 0.02 / (times[2] - times[0]) < 20.0


def test_vrig_analyze_measures_a_fibres_first_site_by_default_and_says_so(tmp_path, capsys):
    """A CC recording with sites is analysed at the first site unless --signal names
    another (its signal or its column name); the AP reaches 4 mm 3 mm / 0.879 m/s (the
    thin fibre's velocity, tests/rig/test_cable_rig.py) after it reaches 1 mm."""
    path = tmp_path / "fibre.csv"
    status, _, err = run(["run", "--cell", "thin-fibre", "--record-at", "1,4", "cc-threshold",
                          "-o", path], capsys)
    assert status == 0, err
    tables = {}
    for signal in (None, "Vm_mV@4mm", "Vm@4mm"):
        status, out, err = run(["analyze", path] + (["--signal", signal] if signal else []),
                               capsys)
        assert status == 0, err
        tables[signal] = out
    header = [line for line in tables[None].splitlines() if line.startswith("# signal:")]
    assert header == ["# signal: Vm@1mm (by default the first recording site; the "
                      "electrode's is Vm)"]
    assert "# signal: Vm@4mm\n" in tables["Vm_mV@4mm"]
    assert tables["Vm_mV@4mm"] == tables["Vm@4mm"]

    def latencies_ms(text):
        rows = [line.split(",") for line in text.splitlines() if not line.startswith("#")]
        column = rows[0].index("latency_ms")
        return np.array([float(row[column]) for row in rows[1:]])

    near, far = latencies_ms(tables[None]), latencies_ms(tables["Vm@4mm"])
    fired = np.isfinite(near)
    assert fired.any() and np.array_equal(fired, np.isfinite(far))  # every AP arrives
    assert far[fired] - near[fired] == pytest.approx(3.0 / 0.879, rel=0.01)  # ms
