"""What a real rig refuses, and what a real cell does not survive.

The instrument's limits are refused at the boundary with the allowed range in the
message: a voltage command beyond +/-1 V, a current beyond the headstage's range
(10 V / Rf, see :mod:`rig.amplifier.circuit`), a time step or seed out of range.

The membrane's limit is modelled: a lipid membrane driven to a few hundred mV breaks
down (electroporation). Critical transmembrane potentials are about 0.2-0.5 V for
millisecond exposures and approach 1 V for microsecond pulses (Teissie & Rols 1993
Biophys J 65:409-413; Weaver & Chizmadzhev 1996 Bioelectrochem Bioenerg 41:135-160).
vRig takes MEMBRANE_BREAKDOWN_V = 0.4 V (a cell preset may give its own
``breakdown_mV``: the model cell's resistors take the amplifier's full swing);
beyond it the cell is lost, and the engine
raises a VrigError that says so (the window shows it and stops; the command line
exits with it) until the cell is reset. A +/-100 nA step into the 3 nS squid patch
would otherwise report a membrane at tens of volts.
"""

import math
from typing import Any

import numpy as np

from rig import units
from rig.errors import VrigError

MEMBRANE_BREAKDOWN_V = 0.4
# MultiClamp 700B headstage ranges: 50 and 500 MOhm, 5 and 50 GOhm; then 10 kOhm, the
# giant-axon headstage (+/-1 mA: a squid axon's clamp currents and the tens of uA that
# excite it, the range of the current-passing stages and isolated stimulators used on
# giant axons), listed last so that the patch ranges keep their places.
FEEDBACK_RESISTORS_OHM = (units.mohm_to_ohm(50.0), units.mohm_to_ohm(500.0),
                          units.gohm_to_ohm(5.0), units.gohm_to_ohm(50.0),
                          units.mohm_to_ohm(0.01))
VC_COMMAND_LIMIT_V = 1.0  # a MultiClamp's command at 100 mV/V over a +/-10 V DAC
VC_HOLDING_LIMIT_V = 0.5
DT_RANGE_S = (units.nanoseconds_to_s(100.0), units.us_to_s(100.0))  # 0.1 to 100 us


def check_holding(mode: str, value: float, amplifier: Any) -> float:
    """A holding level (V in VC, A in CC) within what the amplifier can apply."""
    value = float(value)
    if mode == "VC":
        limit, unit, scale = VC_HOLDING_LIMIT_V, "mV", units.MV_PER_V
    else:
        limit, unit, scale = amplifier.current_range, "pA", units.PA_PER_A
    if not (math.isfinite(value) and -limit <= value <= limit):
        raise VrigError(f"holding in {mode} must be within +/-{limit * scale:g} {unit}"
                        + _range_note(mode, amplifier) + f", got {value * scale:g} {unit}")
    return value


def check_command(mode: str, command: np.ndarray, amplifier: Any) -> None:
    """Refuse a block of commands (kernel units: mV in VC, pA in CC) that is not
    finite or beyond what the amplifier can apply."""
    if mode == "I0" or not command.size:
        return
    if mode == "VC":
        limit, unit = units.v_to_mv(VC_COMMAND_LIMIT_V), "mV"
    else:
        limit, unit = units.a_to_pa(amplifier.current_range), "pA"
    # NaN fails both comparisons (numpy's min and max propagate it), so it is refused too.
    if not (-limit <= command.min() and command.max() <= limit):
        raise VrigError(f"command out of range: {mode} commands must be finite and within "
                        f"+/-{limit:g} {unit}" + _range_note(mode, amplifier))


def _range_note(mode: str, amplifier: Any) -> str:
    if mode == "VC":
        return ""
    return (f" (the headstage's range with its {units.ohm_to_mohm(amplifier.feedback_resistance):g}"
            " MOhm feedback resistor)")


def breakdown_message(v_mv: float, breakdown_mv: float, where: str = "") -> str:
    """The VrigError text for a membrane that broke down at v_mv (mV) beyond its
    breakdown_mv (mV)."""
    return (f"the membrane broke down{where}: it reached {v_mv:+.0f} mV, beyond the "
            f"+/-{breakdown_mv:g} mV at which cell membranes electroporate, so a real "
            "cell would be lost. Use a smaller current or command, then reset the cell")


def check_seed(seed: Any) -> int:
    """A random seed: a whole number from 0 to 2**63 - 1."""
    if (isinstance(seed, bool) or (not isinstance(seed, int) and not hasattr(seed, "__index__"))
            or not 0 <= int(seed) < 2 ** 63):
        raise VrigError(f"seed must be a whole number from 0 to 2**63 - 1, got {seed!r:.40}")
    return int(seed)


def check_dt(dt: Any) -> float:
    """The largest time step (s), within DT_RANGE_S."""
    try:
        value = float(dt)
    except (TypeError, ValueError):
        raise VrigError(f"time step must be a number of seconds, got {dt!r:.40}") from None
    low, high = DT_RANGE_S
    if not low <= value <= high:
        nearest = low if not value > low else high  # (nan counts as below)
        raise VrigError(f"time step {distinct(units.s_to_us(value), units.s_to_us(nearest))} us "
                        f"is outside the allowed {units.s_to_us(low):g} to "
                        f"{units.s_to_us(high):g} us")
    return value


def distinct(value: float, limit: float) -> str:
    """value as text with the fewest significant digits (at least 6, as :g) that tell it from
    limit: 0.09999999 against 0.1, not '0.1 is outside 0.1 to 100'."""
    for digits in range(6, 18):
        text = f"{value:.{digits}g}"
        if text != f"{limit:.{digits}g}":
            return text
    return repr(value)
