"""Measurements on recordings for notebooks and scripts: cursor windows, I-V and
inactivation curves, reversal potential, conductance, and a tab-separated results
table; spike measures and the fits are re-exported from :mod:`rig.analysis.spikes` and
:mod:`rig.analysis.fits`. The window's Analysis tab and `vrig analyze` use
:mod:`rig.analysis.report`, built on these.

Pure functions on numpy arrays and :class:`rig.files.recording.Recording` objects, SI
throughout: times in s, voltages in V, currents in A, conductances in S.

Windows given for a recording are measured from the start of an epoch of the
recording's protocol (0-based epoch index, as in the epoch table), or from the start
of the sweep when the epoch index is None.
"""

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from rig import units
from rig.analysis.fits import (
    BoltzmannFit,
    ExponentialFit,
    boltzmann,
    fit_boltzmann,
    fit_exponential,
)
from rig.analysis.spikes import Spike, SpikeCriteria, find_spikes, firing_rate
from rig.errors import VrigError
from rig.files.layout import FloatArray
from rig.files.recording import Recording
from rig.protocols.protocol import Protocol, protocol_from_dict, render_sweep

__all__ = ["BoltzmannFit", "ExponentialFit", "IVCurve", "Spike", "SpikeCriteria",
           "WindowMeasurement", "boltzmann", "conductance", "epoch_start_s", "find_spikes",
           "firing_rate", "fit_boltzmann", "fit_exponential", "iv_curve", "results_table",
           "reversal_by_interpolation", "steady_state_inactivation", "sweep_measurements",
           "window_measure"]

POLARITIES = ("abs", "min", "max")
KINDS = ("peak", "steady")


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


# --- a family of sweeps --------------------------------------------------------------------

def _protocol(recording: Recording) -> Protocol:
    text = recording.metadata.get("protocol_json")
    if not text:
        raise VrigError("the recording does not say which protocol made it "
                        "(no 'protocol_json' in its metadata), so epochs cannot be found")
    try:
        return protocol_from_dict(json.loads(text))
    except json.JSONDecodeError as exc:
        raise VrigError(f"the recording's protocol_json is not valid JSON: {exc}") from None


def epoch_start_s(recording: Recording, sweep: int, epoch_index: int | None) -> float:
    """Start of an epoch (0-based) in a sweep (0-based), in s from the sweep's start.

    epoch_index None means the start of the sweep (0 s).
    """
    if epoch_index is None:
        return 0.0
    starts = render_sweep(_protocol(recording), sweep).epoch_starts
    if not 0 <= epoch_index < len(starts):
        raise VrigError(f"epoch {epoch_index} does not exist: the protocol has "
                        f"epochs 0 to {len(starts) - 1}")
    return starts[epoch_index] * recording.sample_interval_s


def _signal(recording: Recording, name: str) -> FloatArray:
    if name not in recording.signals:
        raise VrigError(f"the recording has no signal {name!r}; it has "
                        f"{', '.join(recording.signals)}")
    return recording.signals[name]


def sweep_measurements(recording: Recording, signal: str, window_s: tuple[float, float],
                       epoch_index: int | None = None,
                       polarity: str = "abs") -> list[WindowMeasurement]:
    """Cursor measurements of one signal in every sweep.

    signal: a signal name ('Im', 'INa', 'Vm', ...); window_s: (t0, t1) in s from the
    start of epoch epoch_index (or of the sweep). Returns a list of WindowMeasurement,
    one per sweep, in the signal's SI unit.
    """
    t0, t1 = window_s
    values = _signal(recording, signal)
    t = recording.time()
    result = []
    for k in range(recording.n_sweeps):
        start = epoch_start_s(recording, k, epoch_index)
        result.append(window_measure(t, values[k], start + t0, start + t1, polarity))
    return result


def _levels(recording: Recording, window_s: tuple[float, float],
            epoch_index: int | None) -> FloatArray:
    """Mean voltage command (V) in a window of every sweep."""
    if recording.units.get("command") != "V":
        raise VrigError("I-V and inactivation curves need a voltage-clamp recording "
                        "(a command in V)")
    return np.array([m.mean for m in
                     sweep_measurements(recording, "command", window_s, epoch_index)])


def _measured(recording: Recording, signal: str, window_s: tuple[float, float],
              epoch_index: int | None, kind: str, polarity: str) -> FloatArray:
    if kind not in KINDS:
        raise VrigError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    found = sweep_measurements(recording, signal, window_s, epoch_index, polarity)
    return np.array([m.peak if kind == "peak" else m.mean for m in found])


@dataclass(frozen=True)
class IVCurve:
    """voltages: the command in the window (V); currents: the measurement (A)."""

    voltages: FloatArray
    currents: FloatArray


def iv_curve(recording: Recording, window_s: tuple[float, float],
             test_epoch_index: int | None, kind: str = "peak", signal: str = "Im",
             polarity: str = "abs") -> IVCurve:
    """Current-voltage relation of a voltage-clamp family.

    window_s: (t0, t1) in s from the start of the test epoch (0-based index; None for
    the sweep start). kind: 'peak' (signed extreme chosen by polarity) or 'steady'
    (mean over the window; put the window at the end of the step). signal: the
    current to measure ('Im', or a channel current such as 'INa').
    Returns an :class:`IVCurve` with the command voltage in the window (V) and the
    current (A), one point per sweep.
    """
    voltages = _levels(recording, window_s, test_epoch_index)
    currents = _measured(recording, signal, window_s, test_epoch_index, kind, polarity)
    return IVCurve(voltages=voltages, currents=currents)


def steady_state_inactivation(recording: Recording, prepulse_epoch_index: int,
                              test_epoch_index: int | None, window_s: tuple[float, float],
                              signal: str = "Im",
                              polarity: str = "abs") -> tuple[FloatArray, FloatArray]:
    """h-infinity: peak test current against prepulse voltage, normalised to its largest.

    prepulse_epoch_index, test_epoch_index: 0-based epochs; window_s: (t0, t1) in s from
    the start of the test epoch, around the peak. Returns (prepulse voltages in V,
    normalised currents, dimensionless, 1 at the largest |current|).
    """
    if recording.units.get("command") != "V":
        raise VrigError("inactivation curves need a voltage-clamp recording (a command in V)")
    found = _measured(recording, signal, window_s, test_epoch_index, "peak", polarity)
    voltages: list[float] = []
    for k in range(recording.n_sweeps):  # the prepulse's level over its second half
        start = epoch_start_s(recording, k, prepulse_epoch_index)
        end = epoch_start_s(recording, k, prepulse_epoch_index + 1)
        m = window_measure(recording.time(), recording.signals["command"][k],
                           (start + end) / 2, end - recording.sample_interval_s / 2)
        voltages.append(m.mean)
    biggest = found[np.argmax(np.abs(found))]
    if biggest == 0:
        raise VrigError("the test current is zero in every sweep")
    return np.array(voltages), found / biggest


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
                min_driving_force: float = 1e-3) -> FloatArray:
    """Chord conductance G = I / (V - E) in S.

    i: currents (A); v: voltages (V); e_rev: reversal potential (V).
    Where |V - E| < min_driving_force (V) the ratio is meaningless and NaN is returned.
    """
    i = np.asarray(i, dtype=float)
    drive = np.asarray(v, dtype=float) - float(e_rev)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = i / drive
    return np.where(np.abs(drive) < min_driving_force, np.nan, g)


# --- results for the clipboard ---------------------------------------------------------

def _cell(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return "NaN" if math.isnan(value) else f"{value:.6g}"
    return str(value).replace("\t", " ").replace("\n", " ")


def results_table(rows: Iterable[Mapping[str, object]],
                  columns: Sequence[str] | None = None) -> str:
    """Tab-separated text (header line, then one line per row) for the clipboard.

    rows: a list of dicts; columns: the keys to write, in order (default: the keys of
    the first row). Numbers are written with 6 significant digits; missing keys and NaN
    as 'NaN'. Units belong in the column names (e.g. 'V_mV', 'I_pA').
    """
    rows = list(rows)
    if columns is None:
        columns = list(rows[0]) if rows else []
    lines = ["\t".join(_cell(c) for c in columns)]
    for row in rows:
        lines.append("\t".join(_cell(row.get(c, float("nan"))) for c in columns))
    return "\n".join(lines) + "\n"
