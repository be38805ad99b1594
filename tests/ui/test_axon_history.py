"""What the axon view keeps, without Qt: rows binned from chunks of any size, the
window held from just before a stimulus, and arrival times and velocities against
values worked out by hand."""

import numpy as np
import pytest

from ui.panels.axon_history import (
    PRE_TRIGGER_FRACTION,
    Arrivals,
    ProfileHistory,
    conduction_velocity,
)

DT = 20e-6  # s


def feed(history, total_s, chunk_n, step_at_s):
    """Chunks of chunk_n samples up to total_s: the profile's one column is the sample's
    own time (s), the one trace twice that, the command steps up at step_at_s."""
    n_total = round(total_s / DT)
    for first in range(0, n_total, chunk_n):
        t = (first + np.arange(chunk_n)) * DT
        history.add(float(t[-1]), t[:, None].astype(np.float32), (2 * t)[None],
                    np.where(t >= step_at_s, 1e-9, 0.0))


@pytest.mark.parametrize("chunk_n", [7, 500, 5000])
def test_the_held_window_starts_just_before_the_stimulus(chunk_n):
    window = 0.010
    history = ProfileHistory(window, DT, 1, 1, triggered=True)
    step = 0.0331
    feed(history, 0.1, chunk_n, step)
    assert history.captures == 1
    rows, traces, first = history.shown()
    assert first == 0
    row_end = rows[:, 0]  # the maximum of each row: its last sample's time
    start = step - PRE_TRIGGER_FRACTION * window
    assert row_end[0] == pytest.approx(start + history.row_s - DT, abs=history.row_s)
    assert row_end[-1] == pytest.approx(start + window - DT, abs=history.row_s)
    assert np.all(np.diff(row_end) > 0)
    # the mean of each row is the mean of its samples' times (x2): within the row
    assert np.all(traces[:, 0] <= 2 * row_end + 1e-6)
    assert np.all(traces[:, 0] >= 2 * (row_end - history.row_s) - 1e-6)


def test_scrolling_shows_the_newest_rows():
    history = ProfileHistory(0.005, DT, 1, 1, triggered=False)
    feed(history, 0.05, 250, 1.0)  # 2500 samples: the last at 0.04998 s
    rows, _, first = history.shown()
    assert first == 0
    assert history.rows == 250 and rows.shape == (250, 1)
    assert rows[-1, 0] < 0.05 and rows[-1, 0] > 0.05 - 3 * history.row_s
    assert np.all(np.diff(rows[:, 0]) > 0)


def test_arrivals_and_velocity_from_a_travelling_ramp():
    """A ramp crossing -20 mV at 1.00 ms at one electrode and at 1.50 ms at one 10 mm
    away: 20 m/s, whatever the chunking."""
    t = np.arange(0, 0.004, DT)
    near = -0.065 + 100.0 * np.clip(t - 0.00055, 0, None)  # V: -20 mV at 1.0 ms
    far = -0.065 + 100.0 * np.clip(t - 0.00105, 0, None)
    arrivals = Arrivals(2)
    for first in range(0, t.size, 37):
        piece = slice(first, first + 37)
        arrivals.add(float(t[piece][-1]), DT, [near[piece], far[piece]])
    assert arrivals.times[0] == [pytest.approx(0.001)] and arrivals.times[1] == [
        pytest.approx(0.0015)]
    velocity, why = conduction_velocity(arrivals, 0, 1, 0.005, 0.015)
    assert velocity == pytest.approx(20.0) and why == ""
    assert conduction_velocity(arrivals, 1, 0, 0.015, 0.005)[0] == pytest.approx(20.0)


def test_no_velocity_says_why():
    arrivals = Arrivals(3)
    arrivals.times[0].append(0.1)
    assert conduction_velocity(arrivals, 0, 0, 0.0, 0.0)[1].startswith("pick two")
    velocity, why = conduction_velocity(arrivals, 0, 1, 0.0, 0.01, ("Stim", "E1"))
    assert velocity is None and "at E1" in why
    arrivals.times[1].append(10.0)  # 10 s later: not the same action potential
    assert "not one" in conduction_velocity(arrivals, 0, 1, 0.0, 0.01)[1]
