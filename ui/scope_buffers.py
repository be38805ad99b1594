"""Preallocated display buffers for the scopes (numpy only, no Qt).

* :class:`PeakRing` holds the continuous (gap-free) display. Like a digital
  oscilloscope's peak-detect acquisition it keeps the minimum and maximum of each bin
  of samples, so a 2 s window at 50 kHz (100 000 samples) is drawn from at most
  ``max_points`` values and no spike is lost between pixels. It is written in place:
  nothing is concatenated per frame.
* :class:`SweepSlots` holds the last few sweeps of a protocol at full resolution, one
  row per overlay slot, for the episodic display.
"""

import math

import numpy as np

GAP_FRACTION = 0.01  # blank space ahead of the write head in the sweeping display


class PeakRing:
    """Continuous display of one signal.

    window_s: time shown (s); sample_interval_s: s; style: 'sweep' (the trace is
    redrawn left to right over a fixed time axis, like an oscilloscope) or 'scroll'
    (the time axis moves, like a chart recorder); max_points: values kept per window.
    """

    def __init__(self, window_s, sample_interval_s, style="sweep", max_points=4000):
        self.window_s = float(window_s)
        self.sample_interval_s = float(sample_interval_s)
        self.style = style
        samples = max(1, int(round(self.window_s / self.sample_interval_s)))
        self.factor = max(1, math.ceil(samples / (max_points / 2)))
        self.per_bin = 1 if self.factor == 1 else 2
        self.bins = math.ceil(samples / self.factor)
        size = self.bins * self.per_bin
        self.bin_s = self.factor * self.sample_interval_s
        self._pending = np.empty(0)
        self.total_bins = 0  # bins written since the start
        if style == "sweep":
            self.x = np.repeat(np.arange(self.bins) * self.bin_s, self.per_bin)
            self.y = np.full(size, np.nan)
        else:
            # Twice the window: written linearly, shifted back once per window.
            self.x = np.zeros(2 * size)
            self.y = np.full(2 * size, np.nan)
            self._end = 0
        self._size = size
        self._gap = max(self.per_bin, int(size * GAP_FRACTION) // self.per_bin * self.per_bin)

    def append(self, values):
        """Add samples (SI) to the display."""
        values = np.asarray(values, dtype=float)
        if self._pending.size:
            values = np.concatenate((self._pending, values))
        k = values.size // self.factor
        self._pending = values[k * self.factor:].copy()
        if k == 0:
            return
        block = values[: k * self.factor].reshape(k, self.factor)
        if self.per_bin == 2:
            points = np.empty((k, 2))
            points[:, 0] = block.min(axis=1)
            points[:, 1] = block.max(axis=1)
            points = points.ravel()
        else:
            points = block[:, 0]
        first_bin = self.total_bins
        self.total_bins += k
        if self.style == "sweep":
            self._write_sweep(first_bin, points)
        else:
            self._write_scroll(first_bin, points)

    def _write_sweep(self, first_bin, points):
        size = self._size
        start = first_bin * self.per_bin
        if points.size > size:  # more than a window at once: only the newest shows
            start += points.size - size
            points = points[-size:]
        start %= size
        idx = (start + np.arange(points.size)) % size
        self.y[idx] = points
        head = (start + points.size) % size
        gap = (head + np.arange(self._gap)) % size
        self.y[gap] = np.nan

    def _write_scroll(self, first_bin, points):
        n = points.size
        if self._end + n > self.y.size:
            keep = max(0, self._size - n)
            self.x[:keep] = self.x[self._end - keep: self._end]
            self.y[:keep] = self.y[self._end - keep: self._end]
            self._end = keep
            points = points[-(self.y.size - keep):]
            n = points.size
        bins = first_bin + (np.arange(n) // self.per_bin)
        self.x[self._end: self._end + n] = bins * self.bin_s
        self.y[self._end: self._end + n] = points
        self._end += n

    def data(self):
        """(x, y) arrays to draw (views, not copies). x in s."""
        if self.style == "sweep":
            return self.x, self.y
        start = max(0, self._end - self._size)
        return self.x[start: self._end], self.y[start: self._end]

    def time_span(self):
        """(start, end) of the time axis to show, in s."""
        if self.style == "sweep":
            return 0.0, self.bins * self.bin_s
        end = max(self.total_bins * self.bin_s, self.window_s)
        return end - self.window_s, end


class SweepSlots:
    """The last ``slots`` sweeps of one signal at full resolution.

    longest: samples in the longest sweep; sample_interval_s: s.
    """

    def __init__(self, slots, longest, sample_interval_s):
        self.slots = int(slots)
        self.x = np.arange(int(longest)) * float(sample_interval_s)
        self.y = np.full((self.slots, int(longest)), np.nan)
        self.filled = np.zeros(self.slots, dtype=int)
        self.sweep_in_slot = np.full(self.slots, -1)

    def slot_of(self, sweep):
        """The slot a sweep is drawn in (sweeps reuse slots round-robin)."""
        return sweep % self.slots

    def write(self, sweep, first_sample, values):
        """Store samples of a sweep; returns (slot, started) where started is True if
        this chunk began a new sweep in that slot."""
        slot = self.slot_of(sweep)
        started = self.sweep_in_slot[slot] != sweep
        if started:
            self.sweep_in_slot[slot] = sweep
            self.filled[slot] = 0
        values = np.asarray(values, dtype=float)
        end = min(first_sample + values.size, self.x.size)
        self.y[slot, first_sample:end] = values[: end - first_sample]
        self.filled[slot] = max(self.filled[slot], end)
        return slot, started

    def data(self, slot):
        """(x, y) views of a slot's samples so far."""
        n = self.filled[slot]
        return self.x[:n], self.y[slot, :n]

    def clear(self):
        """Forget every sweep."""
        self.filled[:] = 0
        self.sweep_in_slot[:] = -1

    def ages(self):
        """{slot: age} for slots holding a sweep; 0 is the newest."""
        used = [s for s in range(self.slots) if self.sweep_in_slot[s] >= 0]
        order = sorted(used, key=lambda s: -self.sweep_in_slot[s])
        return {slot: age for age, slot in enumerate(order)}
