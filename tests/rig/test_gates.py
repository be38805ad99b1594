"""The gate cartoons' rules: the share of subunits drawn open is the gate's value, a
representative channel's subunits are open that share of the time and conduct only all
together, and the playback replays blocks at the rig's speed (0.01x included)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rig.teaching.gates import MAX_LAG_S, Flicker, GatePlayback, subunits_open


@given(st.floats(0, 1), st.integers(1, 60))
def test_the_share_drawn_open_is_the_gate_value(value, count):
    assert abs(subunits_open(value, count) / count - value) <= 0.5 / count + 1e-12


def test_bad_values_draw_nothing_or_everything():
    assert subunits_open(float("nan"), 10) == 0
    assert subunits_open(-3.0, 10) == 0 and subunits_open(7.0, 10) == 10


def test_a_flickering_subunit_is_open_its_gates_share_of_the_time():
    flicker = Flicker(seed=3)
    values = {"m": 0.2, "h": 0.7, "n": 0.5}
    na, k, conducting = [], [], 0
    for _ in range(20_000):
        states = flicker.step(values)
        na.append(states["Na"].copy())
        k.append(states["K"].copy())
        conducting += flicker.conducting("Na")
        assert flicker.conducting("K") == bool(states["K"].all())
    na, k = np.array(na), np.array(k)
    assert na[:, :3].mean() == pytest.approx(0.2, abs=0.02)
    assert na[:, 3].mean() == pytest.approx(0.7, abs=0.02)
    assert k.mean() == pytest.approx(0.5, abs=0.02)
    # all four open together about m^3 h of the time (the frames are correlated)
    assert conducting / 20_000 == pytest.approx(0.2 ** 3 * 0.7, abs=0.01)




def test_playback_at_a_hundredth_of_real_time_shows_each_moment_in_turn():
    dt = 2e-5
    times = np.arange(500) * dt + dt  # one 10 ms block
    m = np.linspace(0.05, 0.95, 500)
    playback = GatePlayback()
    playback.feed(times, np.full(500, -0.065), {"m": m, "h": m, "n": m})
    first = playback.advance(0.0, 0.01)
    assert first.time_s == pytest.approx(times[0])
    shown = [playback.advance(0.04, 0.01) for _ in range(25)]  # 1 s of wall time at 25 fps
    assert [f.time_s for f in shown] == sorted(f.time_s for f in shown)
    assert shown[-1].time_s == pytest.approx(times[0] + 0.01, abs=dt)  # 10 ms later
    assert shown[-1].values["m"] == pytest.approx(np.interp(shown[-1].time_s, times, m),
                                                  abs=0.01)


def test_playback_never_lags_far_and_restarts_when_time_goes_back():
    playback = GatePlayback()
    times = np.arange(10_000) * 2e-5
    playback.feed(times, np.zeros(10_000), {"m": np.zeros(10_000)})
    frame = playback.advance(0.0, 0.01)
    assert times[-1] - frame.time_s <= MAX_LAG_S + 1e-3  # within a frame of the limit
    playback.feed(np.arange(10) * 2e-5, np.ones(10), {"m": np.ones(10)})  # a new cell
    assert playback.advance(0.0, 1.0).vm_v == 1.0
    assert GatePlayback().advance(1.0, 1.0) is None
