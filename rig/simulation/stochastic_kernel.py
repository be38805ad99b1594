"""The compiled stepping code of a membrane whose channels are counted one by one
(Markov schemes, :mod:`rig.simulation.stochastic`), on one compartment. Units inside:
mV, ms, pA, nS, pF.

Each advance function has the patch kernel's signature (:mod:`rig.simulation.kernel`),
``ok, vm_peak, im_peak = advance(record, amp, state, command, steps_per_sample, out)``,
with record a :class:`rig.simulation.stochastic.StochasticModel` as a plain tuple and
state = (v_mv (1,), counts (n_states, 1), electrode (EL_*), rng): counts holds the
number of channels in each state of every population (whole numbers, kept as floats),
rng the state of the rig's own seeded stream for channel gating
(rig.simulation.channel_random, advanced in place: a run is reproducible and blocks
continue one stream).

Each population of channels is advanced by one of three algorithms (ALG_*):

* exact: event by event (Gillespie's direct method). The rates are those of the
  voltage at the start of each step, held over the step; events beyond the step's end
  are discarded and redrawn, which is exact because waiting times are memoryless. In
  an ideal voltage clamp the voltage is constant over each step, so the simulation
  is exact; where the voltage moves (current clamp) the rates lag it by at most dt,
  as the deterministic kernel's gates do.
* multinomial: the channels in each state are shared among the states they are in
  one step later by a multinomial draw (conditional binomials, one per destination)
  with the one-step transition probabilities P = expm(Q dt), which hold every path
  of one or more transitions within the step. For a voltage constant over the step
  this is exact in distribution at any dt and any rates (no sub-steps); P is
  tabulated against V every P_STEP_MV (rig.simulation.stochastic) and interpolated
  linearly, which keeps every row a probability distribution.
* mean: the multinomial's expectation (real-valued counts), counts <- counts P: the
  master equation dp/dt = p Q solved exactly over each step, for noise off.

Counted channels are blocked whole by block_step (once per block), a blocked channel
held in its population's row after all the states (rig.simulation.stochastic).

In an ideal voltage clamp the state's v is the pipette potential and the membrane is
at v_sign x it + v_offset_mv, the patch's configuration (rig.simulation.stochastic.
polarity). In current clamp the state's v is the membrane's: the pipette's face sits at
v_sign x (v - v_offset_mv), and the injected current reaches the membrane with the
sign of that face.

Sample k of a block is what a digitiser reads at t0 + k x the sample interval. Im is
the channels' (and seal's) current at that instant, so that a patch record holds
whole multiples of the unitary currents, plus the capacitive current's mean over the
interval before (nonzero only after a command change; carried in EL_IM between
blocks). In current clamp Im is the injected current.
"""

import math
from types import MappingProxyType

import numpy as np
from numba import njit

from rig.simulation.channel_random import binomial, exponential, uniform
from rig.simulation.kernel import _command_in_range, _past_breakdown, _peak, _table_position
from rig.simulation.layout import (
    AMP_BREAKDOWN,
    AMP_BRIDGE,
    AMP_COMMAND_SCALE,
    AMP_CP,
    AMP_CP_COMP,
    AMP_G_SEAL,
    AMP_G_SERIES,
    CLAMP_CC,
    CLAMP_VC_IDEAL,
    EL_BREAKDOWN,
    EL_IGATE,
    EL_IM,
    EL_VP,
    FIRST_LABEL_ROW,
    OUT_IGATE,
    OUT_IM,
    OUT_VM,
    OUT_VMEM,
)
from rig.units import MV_PER_MOHM_PA

ALG_MULTINOMIAL = 0
ALG_EXACT = 1
ALG_MEAN = 2
P_NEGLIGIBLE = 1e-15  # a one-step probability below this moves no channel
# Up to this many channels leaving a state are placed one uniform each (~1 ns and a
# short search), more by conditional binomials (one draw per destination, 25-70 ns):
# the same multinomial either way. 16 was the fastest of 8, 16, 32 and 64 with
# `vrig bench` (stochastic_realtime_factor)
FEW_LEAVERS = 16


@njit(nogil=True, cache=True, inline="always")
def _at(table, row, position):
    """Row `row` of a voltage table, linearly interpolated at position (index, weight)."""
    i, w = position
    return table[row, i] + w * (table[row, i + 1] - table[row, i])


@njit(nogil=True, cache=True)
def _exact(first, last, rate_tab, exit_tab, out_start, trans_dst, position, counts, dt,
           exits, rng):
    """Gillespie's direct method for the states first..last-1 over dt (ms) at fixed rates."""
    for s in range(first, last):
        exits[s] = _at(exit_tab, s, position)
    t = 0.0
    while True:
        total = 0.0
        for s in range(first, last):
            total += counts[s, 0] * exits[s]
        if total <= 0.0:
            return
        t += exponential(rng, 1.0 / total)
        if t >= dt:
            return
        u = uniform(rng) * total
        chosen = last - 1
        for s in range(first, last):
            u -= counts[s, 0] * exits[s]
            if u < 0.0:
                chosen = s
                break
        while counts[chosen, 0] <= 0.0:  # rounding put u past the last occupied state
            chosen -= 1
        u = uniform(rng) * exits[chosen]
        move = out_start[chosen + 1] - 1
        for k in range(out_start[chosen], out_start[chosen + 1]):
            u -= _at(rate_tab, k, position)
            if u < 0.0:
                move = k
                break
        counts[chosen, 0] -= 1.0
        counts[trans_dst[move], 0] += 1.0


@njit(nogil=True, cache=True)
def _multinomial(first, last, p_tab, p_order, position, counts, mean, moved, away, rng):
    """Advance states first..last-1 by one step: the channels of each state shared
    among their destinations with the one-step probabilities p_tab[i, s, q] (to state
    first + p_order[s, q]) at position (their expectations when mean). The number that
    leave is one binomial draw; a few leavers are placed one by one (one uniform each),
    many by conditional binomials over the destinations, likeliest first, which stop
    once every leaver is placed: both are the same multinomial."""
    n = last - first
    i, w = position
    for j in range(n):
        moved[first + j] = 0.0
    for s in range(first, last):
        count = counts[s, 0]
        if count <= 0.0:
            continue
        p_leave = 0.0
        for q in range(n):
            a = p_tab[i, s, q] + w * (p_tab[i + 1, s, q] - p_tab[i, s, q])
            away[q] = 0.0 if first + p_order[s, q] == s else a
            p_leave += away[q]
        if p_leave <= P_NEGLIGIBLE:
            moved[s] += count
            continue
        if mean:
            for q in range(n):
                moved[first + p_order[s, q]] += count * away[q]
            moved[s] += count * (1.0 - p_leave)
            continue
        leaving = binomial(rng, int(count + 0.5), min(1.0, p_leave))
        moved[s] += count - leaving
        if leaving <= FEW_LEAVERS:
            for _ in range(leaving):
                u = uniform(rng) * p_leave
                target = s
                for q in range(n):
                    u -= away[q]
                    if away[q] > 0.0:
                        target = first + p_order[s, q]
                    if u < 0.0:
                        break
                moved[target] += 1.0
            continue
        rest = p_leave
        for q in range(n):
            if leaving <= 0:
                break
            if away[q] <= 0.0:
                continue
            k = leaving if away[q] >= rest else binomial(rng, leaving, away[q] / rest)
            moved[first + p_order[s, q]] += k
            leaving -= k
            rest -= away[q]
        moved[s] += leaving  # rounding left some: they stay
    for s in range(first, last):
        counts[s, 0] = moved[s]


@njit(nogil=True, cache=True)
def _channels_step(record, v_mv, counts, dt, n_steps, exits, delta, rng):
    """Advance every population over n_steps steps of dt (ms) with the rates at v_mv
    (mV): the exact algorithm in one stretch of n_steps x dt (its rates do not change
    within it), the multinomial one step at a time (its table is for one step)."""
    (_cm, _dt, v_min, inv_dv, rate_tab, exit_tab, out_start, trans_dst, _open, pop_first,
     _gamma, _e, _label, algorithm, _g, _ge, _gl, _scale, _has_charge, p_tab, p_v_min,
     p_inv_dv, _pb, _br, _vs, _vo, p_order) = record
    position = _table_position(v_mv, v_min, inv_dv, rate_tab.shape[1])
    p_position = _table_position(v_mv, p_v_min, p_inv_dv, p_tab.shape[0])
    for p in range(algorithm.size):
        first, last = pop_first[p], pop_first[p + 1]
        if algorithm[p] == ALG_EXACT:
            _exact(first, last, rate_tab, exit_tab, out_start, trans_dst, position, counts,
                   dt * n_steps, exits, rng)
        else:
            for _ in range(n_steps):
                _multinomial(first, last, p_tab, p_order, p_position, counts,
                             algorithm[p] == ALG_MEAN, delta, exits, rng)


@njit(nogil=True, cache=True)
def _take(counts, first, last, free, rng):
    """Remove one channel, chosen uniformly among the free ones (free of them in the
    states first..last-1), from its state."""
    u = uniform(rng) * free
    chosen = last - 1
    for s in range(first, last):
        u -= counts[s, 0]
        if u < 0.0:
            chosen = s
            break
    while counts[chosen, 0] <= 0.0:  # rounding put u past the last occupied state
        chosen -= 1
    counts[chosen, 0] -= 1.0


@njit(nogil=True, cache=True)
def block_step(record, counts, elapsed_ms, weights, rng):
    """Let each counted channel bind or leave its blocker over elapsed_ms (ms): a
    two-state process per channel with its population's leaving rate block_rate_per_ms
    (1/ms) and the binding
    rate that gives the blocked fraction pop_block at equilibrium, so the blocked count
    stays binomial. Binding channels are taken uniformly from the free ones; unbinding
    ones are shared among the states with the free channels' occupancy (a blocked
    channel's gating is not followed; see rig.simulation.stochastic)."""
    pop_first, algorithm, pop_block, rates = record[9], record[13], record[22], record[23]
    n_pop = algorithm.size
    top = pop_first[n_pop]
    for p in range(n_pop):
        if algorithm[p] == ALG_MEAN:
            continue
        f = pop_block[p]
        row = top + p
        blocked = counts[row, 0]
        if f <= 0.0 and blocked <= 0.0:
            continue
        first, last = pop_first[p], pop_first[p + 1]
        free = 0.0
        for s in range(first, last):
            weights[s] = counts[s, 0]
            free += counts[s, 0]
        if f >= 1.0:
            p_bind, p_unbind = 1.0, 0.0
        else:
            relax = 1.0 - math.exp(-rates[p] * elapsed_ms / (1.0 - f))
            p_bind, p_unbind = f * relax, (1.0 - f) * relax
        n_bind = binomial(rng, int(free + 0.5), p_bind) if free > 0.0 and p_bind > 0.0 else 0
        n_unbind = (binomial(rng, int(blocked + 0.5), p_unbind)
                    if blocked > 0.0 and p_unbind > 0.0 else 0)
        unbinding = n_unbind
        left = free
        for _ in range(n_bind):
            _take(counts, first, last, left, rng)
            left -= 1.0
        # the unbinding ones: a multinomial over the free channels' states (before binding)
        rest = free
        for s in range(first, last):
            if n_unbind <= 0:
                break
            if rest <= 0.0:
                counts[first, 0] += n_unbind  # none free to copy: the first state
                n_unbind = 0
                break
            k = n_unbind if weights[s] >= rest else binomial(rng, n_unbind, weights[s] / rest)
            counts[s, 0] += k
            n_unbind -= k
            rest -= weights[s]
        counts[first, 0] += n_unbind
        counts[row, 0] = blocked + n_bind - unbinding


@njit(nogil=True, cache=True)
def _conductance(record, counts, open_count, g_seal):
    """Fill open_count (per population) and return (A, B): the membrane current is
    B V - A (pA), B in nS (channels, leak and seal), A in pA."""
    (_cm, _dt, _v, _i, _rt, _et, _os, _td, state_open, pop_first, gamma, pop_e, _label,
     _alg, chan_g, chan_e, _cl, _scale, _has_charge, _pt, _pv, _pi, _pb, _br, _vs,
     _vo, _po) = record
    b = g_seal
    a = 0.0
    for p in range(gamma.size):
        n_open = 0.0
        for s in range(pop_first[p], pop_first[p + 1]):
            n_open += state_open[s] * counts[s, 0]
        open_count[p] = n_open
        b += gamma[p] * n_open
        a += gamma[p] * n_open * pop_e[p]
    for ch in range(chan_g.size):
        b += chan_g[ch]
        a += chan_g[ch] * chan_e[ch]
    return a, b


@njit(nogil=True, cache=True)
def _record(record, out, s, vm, im, v, open_count, vm_peak, im_peak):
    """Write sample s (kernel units times each row's scale): Vm, Im, the membrane v,
    each label's current and conductance, each population's open count."""
    (_cm, _dt, _v, _i, _rt, _et, _os, _td, _open, _pf, gamma, pop_e, pop_label, _alg,
     chan_g, chan_e, chan_label, scale, _has_charge, _pt, _pv, _pi, _pb, _br, _vs,
     _vo, _po) = record
    n_pop = gamma.size
    n_labels = (out.shape[0] - FIRST_LABEL_ROW - n_pop) // 2
    first_g_row = FIRST_LABEL_ROW + n_labels
    first_open_row = first_g_row + n_labels
    out[OUT_VM, s] = vm * scale[OUT_VM]
    out[OUT_IM, s] = im * scale[OUT_IM]
    out[OUT_VMEM, s] = v * scale[OUT_VMEM]
    out[OUT_IGATE, s] = 0.0
    for row in range(FIRST_LABEL_ROW, first_open_row):
        out[row, s] = 0.0
    for p in range(n_pop):
        g = gamma[p] * open_count[p]
        out[FIRST_LABEL_ROW + pop_label[p], s] += g * (v - pop_e[p]) * scale[
            FIRST_LABEL_ROW + pop_label[p]]
        out[first_g_row + pop_label[p], s] += g * scale[first_g_row + pop_label[p]]
        out[first_open_row + p, s] = open_count[p] * scale[first_open_row + p]
    for ch in range(chan_g.size):
        row = FIRST_LABEL_ROW + chan_label[ch]
        out[row, s] += chan_g[ch] * (v - chan_e[ch]) * scale[row]
        out[first_g_row + chan_label[ch], s] += chan_g[ch] * scale[first_g_row + chan_label[ch]]
    return _peak(vm_peak, out[OUT_VM, s]), _peak(im_peak, out[OUT_IM, s])


@njit(nogil=True, cache=True)
def advance_vc_ideal(record, amp, state, command, steps_per_sample, out):
    """Ideal voltage clamp: the pipette follows the command at once, and the membrane
    (v_sign x the pipette + v_offset_mv: a patch's configuration) with it, so the
    channels see the new command from the first step of its interval. The state's v
    is the pipette potential; Vm records it, the membrane row the membrane's, Im the
    pipette current: v_sign x the outward membrane current, plus the seal's and the
    capacitive currents."""
    cm, dt = record[0], record[1]
    v_sign, v_offset = record[24], record[25]
    if not _command_in_range(command, amp):
        return False, 0.0, 0.0
    v_arr, counts, electrode, rng = state
    n_pop = record[9].size - 1
    open_count = np.zeros(n_pop)
    exits = np.zeros(counts.shape[0])
    delta = np.zeros(counts.shape[0])
    block_step(record, counts, command.size * steps_per_sample * dt, exits, rng)
    scale = amp[AMP_COMMAND_SCALE]
    g_seal = amp[AMP_G_SEAL]
    cp_residual = amp[AMP_CP] - amp[AMP_CP_COMP]
    breakdown = amp[AMP_BREAKDOWN]
    broken_at = electrode[EL_BREAKDOWN]
    vp = v_arr[0]
    cap_mean = electrode[EL_IM]
    vm_peak = 0.0
    im_peak = 0.0
    for s in range(command.size):
        v = v_sign * vp + v_offset
        a, b = _conductance(record, counts, open_count, 0.0)
        vm_peak, im_peak = _record(record, out, s, vp,
                                   v_sign * (b * v - a) + g_seal * vp + cap_mean, v,
                                   open_count, vm_peak, im_peak)
        c = command[s] * scale
        # both capacitors charge with the pipette: the membrane's by v_sign x its step
        cap_mean = (cm + cp_residual) * (c - vp) / (dt * steps_per_sample)
        v_new = v_sign * c + v_offset
        # the voltage is the command over the whole interval: one stretch
        _channels_step(record, v_new, counts, dt, steps_per_sample, exits, delta, rng)
        vp = c
        broken_at = _past_breakdown(v_new, breakdown, broken_at)
    v_arr[0] = vp
    electrode[EL_VP] = vp
    electrode[EL_IM] = cap_mean
    electrode[EL_IGATE] = 0.0
    electrode[EL_BREAKDOWN] = broken_at
    return True, vm_peak, im_peak


@njit(nogil=True, cache=True)
def advance_cc(record, amp, state, command, steps_per_sample, out):
    """Current clamp (or I=0 with a zero command) with no pipette capacitance: the
    injected current reaches the membrane directly, through the face the pipette
    touches; the pipette sits I*Rs above that face, at u = v_sign x (v - v_offset_mv).
    The seal joins the pipette to the bath, so the node's balance is
    Cm dv/dt = v_sign x I - g_seal x (v - v_offset_mv) - I_ion(v). The node is advanced
    exactly over each step with the channels as they were at its start, then the
    channels are advanced at the step's starting voltage."""
    cm, dt = record[0], record[1]
    v_sign, v_offset = record[24], record[25]
    if not _command_in_range(command, amp):
        return False, 0.0, 0.0
    v_arr, counts, electrode, rng = state
    n_pop = record[9].size - 1
    open_count = np.zeros(n_pop)
    exits = np.zeros(counts.shape[0])
    delta = np.zeros(counts.shape[0])
    block_step(record, counts, command.size * steps_per_sample * dt, exits, rng)
    scale = amp[AMP_COMMAND_SCALE]
    g_series = amp[AMP_G_SERIES]
    g_seal = amp[AMP_G_SEAL]
    bridge = amp[AMP_BRIDGE]
    breakdown = amp[AMP_BREAKDOWN]
    broken_at = electrode[EL_BREAKDOWN]
    v = v_arr[0]
    injected = electrode[EL_IM]
    vm_peak = 0.0
    im_peak = 0.0
    for s in range(command.size):
        _conductance(record, counts, open_count, g_seal)
        u = v_sign * (v - v_offset)
        vp = u + injected / g_series if g_series > 0.0 else u
        vm_peak, im_peak = _record(record, out, s, vp - bridge * injected * MV_PER_MOHM_PA,
                                   injected, v, open_count, vm_peak, im_peak)
        c = command[s] * scale
        for _ in range(steps_per_sample):
            a, b = _conductance(record, counts, open_count, g_seal)
            a += v_sign * c + g_seal * v_offset
            rate = b * dt / cm
            v_start = v
            if rate > 1e-12:
                v_inf = a / b
                v = v_inf + (v - v_inf) * math.exp(-rate)
            else:
                v = v + a * dt / cm
            _channels_step(record, v_start, counts, dt, 1, exits, delta, rng)
            broken_at = _past_breakdown(v, breakdown, broken_at)
        injected = c
    v_arr[0] = v
    u = v_sign * (v - v_offset)
    electrode[EL_VP] = u + injected / g_series if g_series > 0.0 else u
    electrode[EL_IM] = injected
    electrode[EL_IGATE] = 0.0
    electrode[EL_BREAKDOWN] = broken_at
    return True, vm_peak, im_peak


# The advance function for each clamp configuration the Markov kernel has (layout.CLAMP_*).
STEPS = MappingProxyType({CLAMP_VC_IDEAL: advance_vc_ideal, CLAMP_CC: advance_cc})
