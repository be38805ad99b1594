"""A fibre's space-time profile and electrodes moved while it runs: the profile is
the membrane potential at evenly spaced compartments, apart from the signals (files
are unchanged); moving an electrode or switching the axial wire keeps the fibre's
state; the runner carries both to and from the window as plain data."""

import queue

import numpy as np
import pytest

import rig
from rig.acquisition import commands as c
from rig.acquisition.runner import Runner
from rig.acquisition.snapshot import RigState
from rig.errors import VrigError
from rig.simulation.cable import PROFILE_POINTS, profile_compartments
from rig.simulation.engine import PROFILE

DT = 25e-6
HANG_GUARD_S = 60.0  # only against a hung worker


def fibre(name="thin-fibre", **kwargs):
    setup = rig.Rig.from_presets(name, dt=DT, **kwargs)
    setup.set_mode("CC")
    setup.settle()
    return setup


def test_without_a_profile_advance_returns_only_the_signals():
    setup = fibre(record_at=(0.001,))
    signals = setup.advance(np.zeros(20), DT)
    assert PROFILE not in signals
    assert set(signals) == {name for name, _ in setup.signal_names()}


@pytest.mark.parametrize("name", ["thin-fibre", "squid-axon", "myelinated-axon"])
def test_the_profile_is_evenly_spaced_along_the_whole_fibre(name):
    geometry = rig.model.cell.load_cell(name).geometry
    chosen = profile_compartments(geometry)
    assert 0 < len(chosen) <= PROFILE_POINTS
    assert list(chosen) == sorted(set(chosen))
    assert chosen[0] == 0 and chosen[-1] == geometry.n_compartments - 1
    if geometry.myelin is None:  # equal compartments: equal steps, to one compartment
        steps = np.diff(geometry.centres_um()[list(chosen)])
        assert steps.max() - steps.min() <= geometry.total_length_um / geometry.n_compartments
    assert profile_compartments(geometry, 0) == ()


def test_the_profile_is_the_membrane_potential_there_and_not_a_signal():
    """Each profile column equals a recording site on the same compartment (bit for
    bit: the same kernel row), and the signal names and their values do not change."""
    plain = fibre(record_at=(0.001, 0.004))
    profiled = fibre(record_at=(0.001, 0.004))
    profiled.set_profile(32)
    command = np.zeros(round(0.004 / DT))
    command[:4] = 2e-9  # A: fires thin-fibre from its first end
    expected = plain.advance(command, DT)
    signals = profiled.advance(command, DT)
    assert profiled.signal_names() == plain.signal_names()
    profile = signals.pop(PROFILE)
    assert set(signals) == set(expected)
    for name in expected:
        np.testing.assert_array_equal(signals[name], expected[name])
    positions = profiled.profile_positions_m
    assert profile.shape == (command.size, positions.size) and positions.size == 32
    assert positions[0] >= 0 and positions[-1] <= 0.005 and np.all(np.diff(positions) > 0)
    geometry = profiled.cell.geometry
    for k, x in enumerate(positions):
        at = fibre(record_at=(float(x),))
        np.testing.assert_array_equal(profile[:, k], at.advance(command, DT)[
            at.placement.names[0]])
        assert geometry.compartment_at(x * 1e6) == profiled.placement.profile[k]
    assert profile.max() > 0.0  # V: an action potential passed along the fibre


def test_a_protocol_run_with_a_profile_records_only_the_signals():
    setup = fibre(record_at=(0.002,))
    setup.set_profile(16)
    protocol = rig.protocols.protocol.protocol_from_dict({
        "format": "vrig-protocol", "version": 1, "mode": "CC", "holding": 0,
        "sample_rate_khz": 40, "sweeps": 1,
        "epochs": [{"kind": "step", "duration_ms": 2, "level": 0}]})
    recording = setup.run(protocol)
    assert set(recording.signals) == {name for name, _ in setup.signal_names()}


def test_moving_the_electrodes_keeps_the_fibre_state_and_renames_the_sites():
    setup = fibre(record_at=(0.001, 0.002))
    setup.advance(np.zeros(40), DT)
    v, gates, time_s = setup.sim.v_mv.copy(), setup.sim.gates.copy(), setup.time_s
    setup.move_electrodes(stim_at=0.0025, record_at=(0.0015, 0.003, 0.0045))
    np.testing.assert_array_equal(setup.sim.v_mv, v)  # no settle
    np.testing.assert_array_equal(setup.sim.gates, gates)
    assert setup.time_s == time_s
    geometry = setup.cell.geometry
    assert setup.placement.stim == geometry.compartment_at(2500.0)
    assert setup.placement.sites == tuple(geometry.compartment_at(x) for x in (1500, 3000, 4500))
    names = [name for name, _ in setup.signal_names()][-3:]
    assert names == list(setup.placement.names) and "@1.5mm" in names[0]
    assert set(names) <= set(setup.advance(np.zeros(10), DT))
    setup.move_electrodes(axial_wire=False)
    assert not setup.placement.axial_wire and setup.record_at_m == (0.0015, 0.003, 0.0045)


@pytest.mark.parametrize("move", [dict(stim_at=0.006), dict(record_at=(-0.001,)),
                                  dict(record_at=(0.001, 0.001))])
def test_a_bad_move_changes_nothing(move):
    setup = fibre(record_at=(0.001,))
    before = setup.placement
    with pytest.raises(VrigError):
        setup.move_electrodes(**move)
    assert setup.placement == before and setup.record_at_m == (0.001,)


def test_a_point_cell_has_no_profile():
    with pytest.raises(VrigError, match="single compartment"):
        rig.Rig.from_presets("hh-squid").set_profile(10)


def items_until(worker, test):
    seen = []
    while True:
        try:
            item = worker.output.get(timeout=HANG_GUARD_S)
        except queue.Empty:
            raise AssertionError("the runner sent nothing") from None
        seen.append(item)
        if test(item):
            return seen


def test_the_runner_moves_electrodes_live_and_sends_the_profile():
    worker = Runner(rig.Rig.from_presets("thin-fibre", record_at=(0.001,)), queue_size=50)
    worker.start_thread()
    try:
        worker.send(c.SetSpeed(None))
        worker.send(c.Start())
        chunk = items_until(worker, lambda i: isinstance(i, c.Chunk))[-1]
        state = RigState.of(worker.rig)
        assert chunk.profile.shape == (chunk.n_samples, len(state.fibre.profile_m))
        assert chunk.profile.dtype == np.float32 and "profile" not in chunk.signals
        worker.send(c.MoveElectrodes(0.002, (0.001, 0.0035)))
        worker.send(c.SetAxialWire(False))
        states = [i for i in items_until(
            worker, lambda i: isinstance(i, RigState) and not i.fibre.axial_wire)
            if isinstance(i, RigState)]
        moved = states[-1].fibre
        assert moved.stim_m == 0.002 and moved.sites_m == (0.001, 0.0035)
        assert [n for n, _ in states[-1].signal_names][-2:] == list(moved.names)
        chunk = items_until(worker, lambda i: isinstance(i, c.Chunk))[-1]
        assert set(moved.names) <= set(chunk.signals)
        worker.send(c.MoveElectrodes(record_at_m=(0.01,)))  # off the 5 mm fibre
        error = items_until(worker, lambda i: isinstance(i, c.Event) and i.kind == "error")[-1]
        assert "off the fibre" in error.text
    finally:
        worker.close()


def test_recording_electrodes_stay_put_while_a_protocol_runs():
    worker = Runner(rig.Rig.from_presets("thin-fibre", record_at=(0.001,)), queue_size=50)
    worker.start_thread()
    try:
        protocol = rig.protocols.protocol.protocol_from_dict({
            "format": "vrig-protocol", "version": 1, "mode": "CC", "holding": 0,
            "sample_rate_khz": 40, "sweeps": 50,
            "epochs": [{"kind": "step", "duration_ms": 20, "level": 0}]})
        worker.send(c.RunProtocol(protocol, speed=0.5))
        items_until(worker, lambda i: isinstance(i, c.Event) and i.kind == "protocol_started")
        worker.send(c.MoveElectrodes(record_at_m=(0.002,)))
        worker.send(c.MoveElectrodes(stim_at_m=0.003))  # the stimulating one may move
        error = items_until(worker, lambda i: isinstance(i, c.Event) and i.kind == "error")[-1]
        assert "moving the recording electrodes" in error.text
        state = items_until(worker, lambda i: isinstance(i, RigState)
                            and i.fibre.stim_m == 0.003)[-1]
        assert state.fibre.sites_m == (0.001,)
    finally:
        worker.close()


def test_a_bath_drug_acts_on_the_whole_fibre():
    """TTX in the bath at steady state: the pulse that fires thin-fibre along its length
    leaves every site and every profile position below 0 mV."""
    command = np.zeros(round(0.008 / DT))  # s: the 0.9 m/s fibre's whole length
    command[:4] = 2e-9  # A
    for ttx, fires in ((0.0, True), (1e-6, False)):
        setup = fibre(record_at=(0.001, 0.004))
        setup.set_profile(32)
        if ttx:
            setup.apply_drug("TTX", ttx, steady_state=True)
        signals = setup.advance(command, DT)
        assert (signals[PROFILE][:, 1:].max() > 0.0) == fires  # V; beyond the electrode
        assert all((signals[name].max() > 0.0) == fires for name in setup.placement.names)
