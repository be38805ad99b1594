"""The compiled step of a deterministic Hodgkin-Huxley fibre, shared by the advance
functions of :mod:`rig.simulation.cable_kernel` (which describes the scheme): the gates,
the tridiagonal system of the membrane potentials and its solution, and what the advance
functions record. Units: mV, ms, pA, nS, pF.

numba caches each compiled function by its own file, with what it calls from other
files compiled in: after editing this module, touch cable_kernel.py (or remove its
cache in __pycache__) so that the advance functions are compiled again.
"""

import math

import numpy as np
from numba import njit

from rig.simulation.layout import FIRST_LABEL_ROW, OUT_IGATE, OUT_IM, OUT_VM, OUT_VMEM


@njit(nogil=True, cache=True, inline="always")
def _open_fractions(gates, i, gate_channel, gate_power, gate_floor, has_floor, open_fraction):
    """Fill open_fraction (per channel) from the gates of compartment i."""
    for ch in range(open_fraction.size):
        open_fraction[ch] = 1.0
    for g in range(gates.shape[0]):
        x = gates[g, i]
        if has_floor:
            x = gate_floor[g] + (1.0 - gate_floor[g]) * x
        p = x
        for _k in range(gate_power[g] - 1):
            p *= x
        open_fraction[gate_channel[g]] *= p


@njit(nogil=True, cache=True, inline="always")
def _record_at(out, s, scale, i, chan_g, chan_e, chan_label, vm, im, v, open_fraction, gates,
               n_sites):
    """Write sample s for compartment i (the electrode's): the patch kernel's rows (the
    amplifier's vm (mV) and im (pA), the membrane v (mV), no gating current, per-label
    currents and conductances, the gates), each times its row's scale (to SI)."""
    n_gates = gates.shape[0]
    n_labels = (out.shape[0] - n_sites - FIRST_LABEL_ROW - n_gates) // 2
    first_g_row = FIRST_LABEL_ROW + n_labels
    first_gate_row = first_g_row + n_labels
    out[OUT_VM, s] = vm * scale[OUT_VM]
    out[OUT_IM, s] = im * scale[OUT_IM]
    out[OUT_VMEM, s] = v * scale[OUT_VMEM]
    out[OUT_IGATE, s] = 0.0
    for row in range(FIRST_LABEL_ROW, first_gate_row):
        out[row, s] = 0.0
    for ch in range(open_fraction.size):
        gc = chan_g[ch, i] * open_fraction[ch]
        i_row = FIRST_LABEL_ROW + chan_label[ch]
        g_row = first_g_row + chan_label[ch]
        out[i_row, s] += gc * (v - chan_e[ch]) * scale[i_row]
        out[g_row, s] += gc * scale[g_row]
    for g in range(n_gates):
        out[first_gate_row + g, s] = gates[g, i] * scale[first_gate_row + g]


@njit(nogil=True, cache=True)
def _solve_twisted(d, r, g, v, c):
    """Solve the symmetric tridiagonal system (diagonal d, off-diagonal -g, right side r)
    into v, eliminating from both ends towards the middle at once (a twisted Thomas
    factorisation): two independent chains of divisions, which the processor overlaps,
    instead of one twice as long. Each chain is one multiply-add and one division per
    row; what the back substitution needs (r / d and the coupling over d, into c) is
    formed beside it. d, r and c are overwritten (d with reciprocals, r with r / d).
    Each chain carries its last pivot and right side in locals (dp, rp and dq, rq; up
    and down in the back substitution), so that a row waits for the division before it
    and not also for a store and a load through memory (the arrays might alias, so the
    compiler cannot keep them in registers itself): a third faster, the same numbers.
    Returns the largest |v| (NaN ignored), kept beside the back substitution's two
    chains, where it costs nothing, instead of a pass of its own (a serial chain of
    max, which does not vectorise)."""
    n = v.size
    if n == 1:
        v[0] = r[0] / d[0]
        return max(0.0, abs(v[0]))
    m = (n - 1) // 2  # the row where the two sweeps meet
    dp = 1.0 / d[0]
    rp = r[0] * dp
    d[0] = dp
    r[0] = rp
    c[0] = g[0] * dp
    dq = 1.0 / d[n - 1]
    rq = r[n - 1] * dq
    d[n - 1] = dq
    r[n - 1] = rq
    c[n - 1] = g[n - 2] * dq
    both = n - 2 - m  # steps of the sweep from the far end (m or m - 1)
    for k in range(1, both + 1):
        i = k
        gi = g[i - 1]
        dp = 1.0 / (d[i] - gi * gi * dp)
        rp = (r[i] + gi * rp) * dp
        d[i] = dp
        r[i] = rp
        c[i] = g[i] * dp
        j = n - 1 - k
        gj = g[j]
        dq = 1.0 / (d[j] - gj * gj * dq)
        rq = (r[j] + gj * rq) * dq
        d[j] = dq
        r[j] = rq
        c[j] = g[j - 1] * dq
    for i in range(both + 1, m + 1):
        gi = g[i - 1]
        dp = 1.0 / (d[i] - gi * gi * dp)
        rp = (r[i] + gi * rp) * dp
        d[i] = dp
        r[i] = rp
        c[i] = g[i] * dp
    # row m from above is done; add what the rows below it contribute
    middle = (r[m] / d[m] + g[m] * r[m + 1]) / (1.0 / d[m] - g[m] * g[m] * d[m + 1])
    v[m] = middle
    up = middle
    down = middle
    peak_up = max(0.0, abs(middle))
    peak_down = 0.0
    for k in range(1, max(m, n - 1 - m) + 1):
        i = m - k
        if i >= 0:
            up = r[i] + c[i] * up
            v[i] = up
            peak_up = max(peak_up, abs(up))
        j = m + k
        if j < n:
            down = r[j] + c[j] * down
            v[j] = down
            peak_down = max(peak_down, abs(down))
    return max(peak_up, peak_down)


# x / (exp(x) - 1) = 1 - x/2 + sum B_2k x^2k / (2k)!: the coefficients of x^2, x^4 ...
# x^22; below SERIES_LIMIT the truncation error is below 3e-19 of the value (the x^24
# term), so the series is the exact function to rounding (within 2 ulp of b / expm1 up
# to 1), and unlike expm1 it vectorises. The limit covers the rows of an HH membrane at
# the height of an action potential (g up to ~40 mS/cm^2, x = g dt / c ~1 at 25 us),
# which with a limit of 0.25 took expm1 one by one (about 40 rows a step, 3 % of the
# step's time on the bench's fibre).
_B2, _B4, _B6, _B8 = 1 / 12, -1 / 720, 1 / 30240, -1 / 1209600
_B10, _B12, _B14 = 1 / 47900160, -691 / 1307674368000, 1 / 74724249600
_B16, _B18 = -3617 / 10670622842880000, 43867 / 5109094217170944000
_B20, _B22 = -174611 / 802857662698291200000, 77683 / 14101100039391805440000
SERIES_LIMIT = 1.0


@njit(nogil=True, cache=True, inline="always")
def _membrane_row(i, a, b, v, cm_dt, dt_cm, r, d, axial):
    """Row i of the system: r = ce V + A, d = ce + B + the axial conductances to its
    neighbours (axial[0, i] and axial[1, i], 0 at the ends), ce = B / expm1(rate) (C/dt as
    the exact membrane update needs it; rate = B dt / C) by its series, exact to rounding
    below SERIES_LIMIT; returns whether the rate is beyond it (the caller then takes
    expm1 for that row)."""
    x = b[i] * dt_cm[i]
    x2 = x * x
    series = 1.0 - 0.5 * x + x2 * (_B2 + x2 * (_B4 + x2 * (_B6 + x2 * (
        _B8 + x2 * (_B10 + x2 * (_B12 + x2 * (_B14 + x2 * (_B16 + x2 * (
            _B18 + x2 * (_B20 + x2 * _B22))))))))))
    ce = cm_dt[i] * series
    r[i] = ce * v[i] + a[i]
    d[i] = ce + b[i] + axial[0, i] + axial[1, i]
    return x >= SERIES_LIMIT


@njit(nogil=True, cache=True)
def _step(v, gates, cm_dt, dt_cm, v_min, inv_dv, x_inf, decay, gate_channel, gate_power,
          gate_floor, has_floor, chan_g, chan_e, gated, fixed_a, fixed_b, g_axial, stim,
          injected, g_seal, work, stim2, injected2, table_base, clamp=-1, clamp_v=0.0,
          one_node=False):
    """One step of every compartment: the gates, then the tridiagonal solve for V.
    cm_dt, dt_cm: C / dt (nS) and its reciprocal per compartment; work: the arrays _work
    allocates; stim2, injected2: the second stimulator's compartment (-1: none) and the
    current (pA) it passes in this step; table_base: per compartment, the first row of its
    set of gate tables in x_inf (a stretch at another temperature has its own); clamp:
    -1, or the compartment held at clamp_v (mV), or n_compartments to hold them all (the
    axial wire); one_node (with clamp -1): the axial wire, free: every compartment at
    the one potential that balances the whole fibre's currents (the axial ones cancel).
    Returns (the largest |V| (mV), the current (pA) the clamp passes to hold its
    compartments over the step, capacitive jump not included).
    Written as passes over the compartments, each without calls or inner loops, so that
    the compiler vectorises them."""
    table_index, weight, open_fraction, power, a, b, d, r, coupling, axial = work
    n = v.size
    last = decay.shape[1] - 1 - 1e-9  # (a set's last row holds no step)
    for i in range(n):
        f = (v[i] - v_min) * inv_dv
        f = f if f >= 0.0 else 0.0  # also catches NaN, which must never index the tables
        f = f if f < last else last
        j = int(f)
        table_index[i] = j + table_base[i]
        weight[i] = f - j
    open_fraction[:, :] = 1.0
    for g in range(gates.shape[0]):
        table = x_inf[g]  # per voltage: x_inf, its step, decay, its step (one cache line)
        gg = gates[g]
        for i in range(n):
            j = table_index[i]
            w = weight[i]
            xi = table[j, 0] + w * table[j, 1]
            dc = table[j, 2] + w * table[j, 3]
            x = xi + (gg[i] - xi) * dc
            gg[i] = x
            power[i] = x
        if has_floor:
            floor = gate_floor[g]
            for i in range(n):
                power[i] = floor + (1.0 - floor) * power[i]
        fraction = open_fraction[gate_channel[g]]
        exponent = gate_power[g]
        if exponent == 1:
            for i in range(n):
                fraction[i] *= power[i]
        elif exponent == 3:
            for i in range(n):
                fraction[i] *= power[i] * power[i] * power[i]
        elif exponent == 4:
            for i in range(n):
                square = power[i] * power[i]
                fraction[i] *= square * square
        else:
            for _k in range(exponent - 1):
                for i in range(n):
                    fraction[i] *= power[i]
            for i in range(n):
                fraction[i] *= power[i]
    if gated.size == 2:
        # (HH: Na and K) the currents and one pass of the membrane update fused, the
        # same operations in the same order as the general passes below
        g0, f0, e0 = chan_g[gated[0]], open_fraction[gated[0]], chan_e[gated[0]]
        g1, f1, e1 = chan_g[gated[1]], open_fraction[gated[1]], chan_e[gated[1]]
        slow = 0
        for i in range(n):
            gc0 = g0[i] * f0[i]
            gc1 = g1[i] * f1[i]
            a[i] = fixed_a[i] + gc0 * e0 + gc1 * e1
            b[i] = fixed_b[i] + gc0 + gc1
            slow += _membrane_row(i, a, b, v, cm_dt, dt_cm, r, d, axial)
    else:
        a[:] = fixed_a
        b[:] = fixed_b
        for c in range(gated.size):
            ch = gated[c]
            g_ch = chan_g[ch]
            fraction = open_fraction[ch]
            e = chan_e[ch]
            for i in range(n):
                gc = g_ch[i] * fraction[i]
                a[i] += gc * e
                b[i] += gc
        slow = 0
        for i in range(n):
            slow += _membrane_row(i, a, b, v, cm_dt, dt_cm, r, d, axial)
    # the electrodes' rows again, with their currents (and the seal) added
    a[stim] += injected
    b[stim] += g_seal
    slow += _membrane_row(stim, a, b, v, cm_dt, dt_cm, r, d, axial)
    if stim2 >= 0:
        a[stim2] += injected2
        slow += _membrane_row(stim2, a, b, v, cm_dt, dt_cm, r, d, axial)
    if slow:
        for i in range(n):
            x = b[i] * dt_cm[i]
            if x >= SERIES_LIMIT:
                ce = b[i] / math.expm1(x)
                r[i] = ce * v[i] + a[i]
                d[i] = ce + b[i] + axial[0, i] + axial[1, i]
    if one_node:
        total_r = 0.0
        total_d = 0.0
        for i in range(n):
            total_r += r[i]
            total_d += d[i] - axial[0, i] - axial[1, i]
        u = total_r / total_d
        for i in range(n):
            v[i] = u
        return max(0.0, abs(u)), 0.0
    first, last_held = (0, n) if clamp >= n else (clamp, clamp + 1)
    if clamp >= 0:
        # A held row keeps its equation (in a and b, free now) and is pinned by a
        # penalty, which keeps the system symmetric: V = clamp_v to 1e-12.
        for i in range(first, last_held):
            a[i] = d[i]
            b[i] = r[i]
            d[i] *= 1e12
            r[i] = d[i] * clamp_v
    peak = _solve_twisted(d, r, g_axial, v, coupling)
    held = 0.0
    if clamp >= 0:
        for i in range(first, last_held):
            v[i] = clamp_v
            held += a[i] * clamp_v - b[i]
            if i > 0:
                held -= g_axial[i - 1] * v[i - 1]
            if i < n - 1:
                held -= g_axial[i] * v[i + 1]
    return peak, held


@njit(nogil=True, cache=True, inline="always")
def _stimulator_pa(pulses, clock, dt):
    """The current (pA) the second stimulator passes in the step that starts clock ms
    after its trigger: the sum of its pulses (rows: onset ms, width ms, amplitude pA)
    on then. A step belongs to a pulse if its middle lies in it, so a pulse of a whole
    number of steps covers exactly that many."""
    total = 0.0
    middle = clock + 0.5 * dt
    for p in range(pulses.shape[0]):
        if pulses[p, 0] <= middle < pulses[p, 0] + pulses[p, 1]:
            total += pulses[p, 2]
    return total


@njit(nogil=True, cache=True)
def _work(n_channels, g_axial, n):
    """Work arrays of _step for n_channels channels on n compartments with axial
    conductances g_axial, the last of them (2, n): each compartment's axial conductance
    to the neighbour before it and to the one after it (0 at a sealed end), so that the
    diagonal is formed in the same vectorised pass as the membrane's terms. The table
    indices are unsigned: numba then reads the gate tables without the wraparound of a
    negative index (three instructions per read in the one pass that does not vectorise)."""
    axial = np.zeros((2, n))
    for i in range(n - 1):
        axial[0, i + 1] = g_axial[i]
        axial[1, i] = g_axial[i]
    return (np.empty(n, np.uint64), np.empty(n), np.empty((n_channels, n)), np.empty(n),
            np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n), axial)
