"""Position-dependent temperature and myelin on a fibre: a cooled stretch slows the
action potential by what the whole fibre at that temperature gives, heat blocks it,
and stripping the myelin from internodes slows and then blocks it. Nothing is
scripted: the kinetics run on their own gate tables in the stretch, and a bare
internode is membrane with the cell's capacitance and leak and no sodium channels."""

import numpy as np
import pytest

import rig
from rig.cli.main import main
from rig.errors import VrigError
from rig.files.recording import load_recording
from rig.simulation.fibre import conduction_velocity, crossing_time

DT = 25e-6


def squid_run(sites, temperature_c=None, stretch=None, duration_s=0.012):
    """squid-axon in CC, a 0.1 ms 20 uA pulse at 0 mm, optionally a stretch (degC,
    start m, end m) at its own temperature; (t, signals)."""
    setup = rig.Rig.from_presets("squid-axon", dt=DT, record_at=sites,
                                 temperature_c=temperature_c)
    if stretch is not None:
        setup.set_local_temperature(*stretch)
    setup.set_mode("CC")
    setup.settle()
    command = np.zeros(round(duration_s / DT))
    command[20:24] = 20e-6
    return np.arange(command.size) * DT, setup.advance(command, DT)


def test_a_cooled_stretch_conducts_at_the_velocity_of_a_fibre_at_its_temperature():
    """squid-axon with 8-22 mm at 8.5 degC (the rest at 18.5): between 10 and 20 mm the
    AP runs at the velocity of the whole fibre at 8.5 degC (13.5 m/s) within 1 % (the
    reversal potentials stay the bath's), and outside at the 18.5 degC velocity, 19.2
    m/s. HH's rates have a Q10 of 3; vRig's velocity changes by a factor of 1.41 over
    these 10 degC (a velocity Q10 of 1.41: v grows about as the square root of the
    rates' speed-up, sqrt(3) = 1.73, less because the AP's shape changes too)."""
    sites = (0.002, 0.006, 0.010, 0.020)
    t, cooled = squid_run(sites, stretch=(8.5, 0.008, 0.022))
    _, cold = squid_run(sites, temperature_c=8.5)
    _, warm = squid_run(sites)
    def v(signals, a, b):
        return conduction_velocity(t, signals[f"Vm@{a}mm"], signals[f"Vm@{b}mm"],
                                   (b - a) * 1e-3)
    whole_cold, whole_warm = v(cold, 10, 20), v(warm, 10, 20)
    assert whole_cold == pytest.approx(13.55, abs=0.05)
    assert whole_warm == pytest.approx(19.17, abs=0.05)
    assert whole_warm / whole_cold == pytest.approx(1.41, abs=0.01)
    assert v(cooled, 10, 20) == pytest.approx(whole_cold, rel=0.01)
    assert v(cooled, 2, 6) == pytest.approx(v(warm, 2, 6), rel=0.001)


def test_heat_blocks_conduction_and_only_where_it_is_hot():
    """The whole squid-axon conducts at 33 degC (a small AP, peaks near -14 mV at 15 and
    25 mm) and fails at 35 degC (its peak falls off along the fibre, nothing reaches 25
    mm): HH's heat block, at 34 +/- 0.5 degC here. A 36 degC stretch at 10-20 mm of a
    fibre at 18.5 degC stops the AP inside it: 5 mm sees it, 25 mm does not."""
    sites = (0.005, 0.015, 0.025)
    _, at33 = squid_run(sites, temperature_c=33.0, duration_s=0.008)
    _, at35 = squid_run(sites, temperature_c=35.0, duration_s=0.008)
    assert at33["Vm@25mm"].max() > -0.02
    assert at33["Vm@25mm"].max() == pytest.approx(at33["Vm@15mm"].max(), abs=0.002)
    assert at35["Vm@15mm"].max() < at35["Vm@5mm"].max() - 0.03
    assert at35["Vm@25mm"].max() < -0.06
    _, heated = squid_run(sites, stretch=(36.0, 0.010, 0.020), duration_s=0.008)
    assert heated["Vm@5mm"].max() > 0.02
    assert heated["Vm@25mm"].max() < -0.06


def myelinated_run(sites, stretch=None):
    """myelinated-axon in CC, 0.1 ms of 5 nA at 0 mm, optionally demyelinated from
    stretch[0] to stretch[1] (m); (t, signals)."""
    setup = rig.Rig.from_presets("myelinated-axon", dt=DT, record_at=sites)
    if stretch is not None:
        setup.demyelinate(*stretch)
    setup.set_mode("CC")
    setup.settle()
    command = np.zeros(round(0.006 / DT))
    command[20:24] = 5e-9
    return np.arange(command.size) * DT, setup.advance(command, DT)


def test_demyelination_slows_then_blocks_saltatory_conduction():
    """myelinated-axon (10 um, a node every 1 mm, internodes in five 200 um pieces),
    the AP timed at -20 mV at 12.5 and 17.5 mm: two pieces of one internode bare (8-8.3
    mm) delay it by 0.3-0.5 ms; the whole internode (8-8.9 mm) by 2-3 ms; most of two
    internodes (8-9.9 mm) block it (nothing past -50 mV beyond). The bare membrane is
    a capacitive and leak load with no sodium channels, which the node before it must
    charge."""
    sites = (0.0025, 0.0125, 0.0175)
    t, intact = myelinated_run(sites)
    base = crossing_time(t, intact["Vm@12.5mm"], -0.02)
    delays = []
    for end in (0.0083, 0.0089):
        _, signals = myelinated_run(sites, (0.008, end))
        assert signals["Vm@17.5mm"].max() > 0.0
        delays.append(crossing_time(t, signals["Vm@12.5mm"], -0.02) - base)
    assert 0.3e-3 < delays[0] < 0.5e-3
    assert 2e-3 < delays[1] < 3e-3
    _, blocked = myelinated_run(sites, (0.008, 0.0099))
    assert blocked["Vm@2.5mm"].max() > 0.03
    assert blocked["Vm@12.5mm"].max() < -0.05 and blocked["Vm@17.5mm"].max() < -0.05


def test_stretches_are_checked():
    setup = rig.Rig.from_presets("squid-axon")
    with pytest.raises(VrigError, match="no myelin"):
        setup.demyelinate(0.001, 0.002)
    with pytest.raises(VrigError, match="from low to high"):
        setup.set_local_temperature(10.0, 0.002, 0.001)
    with pytest.raises(VrigError, match="temperature"):
        setup.set_local_temperature(80.0, 0.001, 0.002)
    with pytest.raises(VrigError, match="single compartment"):
        rig.Rig.from_presets("hh-squid").set_local_temperature(10.0, 0.0, 0.001)


def test_vrig_run_cools_and_demyelinates_stretches(tmp_path, capsys):
    out = tmp_path / "heat.csv"
    capsys.readouterr()
    status = main(["run", "axon-conduction", "--cell", "squid-axon", "--record-at", "5,25",
                   "--dt-us", "25", "--temperature-at", "36@10:20mm", "-o", str(out)])
    assert status == 0, capsys.readouterr().err
    recording = load_recording(out)
    assert recording.metadata["local_temperature"] == "36 degC at 10-20 mm"
    assert recording.sweep("Vm@5mm", 1).max() > 0.02
    assert recording.sweep("Vm@25mm", 1).max() < -0.06
    for args, fragment in ((["--cell", "squid-axon", "--demyelinate", "1:2mm"], "no myelin"),
                           (["--cell", "squid-axon", "--temperature-at", "99@1:2mm"],
                            "0 to 45 degC"),
                           (["--cell", "squid-axon", "--temperature-at", "9@5:2mm"],
                            "low to high"),
                           (["--cell", "myelinated-axon", "--demyelinate", "8:10"],
                            "START:ENDmm")):
        capsys.readouterr()
        status = main(["run", "axon-conduction", *args, "-o", str(tmp_path / "bad.csv")])
        err = capsys.readouterr().err
        assert status == 2 and err.count("\n") == 1 and fragment in err, err
    assert not (tmp_path / "bad.csv").exists()


def test_washing_a_drug_also_takes_it_off_the_fibre():
    """thin-fibre with TTX on 1.5-3.5 mm: the AP never reaches 4 mm; wash_drug('TTX')
    removes it from the stretch as well, and the AP reaches 4 mm again as on a fresh
    fibre (to 1e-9 V); washing all drugs does too."""
    def run(setup):
        setup.set_mode("CC")
        setup.settle()
        command = np.zeros(round(0.008 / DT))
        command[:4] = 2e-9
        return setup.advance(command, DT)["Vm@4mm"]

    fresh = run(rig.Rig.from_presets("thin-fibre", dt=DT, record_at=(0.004,)))
    for name in ("TTX", None):
        setup = rig.Rig.from_presets("thin-fibre", dt=DT, record_at=(0.004,))
        setup.apply_local_drug("TTX", 1e-6, 0.0015, 0.0035)
        assert run(setup).max() < -0.06
        setup.wash_drug(name)
        assert setup.metadata()["local_drugs"] == ""
        assert run(setup) == pytest.approx(fresh, abs=1e-9)


def test_the_membrane_potential_of_a_fibre_is_read_at_the_electrode():
    """thin-fibre with the amplifier's electrode at 4 mm, 0.2 ms of 1 nA: the
    membrane potential the rig reports is that of the electrode's compartment (tens of
    mV above the far end's, 4 mm away, which has not moved yet)."""
    setup = rig.Rig.from_presets("thin-fibre", dt=DT, stim_at=0.004)
    setup.set_mode("CC")
    setup.settle()
    setup.advance(np.full(8, 1e-9), DT)
    stim = setup.placement.stim
    assert setup.membrane_potential == pytest.approx(setup.sim.v_mv[stim] * 1e-3, abs=1e-12)
    assert setup.membrane_potential > setup.sim.v_mv[0] * 1e-3 + 0.01
