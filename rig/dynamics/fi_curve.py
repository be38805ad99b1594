"""The f-I curve measured up and down: the firing rate at each injected current as the
current steps up from rest and then back down without resetting the cell, so that a
bistable band (rest and repetitive firing both stable, between the fold of cycles
and the lower Hopf) shows as hysteresis: silent on the way up, firing on the way down.

It runs on the rig's own engine (rig.simulation.engine.Rig, current clamp), each level
continuing from the state the previous one left.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rig import units
from rig.clamp import Mode
from rig.dynamics.system import Array

DETECT_MV = -20.0  # a spike is an upward crossing of this potential


@dataclass(frozen=True)
class FICurve:
    """Currents (pA) and the firing rates (Hz) measured at them going up and coming
    down (rate_down_hz is in the order of currents_pa, not of the descent)."""

    currents_pa: Array
    rate_up_hz: Array
    rate_down_hz: Array

    def bistable(self) -> Array:
        """The currents (pA) where the cell was silent going up but fired coming down."""
        return self.currents_pa[(self.rate_up_hz == 0) & (self.rate_down_hz > 0)]


def _rate_at(rig: Any, current_pa: float, settle_ms: float, measure_ms: float,
             sample_interval_s: float) -> float:
    """Firing rate (Hz) over measure_ms after settle_ms at current_pa, from the
    rig's present state."""
    current_a = units.pa_to_a(current_pa)
    settle = max(1, round(units.ms_to_s(settle_ms) / sample_interval_s))
    rig.advance(np.full(settle, current_a), sample_interval_s)
    samples = max(2, round(units.ms_to_s(measure_ms) / sample_interval_s))
    v_mv = units.v_to_mv(rig.advance(np.full(samples, current_a), sample_interval_s)["Vm"])
    spikes = np.count_nonzero((v_mv[:-1] < DETECT_MV) & (v_mv[1:] >= DETECT_MV))
    return float(spikes / units.ms_to_s(measure_ms))


def fi_hysteresis(rig: Any, currents_pa: Sequence[float], settle_ms: float = 100.0,
                  measure_ms: float = 200.0, sample_interval_s: float = 20e-6,
                  on_level: Callable[[int, int], object] | None = None) -> FICurve:
    """The f-I curve of rig (a rig.simulation.engine.Rig; put in current clamp from its
    settled rest) at currents_pa (pA, in rising order), up then down. At each level
    the cell runs settle_ms (ms) and its spikes are counted over the next measure_ms.
    on_level(done, total) is called after each level (an exception it raises stops
    the measurement and propagates)."""
    currents = np.asarray(currents_pa, dtype=float)
    rig.set_mode(Mode.CC)
    rig.set_holding(0.0, Mode.CC)
    rig.settle()
    rates = []
    for current in np.concatenate((currents, currents[::-1])):
        rates.append(_rate_at(rig, current, settle_ms, measure_ms, sample_interval_s))
        if on_level is not None:
            on_level(len(rates), 2 * len(currents))
    up, down = rates[:len(currents)], rates[len(currents):]
    return FICurve(currents, np.array(up), np.array(down[::-1]))
