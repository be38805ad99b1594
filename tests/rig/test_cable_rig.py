"""A fibre on the Rig: current clamp with recording sites, the same numbers as
:class:`rig.simulation.fibre.Fibre`, and what is not built yet (CC with the pipette
capacitance) refused clearly."""

import itertools

import numpy as np
import pytest

import rig
from rig.errors import VrigError
from rig.model.cell import load_cell
from rig.simulation.fibre import Fibre, conduction_velocity, crossing_time, pulse_current_a

DT = 25e-6


def test_the_rig_runs_a_fibre_in_cc_with_a_signal_per_site():
    setup = rig.Rig.from_presets("thin-fibre", dt=DT, record_at=(0.001, 0.004))
    setup.set_mode("CC")
    setup.settle()
    names = [name for name, _ in setup.signal_names()]
    assert names[-2:] == ["Vm@1mm", "Vm@4mm"]
    fibre = Fibre(load_cell("thin-fibre"), dt=DT, record_at=(0.001, 0.004))
    command = np.zeros(round(0.008 / DT))
    command[:4] = pulse_current_a(fibre, 60.0, 1e-4)
    signals = setup.advance(command, DT)
    expected = fibre.run(command, DT)
    for name in ("Vm@1mm", "Vm@4mm"):
        assert signals[name] == pytest.approx(expected[name], abs=1e-9)  # V
    assert signals["Vmem"] == pytest.approx(expected["Vmem"], abs=1e-9)
    velocity = conduction_velocity(expected["t"], signals["Vm@1mm"], signals["Vm@4mm"],
                                   0.003)
    assert velocity == pytest.approx(0.879, abs=0.002)
    assert set(names) <= set(signals)


def test_a_fibre_in_cc_with_the_pipette_capacitance_is_refused_with_what_to_do():
    setup = rig.Rig.from_presets("thin-fibre", dt=DT, series_resistance=5e6)
    setup.set_amplifier(pipette_capacitance=5e-12)
    setup.set_mode("CC")
    with pytest.raises(VrigError, match="without the pipette capacitance only .* set the "
                                        "pipette capacitance to 0"):
        setup.advance(np.zeros(10), DT)


def space_clamp_run(axial_wire):
    """thin-fibre in ideal VC, electrode at the first end, -65 mV then -20 mV from 0.5
    to 3.5 ms, 8 ms in all; the signals."""
    setup = rig.Rig.from_presets("thin-fibre", dt=DT, record_at=(0.0, 1e-3, 4e-3),
                                 axial_wire=axial_wire)
    setup.set_mode("VC")
    setup.set_holding(-0.065)
    setup.settle()
    command = np.full(round(8e-3 / DT), -0.065)
    command[round(0.5e-3 / DT): round(3.5e-3 / DT)] = -0.020
    signals = setup.advance(command, DT)
    # the whole 5 mm fibre's Na current (hundreds of nA) is beyond even the widest range
    assert setup.overloaded == axial_wire
    return signals


def test_space_clamp_the_axial_wire_holds_the_fibre_a_point_clamp_does_not():
    """With the axial wire the whole fibre follows the command (to 1e-9 V). Clamped at
    one end only, the electrode's compartment follows it but the fibre beyond escapes:
    an action potential starts near the electrode and runs away (past +20 mV at 1 mm,
    then at 4 mm), and the clamp sees only the membrane near it: an inward peak of
    about 2 nA, where the wire's current (the whole fibre's, hundreds of nA) overloads
    the headstage's widest range (+/-200 nA)."""
    held = space_clamp_run(True)
    point = space_clamp_run(False)
    step = slice(round(0.5e-3 / DT) + 1, round(3.5e-3 / DT) + 1)  # a step shows one sample on
    for name in ("Vm@0mm", "Vm@1mm", "Vm@4mm"):
        assert held[name][step] == pytest.approx(np.full(120, -0.020), abs=1e-9)
    assert point["Vm@0mm"][step] == pytest.approx(np.full(120, -0.020), abs=1e-9)
    assert point["Vm@1mm"].max() > 0.020 and point["Vm@4mm"].max() > 0.020
    assert np.argmax(point["Vm@4mm"]) > np.argmax(point["Vm@1mm"]) + round(2e-3 / DT)
    assert held["Im"][step].min() < -100e-9
    assert -5e-9 < point["Im"][step].min() < -0.5e-9


def test_the_cc_range_follows_the_cell_the_squid_axon_takes_tens_of_ua():
    """The squid-axon's headstage is the giant-axon one (+/-1 mA); the patch cells keep
    theirs (hh-squid: +/-200 nA). On the rig a 20 uA, 0.1 ms pulse at 0 mm (2.6x the
    7.6 uA threshold) starts an AP that reaches 10 and 20 mm, as the bench Fibre's does
    (the same kernel: equal to 1e-9 V), at HH's computed 18.8 m/s within 2 %; beyond
    1 mA the command is refused."""
    assert rig.Rig.from_presets("hh-squid").amplifier.current_range == pytest.approx(200e-9)
    setup = rig.Rig.from_presets("squid-axon", dt=DT, record_at=(0.01, 0.02))
    assert setup.amplifier.current_range == pytest.approx(1e-3)
    setup.set_mode("CC")
    setup.settle()
    command = np.zeros(round(0.004 / DT))
    command[:4] = 20e-6
    signals = setup.advance(command, DT)
    expected = Fibre(load_cell("squid-axon"), dt=DT, record_at=(0.01, 0.02)).run(command, DT)
    assert signals["Vm@10mm"] == pytest.approx(expected["Vm@10mm"], abs=1e-9)
    velocity = conduction_velocity(expected["t"], signals["Vm@10mm"], signals["Vm@20mm"], 0.01)
    assert velocity == pytest.approx(18.8, rel=0.02)
    with pytest.raises(VrigError, match="command out of range"):
        setup.advance(np.full(10, 1.1e-3), DT)


def count_aps(v, level=0.0):
    """Number of times v (V) rises through level (V)."""
    v = np.asarray(v)
    return int(np.sum((v[1:] >= level) & (v[:-1] < level)))


def test_the_shipped_axon_protocols_conduct_and_show_the_refractory_periods():
    """axon-conduction on the squid-axon: 5 uA gives no AP at 5 mm, 20 uA one AP at 5,
    15 and 25 mm in that order, 10 mm apart at 18-20 m/s. axon-refractory (second pulse
    6 ms after the first, then 0.5 ms sooner each sweep): both APs reach 25 mm for
    intervals of 2 ms and more, only the first at 1.75 ms and less (the absolute
    refractory period at 18.5 degC with 2.6x threshold pulses)."""
    from rig.protocols.protocol import load_protocol

    setup = rig.Rig.from_presets("squid-axon", dt=DT, record_at=(0.005, 0.015, 0.025))
    recording = setup.run(load_protocol("axon-conduction"))
    t = np.arange(recording.sweep("Vm@5mm", 0).size) * recording.sample_interval_s
    assert recording.sweep("Vm@5mm", 0).max() < -0.02
    crossings = [crossing_time(t, recording.sweep(name, 1))
                 for name in ("Vm@5mm", "Vm@15mm", "Vm@25mm")]
    assert crossings[0] < crossings[1] < crossings[2]
    for near, far in itertools.pairwise(crossings):
        assert 18.0 < 0.01 / (far - near) < 20.0
    setup = rig.Rig.from_presets("squid-axon", dt=DT, record_at=(0.025,))
    recording = setup.run(load_protocol("axon-refractory"))
    intervals_ms = 6.0 - 0.5 * np.arange(recording.n_sweeps)
    counts = [count_aps(recording.sweep("Vm@25mm", k)) for k in range(recording.n_sweeps)]
    assert counts == [2 if gap >= 2.0 else 1 for gap in intervals_ms]


def test_sites_off_the_fibre_or_on_a_point_cell_are_refused():
    with pytest.raises(VrigError, match="off the fibre"):
        rig.Rig.from_presets("thin-fibre", record_at=(0.006,))
    with pytest.raises(VrigError, match="single compartment"):
        rig.Rig.from_presets("hh-squid", record_at=(0.001,))


def test_vrig_run_steps_a_fibre_in_cc_and_in_vc_through_rs(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("vrig")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "ui.cli"]
    good = subprocess.run(command + ["run", "--cell", "thin-fibre", "cc-threshold", "-o",
                                     str(tmp_path / "cc.csv")],
                          capture_output=True, text=True, timeout=300)
    assert good.returncode == 0, good.stderr
    assert "# cell: thin-fibre" in (tmp_path / "cc.csv").read_text()
    vc = subprocess.run(command + ["run", "--cell", "thin-fibre", "vc-iv-family", "--rs",
                                   "5", "-o", str(tmp_path / "vc.csv")],
                        capture_output=True, text=True, timeout=300)
    assert vc.returncode == 0, vc.stderr
    assert "# cell: thin-fibre" in (tmp_path / "vc.csv").read_text()


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_vrig_run_records_each_site_as_a_column_with_the_geometry(tmp_path, suffix):
    import subprocess
    import sys
    from pathlib import Path

    from rig.files.recording import load_recording

    script = Path(sys.executable).with_name("vrig")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "ui.cli"]
    out = tmp_path / f"sites{suffix}"
    done = subprocess.run(command + ["run", "--cell", "thin-fibre", "--record-at", "1, 4",
                                     "cc-threshold", "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    if suffix == ".csv":
        header = next(line for line in out.read_text().splitlines()
                      if not line.startswith("#"))
        assert header.endswith("Vm_mV@1mm,Vm_mV@4mm")
    recording = load_recording(out)
    assert recording.units["Vm@1mm"] == "V"
    assert recording.metadata["compartments"] == "500"
    assert recording.metadata["length_mm"] == "5"
    assert recording.metadata["recording_sites"] == "Vm@1mm, Vm@4mm"
    assert recording.metadata["axial_wire"] == "on"
    last = recording.n_sweeps - 1  # the largest pulse: the AP reaches 4 mm after 1 mm
    near, far = (recording.sweep(name, last) for name in ("Vm@1mm", "Vm@4mm"))
    assert near.max() > 0 and far.max() > 0
    assert np.argmax(far > 0) > np.argmax(near > 0)
    off = subprocess.run(command + ["run", "--cell", "thin-fibre", "--record-at", "1,9",
                                    "cc-threshold", "-o", str(tmp_path / "off.csv")],
                         capture_output=True, text=True, timeout=300)
    assert off.returncode == 2
    assert off.stderr == ("vrig: error: --record-at 9 is outside the allowed 0 to 5 mm: the "
                          "fibre runs from 0 to 5 mm\n")
    assert not (tmp_path / "off.csv").exists()


def test_a_drug_on_a_stretch_blocks_conduction_past_it_on_the_rig():
    """thin-fibre, 1 uM TTX on 1.5-3.5 mm (four resting length constants): the AP
    reaches 1 mm as without it and never 4 mm; a reversed or empty stretch, or a point
    cell, is refused."""
    runs = {}
    for local in (False, True):
        setup = rig.Rig.from_presets("thin-fibre", dt=DT, record_at=(0.001, 0.004))
        if local:
            setup.apply_local_drug("TTX", 1e-6, 0.0015, 0.0035)
        setup.set_mode("CC")
        setup.settle()
        command = np.zeros(round(0.008 / DT))
        command[:4] = 2e-9
        runs[local] = setup.advance(command, DT)
    assert runs[True]["Vm@1mm"] == pytest.approx(runs[False]["Vm@1mm"], abs=2e-3)
    assert runs[False]["Vm@4mm"].max() > 0.02
    assert runs[True]["Vm@4mm"].max() < -0.06
    assert setup.metadata()["local_drugs"] == "TTX 1uM at 1.5-3.5 mm"
    with pytest.raises(VrigError, match="must run from low to high"):
        setup.apply_local_drug("TTX", 1e-6, 0.003, 0.002)
    with pytest.raises(VrigError, match="holds no compartment centre"):
        setup.apply_local_drug("TTX", 1e-6, 0.0030001, 0.0030002)
    with pytest.raises(VrigError, match="needs a fibre"):
        rig.Rig.from_presets("hh-squid").apply_local_drug("TTX", 1e-6, 0.0, 0.001)
