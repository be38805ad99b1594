"""A fibre's second stimulating electrode (an isolated stimulator at another place):
collision of two action potentials, antidromic conduction and the refractory periods,
on the squid-axon (30 mm, 476 um, 18.5 degC), against what the same fibre does with
one electrode."""

import numpy as np
import pytest

import rig
from rig.cli.main import main
from rig.errors import VrigError
from rig.files.recording import load_recording
from rig.simulation.cable import StimPulse, Stimulator
from rig.simulation.fibre import conduction_velocity, crossing_time

DT = 25e-6
PULSE_A = 20e-6  # 0.1 ms, 2.6x the threshold at an end
SITES = (0.001, 0.005, 0.015, 0.025, 0.029)
NAMES = tuple(f"Vm@{x * 1e3:g}mm" for x in SITES)


def count_aps(v):
    """Number of times v (V) rises through 0 V."""
    v = np.asarray(v)
    return int(np.sum((v[1:] >= 0.0) & (v[:-1] < 0.0)))


def squid(stimulator=None, amplifier_pulses=(0.5e-3,), duration_s=0.006):
    """The squid-axon in CC with sites SITES, the amplifier's electrode at 0 mm giving a
    0.1 ms PULSE_A pulse at each of amplifier_pulses (s), and the second stimulator;
    (t (s), signals)."""
    setup = rig.Rig.from_presets("squid-axon", dt=DT, record_at=SITES, stimulator=stimulator)
    setup.set_mode("CC")
    setup.settle()
    command = np.zeros(round(duration_s / DT))
    for onset in amplifier_pulses:
        command[round(onset / DT): round(onset / DT) + 4] = PULSE_A
    return np.arange(command.size) * DT, setup.advance(command, DT)


def far_end(delay_s=0.5e-3, *more):
    """The second stimulator at the far end (30 mm), one 0.1 ms PULSE_A pulse per delay."""
    return Stimulator(0.03, tuple(StimPulse(d, 1e-4, PULSE_A) for d in (delay_s, *more)))


def test_two_aps_started_at_both_ends_collide_and_annihilate():
    """Each end's AP travels until they meet in the middle (15 mm, the last site each
    reaches) and then neither goes on: every site, the two near the ends
    included, sees exactly one AP, and the site near each end sees only its own, at the
    time it sees it with that end stimulated alone."""
    t, both = squid(far_end())
    _, near_only = squid()
    _, far_only = squid(far_end(), amplifier_pulses=())
    assert [count_aps(both[name]) for name in NAMES] == [1] * len(NAMES)
    # alone, each end's AP reaches the other end
    assert count_aps(near_only["Vm@29mm"]) == 1 and count_aps(far_only["Vm@1mm"]) == 1
    assert crossing_time(t, both["Vm@1mm"]) == pytest.approx(
        crossing_time(t, near_only["Vm@1mm"]), abs=DT)
    assert crossing_time(t, both["Vm@29mm"]) == pytest.approx(
        crossing_time(t, far_only["Vm@29mm"]), abs=DT)
    # they meet at 15 mm, which both would reach at the same moment: the two fronts'
    # spread current adds there, so it rises through 0 mV up to 0.15 ms sooner
    alone = crossing_time(t, near_only["Vm@15mm"])
    assert alone - 0.15e-3 < crossing_time(t, both["Vm@15mm"]) <= alone
    # after the meeting nothing is left: both ends back below -50 mV to the end
    late = t > crossing_time(t, near_only["Vm@29mm"]) + 1e-3
    assert both["Vm@1mm"][late].max() < -0.05 and both["Vm@29mm"][late].max() < -0.05


def test_antidromic_stimulation_runs_back_at_the_orthodromic_velocity():
    """The far end stimulated alone: the AP reaches the amplifier's end, 25 to 5 mm at
    the velocity the amplifier's AP runs 5 to 25 mm (19.17 m/s), within 0.2 %."""
    t, ortho = squid()
    _, anti = squid(far_end(), amplifier_pulses=())
    forward = conduction_velocity(t, ortho["Vm@5mm"], ortho["Vm@25mm"], 0.02)
    back = conduction_velocity(t, anti["Vm@25mm"], anti["Vm@5mm"], 0.02)
    assert forward == pytest.approx(19.17, abs=0.02)
    assert back == pytest.approx(forward, rel=0.002)
    assert count_aps(anti["Vm@1mm"]) == 1


@pytest.mark.parametrize("interval_ms, propagates", [(1.0, False), (1.5, False), (1.75, False),
                                                     (2.0, True), (3.0, True), (15.0, True)])
def test_a_second_stimulus_in_the_absolute_refractory_period_does_not_propagate(
        interval_ms, propagates):
    """Two pulses from the far-end stimulator, interval_ms apart (squid-axon, 18.5
    degC, 2.6x threshold): up to 1.75 ms (the absolute refractory period) the second
    never reaches 5 mm; from 2 ms it does."""
    _, signals = squid(far_end(0.5e-3, 0.5e-3 + interval_ms * 1e-3), amplifier_pulses=(),
                       duration_s=0.006 + interval_ms * 1e-3)
    assert count_aps(signals["Vm@5mm"]) == (2 if propagates else 1)


def test_in_the_relative_refractory_period_the_second_ap_is_slower():
    """The second AP's velocity from 25 to 5 mm: 3 ms after the first (relative
    refractory period) at least 5 % below the first's; 15 ms after, equal to it within
    0.3 % (recovered)."""
    def second_velocity(interval_s):
        second = 0.5e-3 + interval_s
        t, signals = squid(far_end(0.5e-3, second), amplifier_pulses=(),
                           duration_s=0.006 + interval_s)
        after = t >= second
        first = conduction_velocity(t[~after], signals["Vm@25mm"][~after],
                                    signals["Vm@5mm"][~after], 0.02)
        return first, conduction_velocity(t[after], signals["Vm@25mm"][after],
                                          signals["Vm@5mm"][after], 0.02)

    first, early = second_velocity(3e-3)
    assert early < 0.95 * first
    first, late = second_velocity(15e-3)
    assert late == pytest.approx(first, rel=0.003)


def test_the_second_stimulator_is_checked():
    with pytest.raises(VrigError, match="single compartment"):
        rig.Rig.from_presets("hh-squid", stimulator=far_end())
    with pytest.raises(VrigError, match="off the fibre"):
        rig.Rig.from_presets("squid-axon", stimulator=Stimulator(0.04, (StimPulse(0, 1e-4, 1e-6),)))
    with pytest.raises(VrigError, match="beyond the stimulator's"):
        rig.Rig.from_presets("squid-axon", stimulator=Stimulator(0.01, (StimPulse(0, 1e-4, 2e-3),)))
    with pytest.raises(VrigError, match="width more than 0"):
        rig.Rig.from_presets("squid-axon", stimulator=Stimulator(0.01, (StimPulse(0, 0, 1e-6),)))
    with pytest.raises(VrigError, match="at least one pulse"):
        rig.Rig.from_presets("squid-axon", stimulator=Stimulator(0.01, ()))


def test_vrig_run_collision_with_stim2_writes_the_stimulator_in_the_header(tmp_path, capsys):
    """`vrig run axon-conduction --cell squid-axon --stim2 30:1:0.1:20`: in the 20 uA
    sweep the two APs collide (one AP at 5 and at 25 mm); in the 5 uA sweep only the far
    end's runs the length of the fibre."""
    out = tmp_path / "collision.csv"
    capsys.readouterr()
    status = main(["run", "axon-conduction", "--cell", "squid-axon", "--record-at", "5,25",
                   "--dt-us", "25", "--stim2", "30:1:0.1:20", "-o", str(out)])
    assert status == 0, capsys.readouterr().err
    recording = load_recording(out)
    assert recording.metadata["stimulator_2"] == "at 30 mm: 20 uA for 0.1 ms at 1 ms"
    assert [count_aps(recording.sweep("Vm@5mm", k)) for k in (0, 1)] == [1, 1]
    assert [count_aps(recording.sweep("Vm@25mm", k)) for k in (0, 1)] == [1, 1]
    t = np.arange(recording.sweep("Vm@5mm", 0).size) * recording.sample_interval_s
    # sweep 0: the far end's AP alone reaches 5 mm after 25 mm; sweep 1: each its own
    assert crossing_time(t, recording.sweep("Vm@5mm", 0)) > crossing_time(
        t, recording.sweep("Vm@25mm", 0))
    assert crossing_time(t, recording.sweep("Vm@5mm", 1)) < crossing_time(
        t, recording.sweep("Vm@5mm", 0))


@pytest.mark.parametrize("text, fragment", [
    ("30:1:0.1", "AT_MM:DELAY_MS:WIDTH_MS:AMP_UA"), ("31:1:0.1:20", "fibre runs from 0 to 30"),
    ("30:-1:0.1:20", "--stim2 delay"), ("30:1:0:20", "more than 0 ms"),
    ("30:1:0.1:2000", "--stim2 amplitude"), ("30:1:nan:20", "--stim2 width")])
def test_bad_stim2_is_one_error_line_and_nothing_written(text, fragment, tmp_path, capsys):
    out = tmp_path / "bad.csv"
    capsys.readouterr()
    status = main(["run", "axon-conduction", "--cell", "squid-axon", f"--stim2={text}",
                   "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and err.startswith("vrig: error: ")
    assert fragment in err
    assert not out.exists()


def test_stim2_pulses_must_share_one_place_and_a_point_cell_has_none(tmp_path, capsys):
    for args, fragment in ((["--cell", "squid-axon", "--stim2", "30:1:0.1:20", "--stim2",
                             "20:3:0.1:20"], "at one place"),
                           (["--cell", "hh-squid", "--stim2", "0:1:0.1:20"], "single compartment")):
        capsys.readouterr()
        status = main(["run", "axon-conduction", *args, "-o", str(tmp_path / "x.csv")])
        err = capsys.readouterr().err
        assert status == 2 and fragment in err and err.count("\n") == 1
    assert not (tmp_path / "x.csv").exists()


def test_the_stimulator_fires_from_its_trigger_and_can_be_moved_or_removed():
    """set_stimulator puts it on a running rig; its pulse comes delay after the last
    trigger (a settle, trigger_stimulator()), not after the start of time; removed, it
    passes nothing."""
    setup = rig.Rig.from_presets("squid-axon", dt=DT, record_at=(0.025,))
    setup.set_mode("CC")
    setup.settle()
    setup.advance(np.zeros(200), DT)  # 5 ms pass; the stimulator is not there yet
    setup.set_stimulator(Stimulator(0.03, (StimPulse(1e-3, 1e-4, PULSE_A),)))
    setup.trigger_stimulator()
    t = np.arange(160) * DT
    signals = setup.advance(np.zeros(160), DT)  # 4 ms from the trigger
    # the far end's AP reaches 25 mm about 0.3 ms after the 1 ms pulse
    assert 1.1e-3 < crossing_time(t, signals["Vm@25mm"]) < 1.6e-3
    assert setup.metadata()["stimulator_2"] == "at 30 mm: 20 uA for 0.1 ms at 1 ms"
    setup.set_stimulator(None)
    setup.settle()
    assert setup.advance(np.zeros(160), DT)["Vm@25mm"].max() < -0.06
    assert setup.metadata()["stimulator_2"] == "none"
    with pytest.raises(VrigError, match="needs a fibre"):
        rig.Rig.from_presets("hh-squid").set_stimulator(far_end())
