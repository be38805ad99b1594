"""Preallocated display buffers for the scopes (numpy only, no Qt).

* :class:`PeakRing` holds the continuous (gap-free) display. Like a digital
  oscilloscope's peak-detect acquisition it keeps the minimum and maximum of each bin
  of samples, so a 2 s window at 50 kHz (100 000 samples) is drawn from at most
  ``max_points`` values and no spike is lost between pixels. It is written in place:
  nothing is concatenated per frame.
* :class:`SweepStore` holds the sweeps of a protocol run or a loaded recording at full
  resolution for the episodic overlay, within a bounded number of samples.
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


class SweepStore:
    """The sweeps of one protocol run or one recording, for the episodic overlay.

    Each sweep keeps every signal at full resolution (float32: 7 significant digits,
    more than a screen or a cursor readout shows). At most ``capacity`` sweeps are kept,
    fewer when the sweeps are long (``budget`` samples per signal in all), never fewer
    than one; when a new sweep needs room the oldest is dropped and counted in
    ``dropped``.

    sample_interval_s: s; lengths: expected samples of each sweep (0-based list), so a
    sweep is known to be complete; longest: samples of the longest sweep.
    """

    def __init__(self, sample_interval_s, lengths, capacity=64, budget=2_000_000):
        """budget None: no sample budget (sweeps shown as views of loaded data)."""
        self.sample_interval_s = float(sample_interval_s)
        self.lengths = [int(n) for n in lengths]
        longest = max(self.lengths, default=1)
        self.x = np.arange(longest) * self.sample_interval_s
        fits = int(capacity) if budget is None else int(budget) // max(longest, 1)
        self.capacity = max(1, min(int(capacity), fits))
        self.dropped = 0
        self._sweeps = {}  # sweep -> {name: array}, oldest first (dicts keep order)
        self._filled = {}  # sweep -> samples written

    def expected(self, sweep):
        """Samples the sweep will have (the longest, if the protocol did not say)."""
        return self.lengths[sweep] if 0 <= sweep < len(self.lengths) else self.x.size

    def write(self, sweep, first_sample, signals):
        """Store a chunk of a sweep: signals {name: SI array}. Returns True if the chunk
        began a sweep the store had not seen (an older one may have been dropped)."""
        started = sweep not in self._sweeps
        if started:
            self._make_room()
            n = self.expected(sweep)
            self._sweeps[sweep] = {name: np.full(n, np.nan, dtype=np.float32) for name in signals}
            self._filled[sweep] = 0
        arrays = self._sweeps[sweep]
        end = first_sample
        for name, values in signals.items():
            if name not in arrays:
                continue
            store = arrays[name]
            end = min(first_sample + len(values), store.size)
            store[first_sample:end] = values[: end - first_sample]
        self._filled[sweep] = max(self._filled[sweep], end)
        return started

    def add_sweep(self, sweep, signals):
        """Show a whole recorded sweep: signals {name: SI array}, kept as given (a
        view of a loaded recording costs no copy)."""
        self._make_room()
        self._sweeps[sweep] = dict(signals)
        self._filled[sweep] = min(len(v) for v in signals.values()) if signals else 0

    def _make_room(self):
        while len(self._sweeps) >= self.capacity:
            oldest = next(iter(self._sweeps))
            del self._sweeps[oldest]
            del self._filled[oldest]
            self.dropped += 1

    def sweeps(self):
        """Sweep numbers held, oldest first."""
        return list(self._sweeps)

    def newest(self):
        """The most recent sweep number, or None."""
        return next(reversed(self._sweeps), None)

    def complete(self, sweep):
        """True once every sample of the sweep has arrived."""
        return self._filled.get(sweep, 0) >= self.expected(sweep)

    def data(self, sweep, name):
        """(x in s, y SI) of a sweep's samples so far; empty if the signal is absent."""
        n = self._filled.get(sweep, 0)
        y = self._sweeps.get(sweep, {}).get(name)
        if y is None:
            return self.x[:0], self.x[:0]
        n = min(n, y.size, self.x.size)
        return self.x[:n], y[:n]

    def value_at(self, sweep, name, t):
        """The sample nearest to time t (s) of a sweep, or NaN outside it."""
        _, y = self.data(sweep, name)
        k = int(round(t / self.sample_interval_s))
        return float(y[k]) if 0 <= k < y.size else float("nan")

    def clear(self):
        """Forget every sweep."""
        self._sweeps.clear()
        self._filled.clear()
        self.dropped = 0
