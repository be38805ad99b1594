"""The y range that fits a scope's traces (numpy only, no Qt).

The range spans the 0.1th to 99.9th percentile of the samples, so the one-sample
capacitive spikes of an ideal clamp do not flatten the ionic currents to a line (they
still show, clipped at the edge), widened to hold any range that must show whole (the
command a protocol will give), and never narrower than a minimum span per unit, so a
flat trace shows its noise as noise rather than as a signal filling the screen.
"""

import numpy as np

# The smallest span (SI) a fitted axis shows: a 2 mV response still fills most of the
# plot, and the recording noise (tens of uV, a few pA) stays a thin line.
MIN_SPAN = {"V": 2e-3, "A": 20e-12, "S": 1e-9, "": 0.05}
PAD_FRACTION = 0.08  # room above and below the fitted traces
MAX_SAMPLES = 2_000_000  # past this, traces are reduced to block minima and maxima first


def fit_range(arrays, unit, include=None):
    """(low, high) in SI for traces (a list of arrays, NaN ignored) of an SI unit
    ('V', 'A', 'S', ''); include: (low, high) that must be inside, or None.
    Returns None when there is nothing to fit."""
    values = [a[np.isfinite(a)] for a in arrays]
    values = [v for v in values if v.size]
    low = high = None
    if values:
        data = np.concatenate(_reduce(values))
        low, high = (float(v) for v in np.percentile(data, [0.1, 99.9]))
    if include is not None:
        low = include[0] if low is None else min(low, include[0])
        high = include[1] if high is None else max(high, include[1])
    if low is None:
        return None
    span = max(high - low, MIN_SPAN.get(unit, 0.0))
    middle = (low + high) / 2
    pad = PAD_FRACTION * span
    return middle - span / 2 - pad, middle + span / 2 + pad


def _reduce(values):
    """Peak-preserving reduction (each block's min and max) of very long traces."""
    total = sum(v.size for v in values)
    if total <= MAX_SAMPLES:
        return values
    block = int(np.ceil(2 * total / MAX_SAMPLES))
    reduced = []
    for v in values:
        n = v.size // block * block
        if n:
            blocks = v[:n].reshape(-1, block)
            reduced += [blocks.min(axis=1), blocks.max(axis=1)]
        reduced.append(v[n:])
    return reduced
