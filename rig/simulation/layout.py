"""How the compiled kernel's arrays are laid out: clamp modes, the amplifier
parameter array (AMP_*), the electrode state (EL_*) and the output rows (OUT_*), and
the packing of an :class:`rig.amplifier.circuit.Amplifier` into its array. Units as
in the kernel: mV, ms, pA, nS, pF, MOhm; plus :class:`KernelModel`, the compiled
model record a kernel takes as one argument."""

from collections import namedtuple

import numpy as np

from rig import units
from rig.amplifier.circuit import HEADSTAGE_RAIL_V, Amplifier

MODE_VC = 0  # voltage clamp through the electrode
MODE_VC_IDEAL = 1  # the membrane follows the command exactly (no access resistance)
MODE_CC = 2  # current clamp: the command is injected current
MODE_I0 = 3  # no current at all

HH_DETERMINISTIC = "hh-deterministic"  # model kind: HH gates, deterministic (Rush-Larsen)
MARKOV = "markov"  # model kind: channels counted in the states of Markov schemes

# How the node equations are stepped: one compiled step function each (the clamp mode
# and whether a pipette capacitance makes the electrode a second node in CC / I=0).
CLAMP_VC_IDEAL = "vc_ideal"
CLAMP_VC = "vc"
CLAMP_CC = "cc"  # CC and I=0 (a zero command) with no pipette node
CLAMP_CC_PIPETTE = "cc_pipette"  # CC and I=0 with the pipette capacitance as a node

# amplifier parameters, in kernel units
AMP_G_SERIES = 0  # nS, 1/Rs (0 with MODE_VC_IDEAL or no electrode in CC)
AMP_CP = 1  # pF, pipette capacitance
AMP_G_SEAL = 2  # nS, seal conductance (reversal 0 mV)
AMP_CP_COMP = 3  # pF, fast (pipette) capacitance compensation
AMP_CM_COMP = 4  # pF, whole-cell capacitance compensation (0 = off)
AMP_RS_COMP = 5  # MOhm, series resistance set on the compensation circuit
AMP_CORRECTION = 6  # fraction of Rs corrected
AMP_PREDICTION = 7  # fraction of Rs predicted (supercharging)
AMP_LAG = 8  # ms, lag of the correction / neutralisation feedback
AMP_BRIDGE = 9  # MOhm, bridge balance (CC)
AMP_NEUTRALIZATION = 10  # pF, capacitance neutralisation (CC)
AMP_RAIL = 11  # mV, largest pipette potential the headstage can drive
AMP_BREAKDOWN = 12  # mV, membrane potential beyond which the membrane breaks down
AMP_COMMAND_SCALE = 13  # kernel units per SI unit of the command (mV/V, pA/A; 0 in I=0)
AMP_COMMAND_LIMIT = 14  # largest |command| (kernel units) the amplifier can apply
N_AMP = 15

# electrode state
EL_VP = 0  # mV, pipette potential
EL_ILAG = 1  # pA, lag-filtered measured current (Rs correction)
EL_VPRED = 2  # mV, predicted membrane potential of the whole-cell compensation model
EL_VLAG = 3  # mV, lag-filtered pipette potential (neutralisation)
EL_RAIL_HITS = 4  # number of steps the headstage spent at a rail
EL_BREAKDOWN = 5  # mV, the first membrane potential past AMP_BREAKDOWN (0 = intact)
# pA, the current output's mean over the last sample interval stepped (in CC the injected
# current), recorded as the next sample's Im, so that blocks join without a seam
EL_IM = 6
EL_IGATE = 7  # pA, the gating current's mean over that interval (VC; 0 in CC)
# ms since a fibre's second stimulator was last triggered (its pulses are timed from it)
EL_STIM_CLOCK = 8
N_EL = 9

# mV: in CC and I0 the amplifier's voltage output (membrane potential plus the
# unbalanced electrode drop); in VC the membrane potential itself, so the clamp error
# the access resistance causes can be seen.
OUT_VM = 0
OUT_IM = 1  # pA, the amplifier's current output (mean over the interval ending at the sample)
OUT_VMEM = 2  # mV, the true membrane potential
OUT_IGATE = 3  # pA, gating current (mean over the interval ending at the sample)
FIRST_LABEL_ROW = 4  # then per label: its current (pA); per label: conductance (nS); gates

# The compiled model as the kernel sees it (one record instead of a dozen arguments):
# cm_pf (pF) and dt_ms (ms, the step); v_min_mv (mV) and inv_dv_mv (1/mV) place a
# voltage on the gate tables x_inf and decay (n_gates, n_v: steady state and
# exp(-dt/tau)); per gate: gate_channel (kernel channel index), gate_power, gate_floor
# (fraction held open by a drug; the gate acts as floor + (1 - floor) x) and
# gate_charge_fc (fC moved from 0 to 1); per channel: chan_g_ns (nS, after drugs),
# chan_e_mv (mV) and chan_label (index of its signal label); out_scale: per output row,
# the factor from kernel units to SI; has_charge / has_floor: whether any gate carries
# charge / has a floor (so the kernel skips that work when it cannot matter).
KernelModel = namedtuple("KernelModel", (
    "cm_pf", "dt_ms", "v_min_mv", "inv_dv_mv", "x_inf", "decay", "gate_channel",
    "gate_power", "gate_floor", "gate_charge_fc", "chan_g_ns", "chan_e_mv", "chan_label",
    "out_scale", "has_charge", "has_floor"))


def clamp_kind(kernel_mode: int, amp: np.ndarray) -> str:
    """Which step function (CLAMP_*) advances a kernel mode (MODE_*) with the amplifier
    array amp."""
    if kernel_mode == MODE_VC_IDEAL:
        return CLAMP_VC_IDEAL
    if kernel_mode == MODE_VC:
        return CLAMP_VC
    if amp[AMP_CP] > 0.0 and amp[AMP_G_SERIES] > 0.0:
        return CLAMP_CC_PIPETTE
    return CLAMP_CC


def output_rows(n_labels: int, n_gates: int) -> int:
    """Number of kernel output rows: the OUT_* rows, two per label, one per gate."""
    return FIRST_LABEL_ROW + 2 * n_labels + n_gates



def amplifier_parameters(amplifier: Amplifier) -> np.ndarray:
    """The kernel's amplifier array (nS, pF, MOhm, fractions, ms, mV) of an Amplifier."""
    amp = np.zeros(N_AMP)
    amp[AMP_G_SERIES] = (units.ohm_to_ns(amplifier.series_resistance)
                         if amplifier.series_resistance else 0.0)
    amp[AMP_CP] = units.f_to_pf(amplifier.pipette_capacitance)
    amp[AMP_G_SEAL] = units.ohm_to_ns(amplifier.seal_resistance)
    amp[AMP_CP_COMP] = units.f_to_pf(amplifier.fast_compensation)
    amp[AMP_CM_COMP] = units.f_to_pf(amplifier.whole_cell_capacitance)
    amp[AMP_RS_COMP] = units.ohm_to_mohm(amplifier.whole_cell_resistance)
    amp[AMP_CORRECTION] = amplifier.rs_correction
    amp[AMP_PREDICTION] = amplifier.rs_prediction
    amp[AMP_LAG] = units.s_to_ms(amplifier.lag)
    amp[AMP_BRIDGE] = units.ohm_to_mohm(amplifier.bridge)
    amp[AMP_NEUTRALIZATION] = units.f_to_pf(amplifier.neutralization)
    amp[AMP_RAIL] = units.v_to_mv(HEADSTAGE_RAIL_V)
    return amp
