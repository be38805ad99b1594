"""The phase plane of V against the K activation gate n, with the nullclines of the
two-dimensional reduction of the Hodgkin-Huxley equations.

The reduction (Rinzel 1985, in Lecture Notes in Biomathematics 60:304-316; the form
used here is Izhikevich 2007, Dynamical Systems in Neuroscience, sec. 5.2.4):

- m is fast (tau_m < 0.5 ms against tau_n, tau_h of 1-9 ms at 6.3 degC): m = m_inf(V);
- along the HH trajectories h and n move almost in step: h = 0.89 - 1.1 n.

It is valid for cells whose sodium and potassium channels are the squid axon's HH
channels (hh-na with gates m, h; hh-k with gate n), at any temperature (all their
rates scale by the same Q10, so the time scales keep their ratios). For any other
cell the phase plane shows the trajectory only (see Reduction.valid_for).
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rig.dynamics.system import Array, PointSystem
from rig.simulation import reference

H_INTERCEPT = 0.89  # h = H_INTERCEPT - H_SLOPE * n (Izhikevich 2007, sec. 5.2.4)
H_SLOPE = 1.1
HH_CHANNELS = ("hh-na", "hh-k")
SOURCE = ("2-D reduction: m = m_inf(V), h = 0.89 - 1.1 n (Rinzel 1985; Izhikevich 2007, "
          "sec. 5.2.4); valid for the HH squid channels, where m is fast and h, n move "
          "in step")


@dataclass(frozen=True)
class PhasePlane:
    """The reduced system's V-nullcline as a grid of dV/dt (mV/ms; its zero level is
    the nullcline) over v_mv x n, and the n-nullcline n_inf(V) on v_mv."""

    v_mv: Array
    n: Array
    dv_dt: Array  # shape (len(v_mv), len(n))
    n_inf: Array


def valid_for(system: PointSystem, channel_names: tuple[str, ...]) -> str:
    """'' when the reduction holds for a cell with these channel presets and gates,
    else why not (one sentence)."""
    gates = set(system.membrane.gate_names)
    if not {"m", "h", "n"} <= gates or not set(HH_CHANNELS) <= set(channel_names):
        return ("no 2-D reduction for this cell (it holds for the HH squid channels "
                "hh-na and hh-k): the trajectory is shown without nullclines")
    return ""


def _gate_index(system: PointSystem, name: str) -> int:
    return system.membrane.gate_names.index(name)


def reduced_gates(system: PointSystem, v_mv: Array, n: Array) -> Array:
    """Every gate of the full model on the reduction's surface: m = m_inf(V),
    h = 0.89 - 1.1 n, n as given, any other gate at steady state (shape (gates,) +
    the broadcast shape of v_mv and n)."""
    v, n = np.broadcast_arrays(np.asarray(v_mv, float), np.asarray(n, float))
    gates = np.array(reference.steady_gates(system.membrane, v))
    gates[_gate_index(system, "h")] = np.clip(H_INTERCEPT - H_SLOPE * n, 0.0, 1.0)
    gates[_gate_index(system, "n")] = n
    return gates


def phase_plane(system: PointSystem, current_pa: float,
                v_range_mv: tuple[float, float] = (-90.0, 60.0),
                points: int = 301) -> PhasePlane:
    """The reduced system's nullclines with current_pa (pA) injected, on a grid of
    `points` potentials over v_range_mv (mV) and n from 0 to 1."""
    v = np.linspace(*v_range_mv, points)
    n = np.linspace(0.0, 1.0, points)
    vv, nn = np.meshgrid(v, n, indexing="ij")
    gates = reduced_gates(system, vv, nn)
    y = np.concatenate((vv[np.newaxis], gates))
    dv = system.rhs(y, current_pa)[0]
    n_inf = reference.steady_gates(system.membrane, v)[_gate_index(system, "n")]
    return PhasePlane(v, n, dv, n_inf)


def _crossings(values: Array, along: Array) -> tuple[npt.NDArray[np.intp], Array]:
    """(index of the row, position along `along`) of every zero of values (rows, k)
    between two neighbours of a row, by linear interpolation."""
    a, b = values[:, :-1], values[:, 1:]
    rows, cols = np.nonzero(np.sign(a) * np.sign(b) < 0)
    fraction = a[rows, cols] / (a[rows, cols] - b[rows, cols])
    return rows, along[cols] + fraction * (along[cols + 1] - along[cols])


def v_nullcline(plane: PhasePlane) -> tuple[Array, Array]:
    """Points (V in mV, n) on the V-nullcline (dV/dt = 0 of the reduced system), found
    along each V of the grid and along each n (so steep parts are dense too)."""
    rows, n_at = _crossings(plane.dv_dt, plane.n)
    cols, v_at = _crossings(plane.dv_dt.T, plane.v_mv)
    return (np.concatenate((plane.v_mv[rows], v_at)),
            np.concatenate((n_at, plane.n[cols])))
