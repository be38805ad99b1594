"""The compiled stepping code of the deterministic Hodgkin-Huxley membrane on one
compartment. Units inside: mV, ms, pA, nS, pF, MOhm, fC.

One call advances a whole block of samples so that the interpreter (and its lock) is
touched once per block, not once per step. There is one advance function per clamp
configuration (layout.CLAMP_*), chosen once per block by the engine, each taking

    ok, vm_peak, im_peak = advance(record, amp, state, command, steps_per_sample, out)

record: a :class:`rig.simulation.layout.KernelModel` as a plain tuple (``tuple(model)``; numba types
a plain tuple's items at each call much faster than a named tuple's, and the kernel names the fields
again at once); amp: the amplifier array (AMP_*); state: (v_mv (n_compartments,),
gates (n_gates, n_compartments), electrode (EL_*)), updated in place; command: per-sample
command in SI (V in VC, A in CC; zeros in I=0), scaled by amp[AMP_COMMAND_SCALE] and refused as
a whole (ok False, nothing stepped) if any sample is beyond amp[AMP_COMMAND_LIMIT] or not finite;
out: (layout.output_rows(n_labels, n_gates), n_samples) filled in SI (each row scaled by
model.out_scale): the OUT_* rows, then each label's current (A, outward positive), each label's
conductance (S) and each gate's value. vm_peak, im_peak: the largest |value|
of the OUT_VM and OUT_IM rows (SI; nan if any is nan), so that the output chain need not search
them again.

Sample k of a block is what a digitiser reads at t0 + k x the sample interval: the
instantaneous state (Vm, Vmem, gates, channel currents and conductances) before that
interval is stepped, so command sample k shows first at sample k + 1; Im and the gating
current are their means over the interval ending there (an integrating converter), the
previous one carried in EL_IM / EL_IGATE so that blocks join without a seam.

Each step:

1. gates: exact exponential (Rush-Larsen) update at the step's starting voltage, from
   precomputed tables of x_inf and exp(-dt/tau) (linear interpolation in V);
2. the membrane node is linear in V once the gates are known. With only the access
   resistance in the way it is advanced with the exact solution of C dV/dt = A - B V
   over the step, which stays stable when Rs*Cm is shorter than dt. With a pipette
   capacitance in current clamp the pipette and membrane nodes form a 2x2 linear
   system, solved implicitly (backward Euler);
3. the amplifier: in VC the headstage drives the pipette to the command plus the
   series-resistance prediction and correction (fed back through a lag filter, so
   that over-compensation rings and then oscillates, bounded by the headstage rails);
   fast and whole-cell capacitance compensation subtract their model currents from
   the measured current. In CC, bridge balance subtracts I*Rs from the recorded
   voltage and capacitance neutralisation feeds back C dVp/dt through the lag.

The gating current (charge moved by the gates per ms) is measured in VC but, as in
HH's fitted membrane, not fed back into Vm.

A membrane driven beyond +/-AMP_BREAKDOWN breaks down (electroporates): the kernel
notes the first voltage past it in EL_BREAKDOWN and the engine declares the cell lost.
"""

import math
from types import MappingProxyType

import numpy as np
from numba import njit

from rig.simulation.layout import (
    AMP_BREAKDOWN,
    AMP_BRIDGE,
    AMP_CM_COMP,
    AMP_COMMAND_LIMIT,
    AMP_COMMAND_SCALE,
    AMP_CORRECTION,
    AMP_CP,
    AMP_CP_COMP,
    AMP_G_SEAL,
    AMP_G_SERIES,
    AMP_LAG,
    AMP_NEUTRALIZATION,
    AMP_PREDICTION,
    AMP_RAIL,
    AMP_RS_COMP,
    CLAMP_CC,
    CLAMP_CC_PIPETTE,
    CLAMP_VC,
    CLAMP_VC_IDEAL,
    EL_BREAKDOWN,
    EL_IGATE,
    EL_ILAG,
    EL_IM,
    EL_RAIL_HITS,
    EL_VLAG,
    EL_VP,
    EL_VPRED,
    FIRST_LABEL_ROW,
    OUT_IGATE,
    OUT_IM,
    OUT_VM,
    OUT_VMEM,
)
from rig.units import MS_PER_MOHM_PF, MV_PER_MOHM_PA


@njit(nogil=True, cache=True, inline="always")
def _command_in_range(command, amp):
    """True if every sample of command (SI) is within the amplifier's limit (NaN is not)."""
    scale = amp[AMP_COMMAND_SCALE]
    limit = amp[AMP_COMMAND_LIMIT]
    for s in range(command.size):
        c = command[s] * scale
        if not -limit <= c <= limit:
            return False
    return True


@njit(nogil=True, cache=True, inline="always")
def _peak(peak, x):
    """The larger of peak and |x|; nan once either is nan."""
    if math.isnan(peak):
        return peak
    x = abs(x)
    return x if math.isnan(x) or x > peak else peak


@njit(nogil=True, cache=True)
def _keep(dt_ms, tau_ms):
    """Fraction of a first-order deviation left after dt (0 for tau <= 0)."""
    return math.exp(-dt_ms / tau_ms) if tau_ms > 0.0 else 0.0


@njit(nogil=True, cache=True, inline="always")
def _table_position(v_mv, v_min_mv, inv_dv_mv, n_v):
    """(index, weight) of v_mv (mV) on a table of n_v voltages from v_min_mv in steps
    of 1/inv_dv_mv, held at the edges; NaN goes to the first entry."""
    last_index = n_v - 1
    f = (v_mv - v_min_mv) * inv_dv_mv
    if not f >= 0.0:  # also catches NaN, which must never index the tables
        f = 0.0
    elif f >= last_index:
        f = last_index - 1e-9
    i = int(f)
    return i, f - i


@njit(nogil=True, cache=True, inline="always")
def _gates_step(x_inf, decay, position, gates, charge_fc, track_charge):
    """Advance every gate of compartment 0 by one step, Rush-Larsen from the tables at
    position ((index, weight) from _table_position); returns the charge the gates
    moved (fC) when track_charge, else 0."""
    i, w = position
    moved = 0.0
    for g in range(gates.shape[0]):
        xi = x_inf[g, i] + w * (x_inf[g, i + 1] - x_inf[g, i])
        dc = decay[g, i] + w * (decay[g, i + 1] - decay[g, i])
        new = xi + (gates[g, 0] - xi) * dc
        if track_charge:
            moved += charge_fc[g] * (new - gates[g, 0])
        gates[g, 0] = new
    return moved


@njit(nogil=True, cache=True, inline="always")
def _conductance(gates, gate_channel, gate_power, gate_floor, has_floor, chan_g, chan_e,
                 open_fraction, g_seal):
    """Fill open_fraction (per channel) from the gates of compartment 0 and return
    (A, B): the membrane current is B V - A (pA), B in nS (with the seal), A in pA."""
    for ch in range(open_fraction.size):
        open_fraction[ch] = 1.0
    for g in range(gates.shape[0]):
        x = gates[g, 0]
        if has_floor:
            x = gate_floor[g] + (1.0 - gate_floor[g]) * x
        p = x
        for _k in range(gate_power[g] - 1):
            p *= x
        open_fraction[gate_channel[g]] *= p
    b = g_seal
    a = 0.0
    for ch in range(open_fraction.size):
        gc = chan_g[ch] * open_fraction[ch]
        b += gc
        a += gc * chan_e[ch]
    return a, b


@njit(nogil=True, cache=True, inline="always")
def _record(out, s, scale, chan_g, chan_e, chan_label, vm, im, v, i_gate, open_fraction,
            gates, vm_peak, im_peak):
    """Write sample s: the amplifier's outputs vm (mV), im (pA), the membrane v (mV),
    the gating current (pA), per-label currents and conductances and the gates, each
    times its row's scale (to SI); returns the peaks (vm_peak, im_peak) with s's outputs."""
    n_labels = (out.shape[0] - FIRST_LABEL_ROW - gates.shape[0]) // 2
    first_g_row = FIRST_LABEL_ROW + n_labels
    first_gate_row = first_g_row + n_labels
    out[OUT_VM, s] = vm * scale[OUT_VM]
    out[OUT_IM, s] = im * scale[OUT_IM]
    out[OUT_VMEM, s] = v * scale[OUT_VMEM]
    out[OUT_IGATE, s] = i_gate * scale[OUT_IGATE]
    for row in range(FIRST_LABEL_ROW, first_gate_row):
        out[row, s] = 0.0
    for ch in range(open_fraction.size):
        gc = chan_g[ch] * open_fraction[ch]
        i_row = FIRST_LABEL_ROW + chan_label[ch]
        g_row = first_g_row + chan_label[ch]
        out[i_row, s] += gc * (v - chan_e[ch]) * scale[i_row]
        out[g_row, s] += gc * scale[g_row]
    for g in range(gates.shape[0]):
        out[first_gate_row + g, s] = gates[g, 0] * scale[first_gate_row + g]
    return _peak(vm_peak, out[OUT_VM, s]), _peak(im_peak, out[OUT_IM, s])


@njit(nogil=True, cache=True, inline="always")
def _past_breakdown(v, breakdown, broken_at):
    """broken_at, or v (mV) if this is the first potential beyond +/-breakdown."""
    if (v > breakdown or v < -breakdown) and broken_at == 0.0:
        return v
    return broken_at


@njit(nogil=True, cache=True)
def advance_vc_ideal(record, amp, state, command, steps_per_sample, out):
    """Ideal voltage clamp: the membrane follows the command at once (no access
    resistance), so the gates see the new command in the same step."""
    (cm, dt, v_min, inv_dv, x_inf, decay, gate_channel, gate_power, gate_floor, charge_fc,
     chan_g, chan_e, chan_label, out_scale, has_charge, has_floor) = record
    if not _command_in_range(command, amp):
        return False, 0.0, 0.0
    scale = amp[AMP_COMMAND_SCALE]
    vm_peak = 0.0
    im_peak = 0.0
    v_arr, gates, electrode = state
    open_fraction = np.empty(chan_g.size)
    n_v = x_inf.shape[1]
    _conductance(gates, gate_channel, gate_power, gate_floor, has_floor, chan_g, chan_e,
                 open_fraction, 0.0)
    g_seal = amp[AMP_G_SEAL]
    cp_residual = amp[AMP_CP] - amp[AMP_CP_COMP]
    breakdown = amp[AMP_BREAKDOWN]
    broken_at = electrode[EL_BREAKDOWN]
    v = v_arr[0]
    vp = electrode[EL_VP]
    i_mean = electrode[EL_IM]
    gating_mean = electrode[EL_IGATE]
    for s in range(command.size):
        vm_peak, im_peak = _record(out, s, out_scale, chan_g, chan_e, chan_label, v, i_mean, v,
                                   gating_mean, open_fraction, gates, vm_peak, im_peak)
        c = command[s] * scale
        charge = 0.0
        gating = 0.0
        for _ in range(steps_per_sample):
            position = _table_position(c, v_min, inv_dv, n_v)
            i_gate = _gates_step(x_inf, decay, position, gates, charge_fc, has_charge) / dt
            a, b = _conductance(gates, gate_channel, gate_power, gate_floor, has_floor,
                                chan_g, chan_e, open_fraction, g_seal)
            charge += (cm * (c - v) + cp_residual * (c - vp)) / dt + b * c - a + i_gate
            gating += i_gate
            v = c
            vp = c
            broken_at = _past_breakdown(v, breakdown, broken_at)
        i_mean = charge / steps_per_sample
        gating_mean = gating / steps_per_sample
    v_arr[0] = v
    electrode[EL_VP] = vp
    electrode[EL_IM] = i_mean
    electrode[EL_IGATE] = gating_mean
    electrode[EL_BREAKDOWN] = broken_at
    return True, vm_peak, im_peak


@njit(nogil=True, cache=True)
def advance_vc(record, amp, state, command, steps_per_sample, out):
    """Voltage clamp through the access resistance, with Rs prediction / correction,
    fast and whole-cell capacitance compensation and the headstage rails."""
    (cm, dt, v_min, inv_dv, x_inf, decay, gate_channel, gate_power, gate_floor, charge_fc,
     chan_g, chan_e, chan_label, out_scale, has_charge, has_floor) = record
    if not _command_in_range(command, amp):
        return False, 0.0, 0.0
    scale = amp[AMP_COMMAND_SCALE]
    vm_peak = 0.0
    im_peak = 0.0
    v_arr, gates, electrode = state
    open_fraction = np.empty(chan_g.size)
    n_v = x_inf.shape[1]
    _conductance(gates, gate_channel, gate_power, gate_floor, has_floor, chan_g, chan_e,
                 open_fraction, 0.0)
    g_series = amp[AMP_G_SERIES]
    g_seal = amp[AMP_G_SEAL]
    cp_residual = amp[AMP_CP] - amp[AMP_CP_COMP]
    cm_comp = amp[AMP_CM_COMP]
    rs_comp = amp[AMP_RS_COMP]
    correction = amp[AMP_CORRECTION]
    prediction = amp[AMP_PREDICTION]
    rail = amp[AMP_RAIL]
    breakdown = amp[AMP_BREAKDOWN]
    lag_keep = _keep(dt, amp[AMP_LAG])
    pred_keep = _keep(dt, rs_comp * cm_comp * (1.0 - prediction) * MS_PER_MOHM_PF)
    broken_at = electrode[EL_BREAKDOWN]
    v = v_arr[0]
    vp = electrode[EL_VP]
    i_lag = electrode[EL_ILAG]
    v_pred = electrode[EL_VPRED]
    rail_hits = electrode[EL_RAIL_HITS]
    i_mean = electrode[EL_IM]
    gating_mean = electrode[EL_IGATE]
    for s in range(command.size):
        vm_peak, im_peak = _record(out, s, out_scale, chan_g, chan_e, chan_label, v, i_mean, v,
                                   gating_mean, open_fraction, gates, vm_peak, im_peak)
        c = command[s] * scale
        charge = 0.0
        gating = 0.0
        for _ in range(steps_per_sample):
            position = _table_position(v, v_min, inv_dv, n_v)
            i_gate = _gates_step(x_inf, decay, position, gates, charge_fc, has_charge) / dt
            a, b = _conductance(gates, gate_channel, gate_power, gate_floor, has_floor,
                                chan_g, chan_e, open_fraction, g_seal)
            i_pred = 0.0
            if cm_comp > 0.0:
                new_pred = c + (v_pred - c) * pred_keep
                i_pred = cm_comp * (new_pred - v_pred) / dt
                v_pred = new_pred
            vp_new = c + (prediction * i_pred + correction * i_lag) * rs_comp * MV_PER_MOHM_PA
            if abs(vp_new) > rail:
                vp_new = math.copysign(rail, vp_new)
                rail_hits += 1.0
            a += g_series * vp_new
            b += g_series
            rate = b * dt / cm
            v_inf = a / b
            v_mean = v_inf - (v - v_inf) * math.expm1(-rate) / rate
            v = v_inf + (v - v_inf) * math.exp(-rate)
            current = (g_series * (vp_new - v_mean) + cp_residual * (vp_new - vp) / dt
                       - i_pred + i_gate)
            i_lag = current + (i_lag - current) * lag_keep
            vp = vp_new
            broken_at = _past_breakdown(v, breakdown, broken_at)
            charge += current
            gating += i_gate
        i_mean = charge / steps_per_sample
        gating_mean = gating / steps_per_sample
    v_arr[0] = v
    electrode[EL_VP] = vp
    electrode[EL_IM] = i_mean
    electrode[EL_IGATE] = gating_mean
    electrode[EL_ILAG] = i_lag
    electrode[EL_VPRED] = v_pred
    electrode[EL_RAIL_HITS] = rail_hits
    electrode[EL_BREAKDOWN] = broken_at
    return True, vm_peak, im_peak


@njit(nogil=True, cache=True)
def advance_cc(record, amp, state, command, steps_per_sample, out):
    """Current clamp (or I=0 with a zero command) with no pipette capacitance: the
    injected current reaches the membrane directly; the pipette sits I*Rs above it."""
    (cm, dt, v_min, inv_dv, x_inf, decay, gate_channel, gate_power, gate_floor, charge_fc,
     chan_g, chan_e, chan_label, out_scale, _charge, has_floor) = record
    if not _command_in_range(command, amp):
        return False, 0.0, 0.0
    scale = amp[AMP_COMMAND_SCALE]
    vm_peak = 0.0
    im_peak = 0.0
    v_arr, gates, electrode = state
    open_fraction = np.empty(chan_g.size)
    n_v = x_inf.shape[1]
    _conductance(gates, gate_channel, gate_power, gate_floor, has_floor, chan_g, chan_e,
                 open_fraction, 0.0)
    g_series = amp[AMP_G_SERIES]
    g_seal = amp[AMP_G_SEAL]
    bridge = amp[AMP_BRIDGE]
    breakdown = amp[AMP_BREAKDOWN]
    broken_at = electrode[EL_BREAKDOWN]
    v = v_arr[0]
    injected = electrode[EL_IM]
    for s in range(command.size):
        # the pipette sits I*Rs above the membrane, I the current injected until now
        vp = v + injected / g_series if g_series > 0.0 else v
        vm_peak, im_peak = _record(out, s, out_scale, chan_g, chan_e, chan_label,
                                   vp - bridge * injected * MV_PER_MOHM_PA, injected, v, 0.0,
                                   open_fraction, gates, vm_peak, im_peak)
        c = command[s] * scale
        for _ in range(steps_per_sample):
            _gates_step(x_inf, decay, _table_position(v, v_min, inv_dv, n_v), gates,
                        charge_fc, False)
            a, b = _conductance(gates, gate_channel, gate_power, gate_floor, has_floor,
                                chan_g, chan_e, open_fraction, g_seal)
            a += c
            rate = b * dt / cm
            if rate > 1e-12:
                v_inf = a / b
                v = v_inf + (v - v_inf) * math.exp(-rate)
            else:
                v = v + a * dt / cm
            broken_at = _past_breakdown(v, breakdown, broken_at)
        injected = c
    v_arr[0] = v
    electrode[EL_VP] = v + injected / g_series if g_series > 0.0 else v
    electrode[EL_IM] = injected
    electrode[EL_IGATE] = 0.0
    electrode[EL_BREAKDOWN] = broken_at
    return True, vm_peak, im_peak


@njit(nogil=True, cache=True)
def advance_cc_pipette(record, amp, state, command, steps_per_sample, out):
    """Current clamp (or I=0) with the pipette capacitance as a second node behind the
    access resistance, capacitance neutralisation and the headstage rails."""
    (cm, dt, v_min, inv_dv, x_inf, decay, gate_channel, gate_power, gate_floor, charge_fc,
     chan_g, chan_e, chan_label, out_scale, _charge, has_floor) = record
    if not _command_in_range(command, amp):
        return False, 0.0, 0.0
    scale = amp[AMP_COMMAND_SCALE]
    vm_peak = 0.0
    im_peak = 0.0
    v_arr, gates, electrode = state
    open_fraction = np.empty(chan_g.size)
    n_v = x_inf.shape[1]
    _conductance(gates, gate_channel, gate_power, gate_floor, has_floor, chan_g, chan_e,
                 open_fraction, 0.0)
    g_series = amp[AMP_G_SERIES]
    g_seal = amp[AMP_G_SEAL]
    cp = amp[AMP_CP]
    neutralization = amp[AMP_NEUTRALIZATION]
    bridge = amp[AMP_BRIDGE]
    rail = amp[AMP_RAIL]
    breakdown = amp[AMP_BREAKDOWN]
    lag_keep = _keep(dt, amp[AMP_LAG])
    broken_at = electrode[EL_BREAKDOWN]
    v = v_arr[0]
    vp = electrode[EL_VP]
    v_lag = electrode[EL_VLAG]
    rail_hits = electrode[EL_RAIL_HITS]
    pa = cp / dt
    pb = cm / dt
    m11 = pa + g_series
    injected = electrode[EL_IM]
    for s in range(command.size):
        vm_peak, im_peak = _record(out, s, out_scale, chan_g, chan_e, chan_label,
                                   vp - bridge * injected * MV_PER_MOHM_PA, injected, v, 0.0,
                                   open_fraction, gates, vm_peak, im_peak)
        c = command[s] * scale
        for _ in range(steps_per_sample):
            _gates_step(x_inf, decay, _table_position(v, v_min, inv_dv, n_v), gates,
                        charge_fc, False)
            a, b = _conductance(gates, gate_channel, gate_power, gate_floor, has_floor,
                                chan_g, chan_e, open_fraction, g_seal)
            new_lag = vp + (v_lag - vp) * lag_keep
            i_neutral = neutralization * (new_lag - v_lag) / dt
            v_lag = new_lag
            r1 = pa * vp + c + i_neutral
            r2 = pb * v + a
            m22 = pb + g_series + b
            det = m11 * m22 - g_series * g_series
            vp = (r1 * m22 + g_series * r2) / det
            v = (m11 * r2 + g_series * r1) / det
            if abs(vp) > rail:
                vp = math.copysign(rail, vp)
                rail_hits += 1.0
            broken_at = _past_breakdown(v, breakdown, broken_at)
        injected = c
    v_arr[0] = v
    electrode[EL_VP] = vp
    electrode[EL_IM] = injected
    electrode[EL_IGATE] = 0.0
    electrode[EL_VLAG] = v_lag
    electrode[EL_RAIL_HITS] = rail_hits
    electrode[EL_BREAKDOWN] = broken_at
    return True, vm_peak, im_peak


# The advance function for each clamp configuration (layout.CLAMP_*).
STEPS = MappingProxyType({CLAMP_VC_IDEAL: advance_vc_ideal, CLAMP_VC: advance_vc,
                          CLAMP_CC: advance_cc, CLAMP_CC_PIPETTE: advance_cc_pipette})
