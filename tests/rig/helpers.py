"""Small measurement helpers shared by the ground-truth tests (mV, ms, pA throughout)."""

import numpy as np

SAMPLE_INTERVAL_S = 20e-6  # 50 kHz, as in the shipped protocols
SAMPLE_MS = SAMPLE_INTERVAL_S * 1e3


def spike_indices(v_mv, threshold_mv=0.0):
    """Sample indices where v_mv crosses threshold_mv upwards (one per spike)."""
    v = np.asarray(v_mv, dtype=float)
    above = v > threshold_mv
    return np.nonzero(above[1:] & ~above[:-1])[0] + 1


def spike_count(v_mv, threshold_mv=0.0):
    """Number of upward crossings of threshold_mv."""
    return spike_indices(v_mv, threshold_mv).size


def crossing_time_ms(t_ms, y, level):
    """Linearly interpolated time of the first upward crossing of level, or nan."""
    y = np.asarray(y, dtype=float)
    i = np.nonzero((y[1:] > level) & (y[:-1] <= level))[0]
    if i.size == 0:
        return float("nan")
    k = i[0]
    return float(t_ms[k] + (level - y[k]) * (t_ms[k + 1] - t_ms[k]) / (y[k + 1] - y[k]))


def zero_crossing(x, y):
    """x where y changes sign (linear interpolation between the bracketing points)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    k = np.nonzero(np.sign(y[:-1]) != np.sign(y[1:]))[0]
    assert k.size == 1, f"expected one sign change, got {k.size}: {y}"
    k = k[0]
    return float(x[k] - y[k] * (x[k + 1] - x[k]) / (y[k + 1] - y[k]))


def cc_pulse(setup, amplitude_pa, duration_ms, before_ms=5.0, after_ms=30.0):
    """Vm (mV) for a current step from the settled rest in CC (sampled at 50 kHz)."""
    setup.set_mode("CC")
    setup.set_holding(0.0)
    setup.settle()
    n = [int(round(d / SAMPLE_MS)) for d in (before_ms, duration_ms, after_ms)]
    command = np.concatenate([np.zeros(n[0]), np.full(n[1], amplitude_pa * 1e-12),
                              np.zeros(n[2])])
    return setup.advance(command, SAMPLE_INTERVAL_S)["Vm"] * 1e3


def bisect(predicate, low, high, tolerance):
    """The boundary between predicate False (at low) and True (at high), to tolerance."""
    assert not predicate(low) and predicate(high), "the bracket does not straddle the boundary"
    while high - low > tolerance:
        mid = 0.5 * (low + high)
        if predicate(mid):
            high = mid
        else:
            low = mid
    return 0.5 * (low + high)
