"""The steady state a clamped cell settles to (used to start and reset runs)."""

import numpy as np
from scipy.optimize import brentq

SETTLE_GRID_MV = np.arange(-150.0, 100.0, 0.05)


def steady_voltage_mv(membrane_current_pa, external_current_pa):
    """The stable membrane potential (mV) where the steady-state membrane current
    (a function of V in mV, returning pA, outward +) equals the external current
    (a function of V in mV, returning pA injected).

    Among several roots the most negative one where the net current rises with
    voltage (a stable rest) is taken; without any root, the potential of least
    imbalance on the grid.
    """

    def imbalance(v_mv):
        return membrane_current_pa(v_mv) - external_current_pa(v_mv)

    f = imbalance(SETTLE_GRID_MV)
    crossings = np.nonzero(np.sign(f[:-1]) != np.sign(f[1:]))[0]
    if crossings.size == 0:
        return float(SETTLE_GRID_MV[np.argmin(np.abs(f))])
    rising = [i for i in crossings if f[i + 1] > f[i]]
    i = (rising or list(crossings))[0]
    return float(brentq(imbalance, SETTLE_GRID_MV[i], SETTLE_GRID_MV[i + 1], xtol=1e-9))


def is_stable(derivatives, state):
    """True if every eigenvalue of the Jacobian of derivatives (a function of the state
    vector) at the fixed point state has a negative real part."""
    state = np.asarray(state, dtype=float)
    n = state.size
    jacobian = np.empty((n, n))
    for j in range(n):
        h = 1e-4 if j == 0 else 1e-7
        up, down = state.copy(), state.copy()
        up[j] += h
        down[j] -= h
        jacobian[:, j] = (derivatives(up) - derivatives(down)) / (2 * h)
    return bool(np.all(np.linalg.eigvals(jacobian).real < 0))
