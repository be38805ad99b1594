"""The compiled stepping code. Units inside: mV, ms, pA, nS, pF.

One call advances a whole block of samples so that the interpreter (and its lock) is
touched once per block, not once per step. Each step:

1. gates: exact exponential (Rush-Larsen) update at the step's starting voltage, from
   precomputed tables of x_inf and exp(-dt/tau) (linear interpolation in V);
2. the membrane node is linear in V once the gates are known, so it is advanced with
   the exact solution of C dV/dt = A - B V over the step; this stays stable when the
   access time constant Rs*Cm is shorter than dt.
"""

import math

import numpy as np
from numba import njit

MODE_VC = 0  # voltage clamp through a series (access) conductance
MODE_VC_IDEAL = 1  # the membrane follows the command exactly
MODE_CC = 2  # current clamp: the command is injected current
MODE_I0 = 3  # no current at all

OUT_VM = 0
OUT_IM = 1
FIRST_CHANNEL_COLUMN = 2


@njit(nogil=True, cache=True)
def advance(state, command, steps_per_sample, dt_ms, mode, g_series_ns, cm_pf,
            gate_channel, gate_power, gate_floor, x_inf, decay, v_min_mv, inv_dv_mv,
            chan_g_ns, chan_e_mv, out):
    """Advance ``command.size`` samples of ``steps_per_sample`` steps each.

    state: [Vm (mV), gate values...], updated in place.
    gate_floor: per gate, the fraction of channels in which the gate is held open
    (a drug that removes inactivation); the gate acts as floor + (1 - floor) x.
    command: per-sample command (mV in VC modes, pA in CC; ignored in I0).
    out: (n_samples, 2 + n_channels + n_gates) filled with Vm (mV, end of sample),
    Im (pA, mean over the sample: electrode current in VC, injected current in CC),
    each channel's conductance (nS) and each gate's value, all at the sample's end.
    """
    n_gates = gate_channel.size
    n_chan = chan_g_ns.size
    last_index = x_inf.shape[1] - 1
    open_fraction = np.empty(n_chan)
    v = state[0]
    for s in range(command.size):
        c = command[s]
        charge = 0.0
        for _ in range(steps_per_sample):
            f = (v - v_min_mv) * inv_dv_mv
            if f < 0.0:
                f = 0.0
            elif f >= last_index:
                f = last_index - 1e-9
            i = int(f)
            w = f - i
            for g in range(n_gates):
                xi = x_inf[g, i] + w * (x_inf[g, i + 1] - x_inf[g, i])
                dc = decay[g, i] + w * (decay[g, i + 1] - decay[g, i])
                state[1 + g] = xi + (state[1 + g] - xi) * dc
            for ch in range(n_chan):
                open_fraction[ch] = 1.0
            for g in range(n_gates):
                x = gate_floor[g] + (1.0 - gate_floor[g]) * state[1 + g]
                p = x
                for _k in range(gate_power[g] - 1):
                    p *= x
                open_fraction[gate_channel[g]] *= p
            g_total = 0.0
            driving = 0.0
            for ch in range(n_chan):
                gc = chan_g_ns[ch] * open_fraction[ch]
                g_total += gc
                driving += gc * chan_e_mv[ch]
            if mode == MODE_VC_IDEAL:
                v_new = c
                current = cm_pf * (v_new - v) / dt_ms + g_total * v_new - driving
            else:
                a = driving
                b = g_total
                if mode == MODE_VC:
                    a += g_series_ns * c
                    b += g_series_ns
                elif mode == MODE_CC:
                    a += c
                rate = b * dt_ms / cm_pf
                if rate > 1e-12:
                    v_inf = a / b
                    v_new = v_inf + (v - v_inf) * math.exp(-rate)
                    v_mean = v_inf - (v - v_inf) * math.expm1(-rate) / rate
                else:
                    v_new = v + a * dt_ms / cm_pf
                    v_mean = 0.5 * (v + v_new)
                if mode == MODE_VC:
                    current = g_series_ns * (c - v_mean)
                elif mode == MODE_CC:
                    current = c
                else:
                    current = 0.0
            charge += current
            v = v_new
        out[s, OUT_VM] = v
        out[s, OUT_IM] = charge / steps_per_sample
        for ch in range(n_chan):
            out[s, FIRST_CHANNEL_COLUMN + ch] = chan_g_ns[ch] * open_fraction[ch]
        for g in range(n_gates):
            out[s, FIRST_CHANNEL_COLUMN + n_chan + g] = state[1 + g]
    state[0] = v
