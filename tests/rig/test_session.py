"""The Qt-free session model: its events, its checks, and the commands it sends."""

import math
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rig.acquisition import commands as c
from rig.acquisition.snapshot import RigState
from rig.clamp import Mode
from rig.errors import VrigError
from rig.protocols.protocol import load_protocol
from rig.session import engine_link
from rig.session.session import HOLDING_RANGES, HoldingChange, Session
from rig.simulation.engine import Rig


@pytest.fixture(scope="module")
def squid():
    return RigState.of(Rig.from_presets("hh-squid"))


@pytest.fixture
def session(squid):
    return Session(squid)


def record(session):
    """Every event the session emits, as (name, value), in order."""
    seen = []
    for name in ("cell", "mode", "holding", "speed", "running", "protocol_running",
                 "recording", "engine"):
        getattr(session.events, name).connect(lambda value, n=name: seen.append((n, value)))
    return seen


def test_each_change_emits_once_and_a_repeat_emits_nothing(session):
    seen = record(session)
    session.mode = "VC"
    session.mode = Mode.VC
    assert session.set_holding("VC", -80) == -80.0
    session.set_holding(Mode.VC, -80.0)
    session.speed = 10
    session.speed = 10.0
    session.recording = True
    session.recording = True
    assert seen == [("mode", Mode.VC), ("holding", HoldingChange(Mode.VC, -80.0)),
                    ("speed", 10.0), ("recording", True)]
    assert session.holdings == {"VC": -80.0, "CC": 0.0}
    assert session.holding_si("VC") == pytest.approx(-0.080)


def test_holding_is_clipped_to_the_knob_and_nonsense_is_refused(session):
    assert session.set_holding("CC", 1e9) == HOLDING_RANGES[Mode.CC][1] == 5000.0
    assert session.set_holding("VC", -1e9) == -200.0
    for bad in (math.nan, math.inf, "abc", None):
        with pytest.raises(VrigError, match="finite number of"):
            session.set_holding("VC", bad)
    assert session.holding("VC") == -200.0
    with pytest.raises(VrigError, match="I=0 has no holding"):
        session.set_holding("I0", 0.0)
    with pytest.raises(VrigError, match="mode must be one of VC, CC, I0"):
        session.mode = "voltage"


@given(st.one_of(st.floats(allow_nan=True), st.integers(), st.booleans(), st.text(max_size=5)))
def test_a_bad_speed_changes_nothing(squid, value):
    session = Session(squid)
    try:
        session.speed = value
    except VrigError as exc:
        assert "speed must be 0.001x to 1000x" in str(exc)
        assert session.speed == 1.0
    else:
        assert 0.001 <= session.speed <= 1000.0 and not isinstance(value, bool | str)


def test_engine_events_set_running_and_protocol_running(session, squid):
    seen = record(session)
    for kind in ("started", "protocol_started", "sweep_done", "protocol_done", "error",
                 "stopped"):
        session.take(c.Event(kind))
    assert seen == [("running", True), ("protocol_running", True),
                    ("protocol_running", False), ("running", False)]
    session.take(c.Event("protocol_started"))
    session.take(c.Event("stopped"))  # a Stop abandons the protocol
    assert not session.running and not session.protocol_running
    later = RigState.of(Rig.from_presets("hh-squid"), protocol=load_protocol("cc-threshold"))
    session.take(later)
    assert session.engine is later and session.protocol_metadata == later.protocol_metadata


def test_a_protocol_sets_its_mode_and_holding_and_the_link_leaves_them_to_it(session):
    """The protocol's sweeps set the mode and holding in the engine: sending them too
    would start a short continuous file in the new mode before the protocol's own."""
    sent = []
    engine_link.follow(session, sent.append)
    protocol = load_protocol("vc-iv-family")
    session.protocol_sent(protocol)
    assert sent == []
    assert session.protocol is protocol and session.protocol_running
    assert session.mode == protocol.mode == "VC" and session.holding("VC") == protocol.holding


def test_a_new_engine_is_announced_by_its_cell(session):
    seen = record(session)
    session.take(c.Event("started"))
    model = RigState.of(Rig.from_presets("model-cell"))
    session.take_engine(model)
    assert seen[1:] == [("running", False), ("cell", "model-cell"), ("engine", model)]
    assert session.cell == "model-cell" and session.engine is model


def test_the_engine_link_sends_a_command_per_change(session):
    sent = []
    engine_link.follow(session, sent.append)
    session.mode = "VC"
    session.set_holding("VC", -70.0)
    session.set_holding("CC", 35.0)
    session.speed = None
    session.speed = 0.25
    session.recording = True  # not an engine setting
    assert sent == [c.SetMode(Mode.VC), c.SetHolding(Mode.VC, pytest.approx(-0.070)),
                    c.SetHolding(Mode.CC, pytest.approx(35e-12)), c.SetSpeed(1.0),
                    c.SetSpeed(0.25)]
    for command in sent:
        assert pickle.loads(pickle.dumps(command)) == command
    assert engine_link.settings_commands(session) == [
        c.SetHolding(Mode.VC, pytest.approx(-0.070)), c.SetHolding(Mode.CC, pytest.approx(35e-12)),
        c.SetMode(Mode.VC), c.ResetCell(), c.SetSpeed(0.25)]


def test_the_session_drives_a_real_runner(session):
    """Changes in the session reach the engine through the runner, and the engine's
    replies come back into the session."""
    from rig.acquisition.runner import Runner

    runner = Runner(Rig.from_presets("hh-squid"))
    runner.start_thread()
    try:
        engine_link.follow(session, runner.send)
        session.mode = "VC"
        session.set_holding("VC", -75.0)
        for _ in range(2):  # one RigState per settings command
            session.take(runner.output.get(timeout=60))
    finally:
        runner.close()
    assert session.engine.mode == "VC"
    assert session.engine.holding["VC"] == pytest.approx(-0.075)
