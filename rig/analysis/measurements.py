"""Cursor measurements on arrays: peak, mean and time to peak in a window, the
reversal potential of an I-V curve, and the chord conductance. The voltage-clamp
families that the window's Analysis tab and `vrig analyze` show are measured with
these by :mod:`rig.analysis.voltage_clamp` and :mod:`rig.analysis.recovery` (on a
:class:`rig.analysis.sweep_family.SweepFamily`); the fits are in
:mod:`rig.analysis.fits` and the spike measures in :mod:`rig.analysis.spikes`.

Pure functions on numpy arrays, SI throughout: times in s, voltages in V, currents
in A, conductances in S.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from rig import units
from rig.errors import VrigError
from rig.files.layout import FloatArray

__all__ = ["WindowMeasurement", "conductance", "reversal_by_interpolation", "window_measure"]

POLARITIES = ("abs", "min", "max")


# --- one window of one trace -------------------------------------------------------------

@dataclass(frozen=True)
class WindowMeasurement:
    """Cursor measurements in a window [t0, t1].

    peak: the selected extreme of y (unit of y); mean: the mean of y (unit of y);
    time_to_peak: s from t0 to the peak.
    """

    peak: float
    mean: float
    time_to_peak: float


def window_measure(t: ArrayLike, y: ArrayLike, t0: float, t1: float,
                   polarity: str = "abs") -> WindowMeasurement:
    """Peak, mean and time to peak of y between the cursors t0 and t1 (s, inclusive).

    t: sample times (s); y: the trace (any unit, e.g. A or V). polarity: 'abs' for the
    signed value of largest magnitude, 'min' or 'max' for the most negative or most
    positive value. NaN samples (sweep padding) are ignored.
    """
    if polarity not in POLARITIES:
        raise VrigError(f"polarity must be one of {', '.join(POLARITIES)}, got {polarity!r}")
    if not t1 > t0:
        raise VrigError(f"the window must end after it starts, got {t0:g} s to {t1:g} s")
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    inside = (t >= t0) & (t <= t1) & np.isfinite(y)
    if not inside.any():
        raise VrigError(f"no samples between {units.s_to_ms(t0):g} ms and {units.s_to_ms(t1):g} ms")
    tw, yw = t[inside], y[inside]
    if polarity == "abs":
        k = int(np.argmax(np.abs(yw)))
    else:
        k = int(np.argmin(yw) if polarity == "min" else np.argmax(yw))
    return WindowMeasurement(peak=float(yw[k]), mean=float(np.mean(yw)),
                             time_to_peak=float(tw[k] - t0))


def reversal_by_interpolation(v: ArrayLike, i: ArrayLike) -> float:
    """Reversal potential (V): where the current i (A) changes sign along v (V).

    Points are sorted by voltage and the crossing is interpolated linearly between the
    two bracketing points; a point exactly at zero is returned as it is. With several
    sign changes (a leak current can also reverse near rest) the highest-voltage one is
    returned, which is the reversal of a family's peak current. NaN if i never changes
    sign.
    """
    v_all = np.asarray(v, dtype=float)
    i_all = np.asarray(i, dtype=float)
    keep = np.isfinite(v_all) & np.isfinite(i_all)
    order = np.argsort(v_all[keep])
    vs, cs = v_all[keep][order], i_all[keep][order]  # sorted by voltage
    zeros = np.nonzero(cs == 0)[0]
    changes = np.nonzero(cs[:-1] * cs[1:] < 0)[0]
    best = float("nan")
    if changes.size:
        k = changes[-1]
        best = float(vs[k] - cs[k] * (vs[k + 1] - vs[k]) / (cs[k + 1] - cs[k]))
    if zeros.size and not vs[zeros[-1]] < best:
        best = float(vs[zeros[-1]])
    return best


def conductance(i: ArrayLike, v: ArrayLike, e_rev: float,
                min_driving_force: float = units.mv_to_v(1.0)) -> FloatArray:
    """Chord conductance G = I / (V - E) in S.

    i: currents (A); v: voltages (V); e_rev: reversal potential (V).
    Where |V - E| < min_driving_force (V) the ratio is meaningless and NaN is returned.
    """
    i = np.asarray(i, dtype=float)
    drive = np.asarray(v, dtype=float) - float(e_rev)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = i / drive
    return np.where(np.abs(drive) < min_driving_force, np.nan, g)
