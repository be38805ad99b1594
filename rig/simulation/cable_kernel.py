"""The compiled stepping code of a deterministic Hodgkin-Huxley fibre: N compartments
in a row, sealed ends. Units inside: mV, ms, pA, nS, pF, MOhm.

The advance functions take the same arguments as those of :mod:`rig.simulation.kernel`
(``ok, vm_peak, im_peak = advance(record, amp, state, command, steps_per_sample, out)``),
with record a :class:`rig.simulation.cable.CableModel` as a plain tuple: the patch's
record with the capacitance (pF) and the channel conductances (nS) given per
compartment, plus the axial conductances (nS) between neighbours, the index of the
compartment the amplifier's electrode is on and the indices of the recording sites.
out holds the patch kernel's rows for the electrode's compartment, then one row per
recording site: its membrane potential (V). Samples follow the patch kernel: sample k
is the state at t0 + k*dt, Im the mean over the interval that ends there.

Each step:

1. gates: the same exact exponential (Rush-Larsen) update from the same tables as the
   patch, at each compartment's starting voltage;
2. the membrane potentials: with the gates known, every compartment's membrane current
   is linear in its V (B V - A) and the axial currents are linear in its neighbours';
   the new potentials solve one tridiagonal system (Thomas algorithm, O(N)):

       ce_i (V_i' - V_i) = A_i - B_i V_i' + g_(i-1) (V_(i-1)' - V_i') + g_i (V_(i+1)' - V_i')

   where ce_i = B_i k / (1 - k), k = exp(-B_i dt / C_i), stands for C_i / dt. With no
   axial current this is exactly the patch kernel's update V' = V_inf + (V - V_inf) k,
   so a one-compartment fibre is the patch to rounding; with axial current the
   membrane term is, to first order in dt, trapezoidal (ce = C/dt - B/2 + O(dt)) and
   the axial term backward Euler (stable for any dt and compartment length).

The injected current enters the electrode's compartment (with the seal conductance,
as in the patch), a second stimulator's (record fields stim2 and stim2_pulses, timed by
the electrode's EL_STIM_CLOCK) its own; the gating current is not computed.
"""

import math
from types import MappingProxyType

import numpy as np
from numba import njit

from rig.simulation.kernel import _command_in_range, _past_breakdown, _peak
from rig.simulation.layout import (
    AMP_BREAKDOWN,
    AMP_BRIDGE,
    AMP_COMMAND_SCALE,
    AMP_G_SEAL,
    AMP_G_SERIES,
    CLAMP_CC,
    CLAMP_VC_IDEAL,
    EL_BREAKDOWN,
    EL_IGATE,
    EL_IM,
    EL_STIM_CLOCK,
    EL_VP,
    FIRST_LABEL_ROW,
    OUT_IGATE,
    OUT_IM,
    OUT_VM,
    OUT_VMEM,
)
from rig.units import MV_PER_MOHM_PA


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
# x^14; below SERIES_LIMIT the truncation error is below 1e-22 (the x^16 term), so the
# series is the exact function to rounding, and unlike expm1 it vectorises.
_B2, _B4, _B6, _B8 = 1 / 12, -1 / 720, 1 / 30240, -1 / 1209600
_B10, _B12, _B14 = 1 / 47900160, -691 / 1307674368000, 1 / 74724249600
SERIES_LIMIT = 0.25


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
        _B8 + x2 * (_B10 + x2 * (_B12 + x2 * _B14))))))
    ce = cm_dt[i] * series
    r[i] = ce * v[i] + a[i]
    d[i] = ce + b[i] + axial[0, i] + axial[1, i]
    return x >= SERIES_LIMIT


@njit(nogil=True, cache=True)
def _step(v, gates, cm_dt, dt_cm, v_min, inv_dv, x_inf, decay, gate_channel, gate_power,
          gate_floor, has_floor, chan_g, chan_e, gated, fixed_a, fixed_b, g_axial, stim,
          injected, g_seal, work, stim2, injected2, table_base, clamp=-1, clamp_v=0.0):
    """One step of every compartment: the gates, then the tridiagonal solve for V.
    cm_dt, dt_cm: C / dt (nS) and its reciprocal per compartment; work: the arrays _work
    allocates; stim2, injected2: the second stimulator's compartment (-1: none) and the
    current (pA) it passes in this step; table_base: per compartment, the first row of its
    set of gate tables in x_inf (a stretch at another temperature has its own); clamp:
    -1, or the compartment held at clamp_v (mV), or n_compartments to hold them all (the
    axial wire). Returns (the largest |V| (mV), the current (pA) the clamp passes to
    hold its compartments over the step, capacitive jump not included).
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


@njit(nogil=True, cache=True)
def advance_cable_cc(record, amp, state, command, steps_per_sample, out):
    """Current clamp (or I=0 with a zero command) on a fibre, the current injected into
    the electrode's compartment with no pipette capacitance (as the patch's advance_cc)."""
    (cm, dt, v_min, inv_dv, x_inf, decay, gate_channel, gate_power, gate_floor, _charge_fc,
     chan_g, chan_e, chan_label, out_scale, _charge, has_floor, g_axial, stim, sites,
     gated, fixed_a, fixed_b, _axial_wire, stim2, pulses, table_base) = record
    if not _command_in_range(command, amp):
        return False, 0.0, 0.0
    scale = amp[AMP_COMMAND_SCALE]
    vm_peak = 0.0
    im_peak = 0.0
    v, gates, electrode = state
    open_fraction = np.empty(chan_g.shape[0])
    work = _work(chan_g.shape[0], g_axial, v.size)
    cm_dt = cm / dt
    dt_cm = dt / cm
    g_series = amp[AMP_G_SERIES]
    g_seal = amp[AMP_G_SEAL]
    bridge = amp[AMP_BRIDGE]
    breakdown = amp[AMP_BREAKDOWN]
    broken_at = electrode[EL_BREAKDOWN]
    injected = electrode[EL_IM]
    clock = electrode[EL_STIM_CLOCK]
    first_site_row = out.shape[0] - sites.size
    for s in range(command.size):
        # sample s is the state at its own time; the pipette sits I*Rs above the
        # membrane, I the current injected until now (as the patch's advance_cc)
        v_stim = v[stim]
        vp = v_stim + injected / g_series if g_series > 0.0 else v_stim
        _open_fractions(gates, stim, gate_channel, gate_power, gate_floor, has_floor,
                        open_fraction)
        _record_at(out, s, out_scale, stim, chan_g, chan_e, chan_label,
                   vp - bridge * injected * MV_PER_MOHM_PA, injected, v_stim, open_fraction,
                   gates, sites.size)
        for k in range(sites.size):
            out[first_site_row + k, s] = v[sites[k]] * out_scale[OUT_VMEM]
        vm_peak = _peak(vm_peak, out[OUT_VM, s])
        im_peak = _peak(im_peak, out[OUT_IM, s])
        c = command[s] * scale
        for _ in range(steps_per_sample):
            i2 = _stimulator_pa(pulses, clock, dt)
            clock += dt
            peak, _ = _step(v, gates, cm_dt, dt_cm, v_min, inv_dv, x_inf, decay,
                            gate_channel, gate_power, gate_floor, has_floor, chan_g, chan_e,
                            gated, fixed_a, fixed_b, g_axial, stim, c, g_seal, work, stim2,
                            i2, table_base)
            if not peak <= breakdown and broken_at == 0.0:
                # (NaN alone sets nothing: the engine's finiteness check reports it)
                for i in range(v.size):
                    broken_at = _past_breakdown(v[i], breakdown, broken_at)
        injected = c
    electrode[EL_VP] = v[stim] + injected / g_series if g_series > 0.0 else v[stim]
    electrode[EL_IM] = injected
    electrode[EL_IGATE] = 0.0
    electrode[EL_BREAKDOWN] = broken_at
    electrode[EL_STIM_CLOCK] = clock
    return True, vm_peak, im_peak


@njit(nogil=True, cache=True)
def advance_cable_vc_ideal(record, amp, state, command, steps_per_sample, out):
    """Ideal voltage clamp on a fibre: the electrode's compartment follows the command at
    once (a point clamp), or, with the record's axial wire, every compartment does (HH's
    space clamp). Im is the current the clamp passes, capacitive jumps included, as the
    patch's advance_vc_ideal; no gating current."""
    (cm, dt, v_min, inv_dv, x_inf, decay, gate_channel, gate_power, gate_floor, _charge_fc,
     chan_g, chan_e, chan_label, out_scale, _charge, has_floor, g_axial, stim, sites,
     gated, fixed_a, fixed_b, axial_wire, stim2, pulses, table_base) = record
    if not _command_in_range(command, amp):
        return False, 0.0, 0.0
    scale = amp[AMP_COMMAND_SCALE]
    vm_peak = 0.0
    im_peak = 0.0
    v, gates, electrode = state
    n = v.size
    open_fraction = np.empty(chan_g.shape[0])
    work = _work(chan_g.shape[0], g_axial, n)
    cm_dt = cm / dt
    dt_cm = dt / cm
    g_seal = amp[AMP_G_SEAL]
    breakdown = amp[AMP_BREAKDOWN]
    broken_at = electrode[EL_BREAKDOWN]
    clock = electrode[EL_STIM_CLOCK]
    clamp = n if axial_wire else stim
    first, last_held = (0, n) if axial_wire else (stim, stim + 1)
    first_site_row = out.shape[0] - sites.size
    i_mean = electrode[EL_IM]
    for s in range(command.size):
        # sample s: the state at its own time, Im the mean over the interval before it
        _open_fractions(gates, stim, gate_channel, gate_power, gate_floor, has_floor,
                        open_fraction)
        _record_at(out, s, out_scale, stim, chan_g, chan_e, chan_label, v[stim], i_mean,
                   v[stim], open_fraction, gates, sites.size)
        for k in range(sites.size):
            out[first_site_row + k, s] = v[sites[k]] * out_scale[OUT_VMEM]
        vm_peak = _peak(vm_peak, out[OUT_VM, s])
        im_peak = _peak(im_peak, out[OUT_IM, s])
        c = command[s] * scale
        charge = 0.0
        for _ in range(steps_per_sample):
            jump = 0.0
            for i in range(first, last_held):  # the held membrane charges at once
                jump += cm_dt[i] * (c - v[i])
                v[i] = c  # so the gates see the command in this step, as in the patch
            i2 = _stimulator_pa(pulses, clock, dt)
            clock += dt
            peak, held = _step(v, gates, cm_dt, dt_cm, v_min, inv_dv, x_inf, decay,
                               gate_channel, gate_power, gate_floor, has_floor, chan_g,
                               chan_e, gated, fixed_a, fixed_b, g_axial, stim, 0.0, g_seal,
                               work, stim2, i2, table_base, clamp, c)
            charge += jump + held
            if not peak <= breakdown and broken_at == 0.0:
                for i in range(n):
                    broken_at = _past_breakdown(v[i], breakdown, broken_at)
        i_mean = charge / steps_per_sample
    electrode[EL_VP] = v[stim]
    electrode[EL_IM] = i_mean
    electrode[EL_IGATE] = 0.0
    electrode[EL_BREAKDOWN] = broken_at
    electrode[EL_STIM_CLOCK] = clock
    return True, vm_peak, im_peak


# The advance function for each clamp configuration (layout.CLAMP_*) a fibre supports.
STEPS = MappingProxyType({CLAMP_CC: advance_cable_cc,
                          CLAMP_VC_IDEAL: advance_cable_vc_ideal})
