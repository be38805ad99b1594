"""Real-time pacing: how long to wait so that simulated time keeps step with the clock.

The runner computes a chunk as fast as it can, then asks the pacer how long to wait
before the next one. The clock is injected (``time.perf_counter`` by default) so the
pacing arithmetic is tested exactly, without sleeping.
"""

import time
from collections.abc import Callable

MAX_LAG_S = 0.25  # beyond this behind the clock, pacing restarts rather than catch up


class Pacer:
    """Keeps simulated time equal to wall time x speed, from the last reset.

    clock: a callable returning seconds (monotonic)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self._start: float | None = None  # clock reading at the last reset (s)
        self._simulated_s = 0.0  # simulated since then (s)

    def reset(self) -> None:
        """Forget the past: the next chunk starts a new reference (a start, a change of
        speed, the end of a protocol)."""
        self._start = None

    def delay(self, produced_s: float, speed: float | None) -> float:
        """Seconds to wait after producing produced_s of simulated time at a speed
        (simulated/wall; None = as fast as possible, never wait). A run that fell more
        than MAX_LAG_S behind the clock (a busy machine) restarts its reference instead
        of racing to catch up."""
        if speed is None:
            return 0.0
        now = self.clock()
        if self._start is None:
            self._start = now
            self._simulated_s = 0.0
        self._simulated_s += produced_s
        due = self._start + self._simulated_s / speed
        if now - due > MAX_LAG_S:
            self._start = None
            return 0.0
        return max(0.0, due - now)
