"""The compiled stepping code. Units inside: mV, ms, pA, nS, pF, MOhm, fC.

One call advances a whole block of samples so that the interpreter (and its lock) is
touched once per block, not once per step. Each step:

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

A membrane driven beyond +/-AMP_BREAKDOWN breaks down (electroporates): the kernel
notes the first voltage past it in EL_BREAKDOWN and the engine declares the cell lost.
"""

import math

import numpy as np
from numba import njit

from rig.simulation.layout import (AMP_BREAKDOWN, AMP_BRIDGE, AMP_CM_COMP, AMP_CORRECTION,
                                     AMP_CP, AMP_CP_COMP, AMP_G_SEAL, AMP_G_SERIES, AMP_LAG,
                                     AMP_NEUTRALIZATION, AMP_PREDICTION, AMP_RAIL, AMP_RS_COMP,
                                     EL_BREAKDOWN, EL_ILAG, EL_RAIL_HITS, EL_VLAG, EL_VP,
                                     EL_VPRED, FIRST_LABEL_ROW, MODE_CC, MODE_I0, MODE_VC,
                                     MODE_VC_IDEAL, OUT_IGATE, OUT_IM, OUT_VM, OUT_VMEM)


@njit(nogil=True, cache=True)
def _keep(dt_ms, tau_ms):
    """Fraction of a first-order deviation left after dt (0 for tau <= 0)."""
    return math.exp(-dt_ms / tau_ms) if tau_ms > 0.0 else 0.0


@njit(nogil=True, cache=True)
def advance(state, electrode, command, steps_per_sample, dt_ms, mode, cm_pf, amp,
            gate_channel, gate_power, gate_floor, gate_charge_fc, x_inf, decay,
            v_min_mv, inv_dv_mv, chan_g_ns, chan_e_mv, chan_label, out):
    """Advance ``command.size`` samples of ``steps_per_sample`` steps each.

    state: [Vm (mV), gate values...] and electrode: see EL_*; both updated in place.
    command: per-sample command (mV in VC modes, pA in CC; ignored in I0).
    amp: amplifier parameters (AMP_*). gate_floor: per gate, the fraction of channels
    in which the gate is held open (a drug that removes inactivation); the gate acts as
    floor + (1 - floor) x. gate_charge_fc: per gate, the charge (fC) its movement from
    0 to 1 carries; the gating current is measured in VC but, as in HH's fitted
    membrane, not fed back into Vm.
    chan_label: per channel, the index of its label (channels of one label, such as
    the leak's ionic components, are summed).
    out: (FIRST_LABEL_ROW + 2 n_labels + n_gates, n_samples), one row per signal so
    that each is contiguous: the OUT_* rows, then each label's current (pA, outward
    positive), each label's conductance (nS) and each gate's value at the sample's end.
    """
    n_gates = gate_channel.size
    n_chan = chan_g_ns.size
    n_labels = (out.shape[0] - FIRST_LABEL_ROW - n_gates) // 2
    first_g_row = FIRST_LABEL_ROW + n_labels
    first_gate_row = FIRST_LABEL_ROW + 2 * n_labels
    last_index = x_inf.shape[1] - 1
    open_fraction = np.empty(n_chan)
    g_series = amp[AMP_G_SERIES]
    cp = amp[AMP_CP]
    g_seal = amp[AMP_G_SEAL]
    cp_residual = cp - amp[AMP_CP_COMP]
    cm_comp = amp[AMP_CM_COMP]
    rs_comp = amp[AMP_RS_COMP]
    correction = amp[AMP_CORRECTION]
    prediction = amp[AMP_PREDICTION]
    rail = amp[AMP_RAIL]
    breakdown = amp[AMP_BREAKDOWN]
    broken_at = electrode[EL_BREAKDOWN]
    lag_keep = _keep(dt_ms, amp[AMP_LAG])
    pred_keep = _keep(dt_ms, rs_comp * cm_comp * (1.0 - prediction) * 1e-3)
    two_node = mode >= MODE_CC and cp > 0.0 and g_series > 0.0
    # Skip the gating-current sum and the drug floor blend when they cannot matter.
    track_charge = mode <= MODE_VC_IDEAL and gate_charge_fc.any()
    blend_floor = gate_floor.any()
    v = state[0]
    vp = electrode[EL_VP]
    i_lag = electrode[EL_ILAG]
    v_pred = electrode[EL_VPRED]
    v_lag = electrode[EL_VLAG]
    rail_hits = electrode[EL_RAIL_HITS]
    for s in range(command.size):
        c = command[s] if mode != MODE_I0 else 0.0
        charge = 0.0
        gating = 0.0
        for _ in range(steps_per_sample):
            # An ideal clamp imposes the command at once, so the gates see it this step.
            v_gates = c if mode == MODE_VC_IDEAL else v
            f = (v_gates - v_min_mv) * inv_dv_mv
            if not f >= 0.0:  # also catches NaN, which must never index the tables
                f = 0.0
            elif f >= last_index:
                f = last_index - 1e-9
            i = int(f)
            w = f - i
            i_gate = 0.0
            for g in range(n_gates):
                xi = x_inf[g, i] + w * (x_inf[g, i + 1] - x_inf[g, i])
                dc = decay[g, i] + w * (decay[g, i + 1] - decay[g, i])
                new = xi + (state[1 + g] - xi) * dc
                if track_charge:
                    i_gate += gate_charge_fc[g] * (new - state[1 + g])
                state[1 + g] = new
            if track_charge:
                i_gate /= dt_ms
            for ch in range(n_chan):
                open_fraction[ch] = 1.0
            for g in range(n_gates):
                x = state[1 + g]
                if blend_floor:
                    x = gate_floor[g] + (1.0 - gate_floor[g]) * x
                p = x
                for _k in range(gate_power[g] - 1):
                    p *= x
                open_fraction[gate_channel[g]] *= p
            b = g_seal
            a = 0.0
            for ch in range(n_chan):
                gc = chan_g_ns[ch] * open_fraction[ch]
                b += gc
                a += gc * chan_e_mv[ch]
            if mode == MODE_VC_IDEAL:
                current = (cm_pf * (c - v) + cp_residual * (c - vp)) / dt_ms + b * c - a + i_gate
                v = c
                vp = c
            elif mode == MODE_VC:
                i_pred = 0.0
                if cm_comp > 0.0:
                    new_pred = c + (v_pred - c) * pred_keep
                    i_pred = cm_comp * (new_pred - v_pred) / dt_ms
                    v_pred = new_pred
                vp_new = c + (prediction * i_pred + correction * i_lag) * rs_comp * 1e-3
                if abs(vp_new) > rail:
                    vp_new = math.copysign(rail, vp_new)
                    rail_hits += 1.0
                a += g_series * vp_new
                b += g_series
                rate = b * dt_ms / cm_pf
                v_inf = a / b
                v_mean = v_inf - (v - v_inf) * math.expm1(-rate) / rate
                v = v_inf + (v - v_inf) * math.exp(-rate)
                current = (g_series * (vp_new - v_mean) + cp_residual * (vp_new - vp) / dt_ms
                           - i_pred + i_gate)
                i_lag = current + (i_lag - current) * lag_keep
                vp = vp_new
            elif two_node:
                new_lag = vp + (v_lag - vp) * lag_keep
                i_neutral = amp[AMP_NEUTRALIZATION] * (new_lag - v_lag) / dt_ms
                v_lag = new_lag
                pa = cp / dt_ms
                pb = cm_pf / dt_ms
                r1 = pa * vp + c + i_neutral
                r2 = pb * v + a
                m11 = pa + g_series
                m22 = pb + g_series + b
                det = m11 * m22 - g_series * g_series
                vp = (r1 * m22 + g_series * r2) / det
                v = (m11 * r2 + g_series * r1) / det
                if abs(vp) > rail:
                    vp = math.copysign(rail, vp)
                    rail_hits += 1.0
                current = c
            else:
                a += c
                rate = b * dt_ms / cm_pf
                if rate > 1e-12:
                    v_inf = a / b
                    v = v_inf + (v - v_inf) * math.exp(-rate)
                else:
                    v = v + a * dt_ms / cm_pf
                vp = v + c / g_series if g_series > 0.0 else v
                current = c
            if (v > breakdown or v < -breakdown) and broken_at == 0.0:
                broken_at = v
            charge += current
            gating += i_gate
        if mode >= MODE_CC:
            out[OUT_VM, s] = vp - amp[AMP_BRIDGE] * c * 1e-3
        else:
            out[OUT_VM, s] = v
        out[OUT_IM, s] = charge / steps_per_sample
        out[OUT_VMEM, s] = v
        out[OUT_IGATE, s] = gating / steps_per_sample
        for row in range(FIRST_LABEL_ROW, first_gate_row):
            out[row, s] = 0.0
        for ch in range(n_chan):
            gc = chan_g_ns[ch] * open_fraction[ch]
            out[FIRST_LABEL_ROW + chan_label[ch], s] += gc * (v - chan_e_mv[ch])
            out[first_g_row + chan_label[ch], s] += gc
        for g in range(n_gates):
            out[first_gate_row + g, s] = state[1 + g]
    state[0] = v
    electrode[EL_VP] = vp
    electrode[EL_ILAG] = i_lag
    electrode[EL_VPRED] = v_pred
    electrode[EL_VLAG] = v_lag
    electrode[EL_RAIL_HITS] = rail_hits
    electrode[EL_BREAKDOWN] = broken_at
