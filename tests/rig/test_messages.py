"""Every message between the window and the engine is a plain value: it pickles and
comes back equal, it cannot be changed on the way, and the chunks the runner sends are
read-only (one chunk goes to the scopes, the analysis and the recorder)."""

import dataclasses
import inspect
import pickle

import numpy as np
import pytest

from rig.acquisition import commands as c
from rig.acquisition.runner import Runner
from rig.acquisition.snapshot import RigState
from rig.clamp import Mode
from rig.frozen import FrozenMap
from rig.model.solutions import load_solution
from rig.protocols.protocol import load_protocol
from rig.simulation.engine import Rig

HANG_GUARD_S = 60.0  # only against a hung worker

EXAMPLES = {
    c.Start: c.Start(), c.Stop: c.Stop(), c.SetMode: c.SetMode(Mode.CC),
    c.SetHolding: c.SetHolding(Mode.VC, -0.07), c.SetSpeed: c.SetSpeed(None),
    c.SetSampleRate: c.SetSampleRate(20_000.0),
    c.RunProtocol: c.RunProtocol(load_protocol("vc-iv-family"), 2.0, 4),
    c.Pulse: c.Pulse(Mode.CC, 1e-10, 0.005),
    c.SetAmplifier: c.SetAmplifier((("filter_hz", 2000.0), ("gain", 5))),
    c.SetCapacitance: c.SetCapacitance(10e-12), c.FastForward: c.FastForward(60.0),
    c.StartMembraneTest: c.StartMembraneTest(),
    c.StopMembraneTest: c.StopMembraneTest(), c.ResetCell: c.ResetCell(),
    c.SetTemperature: c.SetTemperature(18.5),
    c.SetSolutions: c.SetSolutions(load_solution("squid-seawater"), None),
    c.ApplyDrug: c.ApplyDrug("TTX", 3e-7), c.WashDrug: c.WashDrug("TTX"),
    c.MoveElectrodes: c.MoveElectrodes(0.0, (0.01, 0.02)), c.SetAxialWire: c.SetAxialWire(False),
    c.ApplyLocalDrug: c.ApplyLocalDrug("TTX", 1e-6, 0.01, 0.015),
    c.WashLocalDrugs: c.WashLocalDrugs(),
    c.Chunk: c.Chunk("sweep", 1, 0, 2e-5, Mode.VC,
                     FrozenMap(Vm=np.zeros(3), Im=np.ones(3)), 0.5, False, False,
                     (("TTX", "outside", 1e-7, 3e-7),)),
    c.Event: c.Event("sweep_done", "sweep 2 of 15", 1, 15),
}


def test_every_message_type_has_an_example():
    types = {obj for _, obj in inspect.getmembers(c, inspect.isclass)
             if dataclasses.is_dataclass(obj) and obj.__module__ == c.__name__}
    assert types == set(EXAMPLES)


@pytest.mark.parametrize("message", EXAMPLES.values(), ids=lambda m: type(m).__name__)
def test_a_message_pickles_and_cannot_be_changed(message):
    back = pickle.loads(pickle.dumps(message))
    assert type(back) is type(message)
    for f in dataclasses.fields(message):
        original, copy = getattr(message, f.name), getattr(back, f.name)
        if isinstance(original, FrozenMap) and f.name == "signals":
            assert ({k: list(v) for k, v in copy.items()}
                    == {k: list(v) for k, v in original.items()})
        else:
            assert copy == original
    if dataclasses.fields(message):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(message, dataclasses.fields(message)[0].name, None)


def test_frozen_fields_reject_changes():
    protocol = load_protocol("vc-iv-family")
    with pytest.raises(TypeError):
        protocol.epochs[0].values["level"] = 0.0
    with pytest.raises(TypeError):
        load_solution("squid-seawater").concentrations_mm["Na"] = 1.0
    assert hash(protocol) == hash(pickle.loads(pickle.dumps(protocol)))


def test_the_runners_chunks_are_read_only():
    runner = Runner(Rig.from_presets("hh-squid"), queue_size=50)
    runner.start_thread()
    try:
        runner.send(c.SetSpeed(None))
        runner.send(c.Start())
        chunk = runner.output.get(timeout=HANG_GUARD_S)
        while not isinstance(chunk, c.Chunk):
            chunk = runner.output.get(timeout=HANG_GUARD_S)
    finally:
        runner.close()
    assert isinstance(chunk.signals, FrozenMap) and chunk.mode is Mode.CC
    for values in chunk.signals.values():
        with pytest.raises(ValueError, match="read-only"):
            values[0] = 1.0
    pickle.loads(pickle.dumps(chunk))


def test_the_state_the_window_reads_is_a_plain_value():
    setup = Rig.from_presets("hh-squid")
    state = RigState.of(setup, load_protocol("vc-iv-family"))
    back = pickle.loads(pickle.dumps(state))
    assert back == state and back.cell.name == "hh-squid"
    assert back.holding[Mode.VC] == -0.065 and back.mode is Mode.CC
    assert back.metadata["protocol"] == "continuous"
    assert back.protocol_metadata["protocol"] == "VC I-V family"
    with pytest.raises(TypeError):
        state.metadata["cell"] = "other"
