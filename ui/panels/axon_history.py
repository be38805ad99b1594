"""What the axon view keeps of a running fibre, without Qt: the space-time map and the
electrodes' traces binned into a fixed ring of rows (reused, never reallocated while
the window and the fibre stay), a trigger on the stimulus, and the conduction
velocity from action-potential arrival times.

Units: s and V inside (as the chunks carry them); positions in m.
"""

import math

import numpy as np

MAP_ROWS = 400  # time rows of the map at most: a row per 1-2 screen pixels
MIN_ROWS = 50
FEW_SAMPLES = 4  # rows of fewer samples (on average) show their first, not their peak
PRE_TRIGGER_FRACTION = 0.1  # of the window shown before the stimulus in triggered mode
THRESHOLD_V = -0.020  # an action potential arrives when V crosses this upward
MIN_VELOCITY_M_S = 0.05  # slower than any fibre: arrivals further apart are not one AP


class ProfileHistory:
    """The last window_s of a fibre: rows (MAP_ROWS at most) of the profile's maximum
    (V, float32, (rows, positions)) and the traces' mean (V, (rows, traces)) per row of
    window_s / rows (when rows hold fewer than FEW_SAMPLES samples, their first).
    add() takes a chunk's arrays; shown() gives the rows to draw.

    triggered: the rows are frozen from the moment a window that starts
    PRE_TRIGGER_FRACTION before a stimulus (a step in the command) is full, until the
    next stimulus; otherwise they scroll with the newest sample."""

    def __init__(self, window_s, sample_interval_s, n_positions, n_traces, triggered=True):
        self.window_s = float(window_s)
        self.sample_interval_s = float(sample_interval_s)
        self.rows = int(min(MAP_ROWS, max(MIN_ROWS, round(window_s / sample_interval_s))))
        self.row_s = self.window_s / self.rows
        self.map = np.full((self.rows, n_positions), np.nan, np.float32)
        self.traces = np.full((self.rows, n_traces), np.nan, np.float32)
        self.frozen_map = self.map.copy()
        self.frozen_traces = self.traces.copy()
        self.next = 0  # the row written next
        self.filled = 0
        self.triggered = triggered
        self.trigger_s = None  # simulated time of the stimulus being captured
        self.captures = 0  # frozen windows so far (the view redraws when it grows)
        self.changed = True
        self._pending = None  # (row number, profile max, trace sum, count) not yet complete
        self._last_command = None
        self._captured_until = -math.inf  # end (s) of the last frozen window

    def matches(self, window_s, sample_interval_s, n_positions, n_traces):
        """True if this history serves these settings (else make a new one)."""
        return (self.window_s == window_s and self.sample_interval_s == sample_interval_s
                and self.map.shape[1] == n_positions and self.traces.shape[1] == n_traces)

    def add(self, end_s, profile, traces, command=None):
        """A chunk: end_s the simulated time (s) of its last sample; profile (n, positions)
        and traces (traces, n) in V; command (n,) the amplifier's command, whose steps
        are the stimuli the triggered mode starts at."""
        n = profile.shape[0]
        if n == 0:
            return
        dt = self.sample_interval_s
        times = end_s - dt * np.arange(n - 1, -1, -1)
        if self.triggered and command is not None:
            self._look_for_stimulus(times, np.asarray(command))
        row_of = np.floor(times / self.row_s + 1e-9).astype(np.int64)
        starts = np.concatenate(([0], np.flatnonzero(np.diff(row_of)) + 1))
        counts = np.diff(np.append(starts, n))
        rows = row_of[starts]
        if starts.size * FEW_SAMPLES > n:
            # rows of a sample or two: their first sample (reduceat costs per row, and
            # neighbouring samples differ by little); counted as one
            peak = profile[starts]
            means = np.asarray(traces, np.float64)[:, starts].T
            counts = np.ones_like(counts)
        else:
            peak = np.maximum.reduceat(profile, starts, axis=0)
            means = np.add.reduceat(np.asarray(traces, np.float64), starts, axis=1).T
            means /= counts[:, None]
        if self._pending is not None and self._pending[0] == rows[0]:
            _, p, t, k = self._pending
            peak[0] = np.maximum(peak[0], p)
            means[0] = (means[0] * counts[0] + t * k) / (counts[0] + k)
            counts[0] += k
        elif self._pending is not None:  # the pending row is complete: it goes first
            row, p, t, k = self._pending
            rows = np.concatenate(([row], rows))
            peak = np.concatenate((p[None], peak))
            means = np.concatenate((t[None], means))
            counts = np.concatenate(([k], counts))
        # the last row may go on in the next chunk
        self._pending = (rows[-1], peak[-1].copy(), means[-1].copy(), counts[-1])
        self._write(rows[:-1], peak[:-1], means[:-1])

    def _write(self, rows, peak, means):
        """Put complete rows (their numbers, profile maxima, trace means) in the ring,
        freezing the triggered window as soon as its last row is in."""
        if rows.size == 0:
            return
        if self.trigger_s is not None:
            start = math.floor((self.trigger_s - PRE_TRIGGER_FRACTION * self.window_s)
                               / self.row_s + 1e-9)
            last = start + self.rows - 1
            if rows[-1] >= last:
                k = int(np.searchsorted(rows, last, side="right"))
                self._put(peak[:k], means[:k])
                self.frozen_map[:] = self.ordered(self.map)
                self.frozen_traces[:] = self.ordered(self.traces)
                self._captured_until = (last + 1) * self.row_s
                self.trigger_s = None
                self.captures += 1
                self.changed = True
                peak, means = peak[k:], means[k:]
        self._put(peak, means)

    def _put(self, peak, means):
        m = peak.shape[0]
        if m == 0:
            return
        if m > self.rows:  # only the newest fit
            peak, means, m = peak[-self.rows:], means[-self.rows:], self.rows
        where = (self.next + np.arange(m)) % self.rows
        self.map[where] = peak
        self.traces[where] = means
        self.next = (self.next + m) % self.rows
        self.filled = min(self.filled + m, self.rows)
        if not (self.triggered and self.captures):  # else what is shown stays
            self.changed = True

    def _look_for_stimulus(self, times, command):
        previous = command[0] if self._last_command is None else self._last_command
        self._last_command = command[-1]
        steps = np.flatnonzero(np.diff(np.concatenate(([previous], command))) != 0)
        if steps.size and self.trigger_s is None:
            after = times[steps] > self._captured_until  # not a step inside the window shown
            if after.any():
                self.trigger_s = float(times[steps[np.argmax(after)]])

    def ordered(self, rows):
        """A ring's rows, oldest first (a new array)."""
        return np.concatenate((rows[self.next:], rows[:self.next]))

    def shown(self):
        """(map rows, trace rows, first filled row) to draw, oldest first: the frozen
        capture in triggered mode (once there is one), the newest rows otherwise; rows
        before the first filled one hold no data yet (NaN)."""
        self.changed = False
        if self.triggered and self.captures:  # before the first stimulus: live, scrolling
            return self.frozen_map, self.frozen_traces, 0
        return self.ordered(self.map), self.ordered(self.traces), self.rows - self.filled


class Arrivals:
    """The upward crossings of THRESHOLD_V at each electrode (the action potentials'
    arrival times, s, linearly interpolated between samples), the newest few of each."""

    KEEP = 8

    def __init__(self, n_electrodes, threshold_v=THRESHOLD_V):
        self.threshold_v = threshold_v
        self.times = [[] for _ in range(n_electrodes)]
        self._last = [None] * n_electrodes  # (t, v) of each electrode's last sample

    def add(self, end_s, sample_interval_s, traces):
        """traces: one (n,) array (V) per electrode, ending at end_s (s)."""
        for k, v in enumerate(traces):
            v = np.asarray(v, float)
            if v.size == 0:
                continue
            t = end_s - sample_interval_s * np.arange(v.size - 1, -1, -1)
            last = self._last[k]
            if last is not None:  # a crossing may fall between two chunks
                t, v_all = np.concatenate(([last[0]], t)), np.concatenate(([last[1]], v))
            else:
                v_all = v
            above = v_all >= self.threshold_v
            for i in np.flatnonzero(~above[:-1] & above[1:]):
                fraction = (self.threshold_v - v_all[i]) / (v_all[i + 1] - v_all[i])
                self.times[k].append(float(t[i] + (t[i + 1] - t[i]) * fraction))
            del self.times[k][:-self.KEEP]
            self._last[k] = (end_s, float(v[-1]))

    def clear(self):
        """Forget every arrival (the electrodes moved)."""
        self.times = [[] for _ in self.times]
        self._last = [None] * len(self._last)


def conduction_velocity(arrivals, a, b, x_a_m, x_b_m, names=("the first", "the second")):
    """(velocity m/s or None, why): from electrode a at x_a_m to b at x_b_m (m), the
    newest arrival at each; None with the reason (names: the two electrodes') when there
    is no velocity to give."""
    if a == b or x_a_m == x_b_m:
        return None, "pick two electrodes at different places"
    for name, k in zip(names, (a, b)):
        if not arrivals.times[k]:
            return None, (f"no action potential has crossed {arrivals.threshold_v * 1e3:g} mV "
                          f"at {name} yet")
    t_a, t_b = arrivals.times[a][-1], arrivals.times[b][-1]
    distance = abs(x_b_m - x_a_m)
    delay = abs(t_b - t_a)
    if delay == 0.0:
        return None, "the action potential reached both at once (too close together)"
    if delay > distance / MIN_VELOCITY_M_S:
        return None, f"the newest action potentials at {names[0]} and {names[1]} are not one"
    velocity = distance / delay
    return (velocity if math.isfinite(velocity) else None), ""
