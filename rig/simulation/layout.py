"""How the compiled kernel's arrays are laid out: clamp modes, the amplifier
parameter array (AMP_*), the electrode state (EL_*) and the output rows (OUT_*), and
the packing of an :class:`rig.amplifier.circuit.Amplifier` into its array. Units as
in the kernel: mV, ms, pA, nS, pF, MOhm."""

import numpy as np

from rig import units
from rig.amplifier.circuit import HEADSTAGE_RAIL_V

MODE_VC = 0  # voltage clamp through the electrode
MODE_VC_IDEAL = 1  # the membrane follows the command exactly (no access resistance)
MODE_CC = 2  # current clamp: the command is injected current
MODE_I0 = 3  # no current at all

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
N_AMP = 13

# electrode state
EL_VP = 0  # mV, pipette potential
EL_ILAG = 1  # pA, lag-filtered measured current (Rs correction)
EL_VPRED = 2  # mV, predicted membrane potential of the whole-cell compensation model
EL_VLAG = 3  # mV, lag-filtered pipette potential (neutralisation)
EL_RAIL_HITS = 4  # number of steps the headstage spent at a rail
EL_BREAKDOWN = 5  # mV, the first membrane potential past AMP_BREAKDOWN (0 = intact)
N_EL = 6

# mV: in CC and I0 the amplifier's voltage output (membrane potential plus the
# unbalanced electrode drop); in VC the membrane potential itself, so the clamp error
# the access resistance causes can be seen.
OUT_VM = 0
OUT_IM = 1  # pA, the amplifier's current output (mean over the sample)
OUT_VMEM = 2  # mV, the true membrane potential
OUT_IGATE = 3  # pA, gating current (mean over the sample)
FIRST_LABEL_ROW = 4  # then per label: its current (pA); per label: conductance (nS); gates



def amplifier_parameters(amplifier):
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
