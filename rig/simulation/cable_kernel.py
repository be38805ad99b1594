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

from rig.simulation.cable_step import _open_fractions, _record_at, _step, _stimulator_pa, _work
from rig.simulation.kernel import _command_in_range, _keep, _past_breakdown, _peak
from rig.simulation.layout import (
    AMP_BREAKDOWN,
    AMP_BRIDGE,
    AMP_CM_COMP,
    AMP_COMMAND_SCALE,
    AMP_CORRECTION,
    AMP_CP,
    AMP_CP_COMP,
    AMP_G_SEAL,
    AMP_G_SERIES,
    AMP_LAG,
    AMP_PREDICTION,
    AMP_RAIL,
    AMP_RS_COMP,
    CLAMP_CC,
    CLAMP_VC,
    CLAMP_VC_IDEAL,
    EL_BREAKDOWN,
    EL_IGATE,
    EL_ILAG,
    EL_IM,
    EL_RAIL_HITS,
    EL_STIM_CLOCK,
    EL_VP,
    EL_VPRED,
    OUT_IM,
    OUT_VM,
    OUT_VMEM,
)
from rig.units import MS_PER_MOHM_PF, MV_PER_MOHM_PA


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


@njit(nogil=True, cache=True)
def advance_cable_vc(record, amp, state, command, steps_per_sample, out):
    """Voltage clamp through the access resistance on a fibre, as the patch's advance_vc:
    the headstage drives the pipette to the command plus the Rs prediction and correction
    (fed back through the lag, bounded by the rails), and the pipette reaches the
    electrode's compartment through Rs, a conductance to the pipette in that row of the
    implicit step (with the axial wire, in the one node the wire makes of the fibre).
    Im: the current through Rs at the end of each step (the one the implicit step
    balances), plus the residual pipette capacitance's, less the whole-cell
    compensation's; its mean over the interval as in the patch; no gating current."""
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
    clock = electrode[EL_STIM_CLOCK]
    vp = electrode[EL_VP]
    i_lag = electrode[EL_ILAG]
    v_pred = electrode[EL_VPRED]
    rail_hits = electrode[EL_RAIL_HITS]
    i_mean = electrode[EL_IM]
    first_site_row = out.shape[0] - sites.size
    for s in range(command.size):
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
            i_pred = 0.0
            if cm_comp > 0.0:
                new_pred = c + (v_pred - c) * pred_keep
                i_pred = cm_comp * (new_pred - v_pred) / dt
                v_pred = new_pred
            vp_new = c + (prediction * i_pred + correction * i_lag) * rs_comp * MV_PER_MOHM_PA
            if abs(vp_new) > rail:
                vp_new = math.copysign(rail, vp_new)
                rail_hits += 1.0
            i2 = _stimulator_pa(pulses, clock, dt)
            clock += dt
            peak, _ = _step(v, gates, cm_dt, dt_cm, v_min, inv_dv, x_inf, decay,
                            gate_channel, gate_power, gate_floor, has_floor, chan_g, chan_e,
                            gated, fixed_a, fixed_b, g_axial, stim, g_series * vp_new,
                            g_seal + g_series, work, stim2, i2, table_base, -1, 0.0,
                            axial_wire)
            current = (g_series * (vp_new - v[stim]) + cp_residual * (vp_new - vp) / dt
                       - i_pred)
            i_lag = current + (i_lag - current) * lag_keep
            vp = vp_new
            charge += current
            if not peak <= breakdown and broken_at == 0.0:
                for i in range(n):
                    broken_at = _past_breakdown(v[i], breakdown, broken_at)
        i_mean = charge / steps_per_sample
    electrode[EL_VP] = vp
    electrode[EL_IM] = i_mean
    electrode[EL_IGATE] = 0.0
    electrode[EL_ILAG] = i_lag
    electrode[EL_VPRED] = v_pred
    electrode[EL_RAIL_HITS] = rail_hits
    electrode[EL_BREAKDOWN] = broken_at
    electrode[EL_STIM_CLOCK] = clock
    return True, vm_peak, im_peak


# The advance function for each clamp configuration (layout.CLAMP_*) a fibre supports.
STEPS = MappingProxyType({CLAMP_CC: advance_cable_cc,
                          CLAMP_VC_IDEAL: advance_cable_vc_ideal,
                          CLAMP_VC: advance_cable_vc})
