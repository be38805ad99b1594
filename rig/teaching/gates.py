"""The gates of the Hodgkin-Huxley channels as things to draw: a Na channel is three m
subunits and one h, a K channel four n; each subunit is drawn open or closed.

Two pictures follow the model's gate values (m, h, n: the fraction of subunits open):
a population, where the share of subunits drawn open is the gate's value, and one
representative channel whose subunits flicker open and shut at random with the gate's
value as their probability of being open (a channel conducts only with every subunit
open, which is why the Na current needs m high and h not yet low).

GatePlayback replays the engine's blocks at wall-clock pace: at 0.01x a 10 ms block of
simulated time arrives once a second, and a spike inside it would otherwise be one jump.
"""

from collections import deque
from dataclasses import dataclass

import numpy as np

GATES = ("m", "h", "n")
CHANNELS = {"Na": ("m", "m", "m", "h"), "K": ("n", "n", "n", "n")}
FLICKER_RATE = 0.35  # chance per frame a subunit re-draws its state: a visible flicker
MAX_LAG_S = 0.03  # s simulated: further behind the newest sample, playback jumps ahead


def subunits_open(value: float, count: int) -> int:
    """How many of count drawn subunits are open for a gate value (0..1)."""
    if not np.isfinite(value):
        return 0
    return int(round(float(np.clip(value, 0.0, 1.0)) * count))


class Flicker:
    """A representative channel of each kind: subunits that open and shut at random.
    Each frame a subunit re-draws its state with probability FLICKER_RATE, open with
    probability its gate's value, so over many frames it is open that share of the
    time. seed: for a repeatable picture (tests)."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)
        self.states = {kind: np.zeros(len(gates), dtype=bool)
                       for kind, gates in CHANNELS.items()}

    def step(self, values: dict[str, float]) -> dict[str, np.ndarray]:
        """Advance one frame with the gate values {m, h, n}; returns {kind: open subunits}."""
        for kind, gates in CHANNELS.items():
            p = np.array([np.clip(values.get(g, 0.0), 0.0, 1.0) for g in gates])
            redraw = self._rng.random(p.size) < FLICKER_RATE
            fresh = self._rng.random(p.size) < p
            self.states[kind] = np.where(redraw, fresh, self.states[kind])
        return self.states

    def conducting(self, kind: str) -> bool:
        """A channel conducts only with all its subunits open."""
        return bool(np.all(self.states[kind]))


@dataclass(frozen=True)
class GateFrame:
    """What the view draws: the simulated time (s), Vm (V) and the gate values."""

    time_s: float
    vm_v: float
    values: dict


class GatePlayback:
    """The engine's samples of Vm and the gates, replayed at the speed the rig runs."""

    def __init__(self, max_samples: int = 200_000) -> None:
        self._times: deque = deque()
        self._rows: deque = deque()
        self._max = max_samples
        self.time_s: float | None = None  # the simulated time shown now

    def feed(self, times_s: np.ndarray, vm_v: np.ndarray,
             gates: dict[str, np.ndarray]) -> None:
        """Queue a block: sample times (s), Vm (V) and each gate's values."""
        if times_s.size and self._times and times_s[0] < self._times[-1]:
            self.reset()  # time went back: a new cell or a sweep
        stride = max(1, times_s.size // 400)  # a few hundred frames a block are plenty
        for i in range(0, times_s.size, stride):
            self._times.append(float(times_s[i]))
            self._rows.append((float(vm_v[i]),
                               {g: float(values[i]) for g, values in gates.items()}))
        while len(self._times) > self._max:
            self._times.popleft()
            self._rows.popleft()

    def reset(self) -> None:
        self._times.clear()
        self._rows.clear()
        self.time_s = None

    def advance(self, wall_s: float, speed: float | None) -> GateFrame | None:
        """Move the shown time on by wall_s x speed (None: as fast as possible, shown
        at the newest sample) and return the frame there, or None before any sample."""
        if not self._times:
            return None
        newest = self._times[-1]
        if self.time_s is None or speed is None:
            self.time_s = self._times[0] if speed is not None else newest
        else:
            self.time_s += max(wall_s, 0.0) * speed
        if newest - self.time_s > MAX_LAG_S:
            self.time_s = newest - MAX_LAG_S
        self.time_s = min(self.time_s, newest)
        while len(self._times) > 1 and self._times[1] <= self.time_s:
            self._times.popleft()  # shown already: let it go
            self._rows.popleft()
        vm, values = self._rows[0]
        return GateFrame(self._times[0], vm, values)
