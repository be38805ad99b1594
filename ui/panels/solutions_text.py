"""The Solutions tab's words and numbers as text: potentials in mV, concentrations
typed into the table (mM), a solution's osmolarity and charge balance, and the
tooltips that explain them. No widgets here: ui.panels.solutions_panel shows them."""

import math

from rig import units
from rig.errors import VrigError
from rig.model.solutions import (
    OSMOTIC_COEFFICIENT,
    charge_balance_mm,
    charge_problem,
    check_concentration,
    osmolarity_mosm,
)

OSMOLARITY_HELP = (f"osmolarity: ideal = the sum of all solutes (mOsm/L); est. = charged "
                   f"species x the osmotic coefficient of NaCl, {OSMOTIC_COEFFICIENT:g} "
                   "(Robinson & Stokes 1959), neutral ones x 1 -- what an osmometer reads. "
                   "Charge: sum of z x c (mEq/L); a real solution is electroneutral")


def format_mv(volts):
    """A potential (V) as '+50.1 mV' ('---' when unknown)."""
    if volts is None or not math.isfinite(volts):
        return "  ---"
    return f"{units.v_to_mv(volts):+6.1f} mV"


def parse_mm(ion, text):
    """Table text -> mM (None for an empty cell = species absent); VrigError if invalid."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise VrigError(f"{ion}: {text!r} is not a number of mM (leave empty to remove "
                        f"{ion})") from None
    if not math.isfinite(value):
        raise VrigError(f"{ion}: {text!r} is not a finite number of mM")
    check_concentration(ion, value)
    return value


def balance_text(solution):
    """'1014 mOsm (1090 ideal) · neutral' or '... · excess -396.0 mM' for a Solution."""
    ideal, estimate = osmolarity_mosm(solution)
    excess = charge_balance_mm(solution)
    charge = f"excess {excess:+.1f} mM" if charge_problem(solution) else "neutral"
    return f"{estimate:.0f} mOsm ({ideal:.0f} ideal) \u00b7 {charge}"


LJP_HELP = ("The pipette offset nulls this junction in the bath before the seal. In "
            "whole-cell it is gone, and the offset left behind makes Vm read that much "
            "above the membrane potential (and a VC command holds the membrane that much "
            "below it). Checked: the rig subtracts it, so Vm is the true potential. "
            "Unchecked: the error stays, as on a rig nobody corrected. A new pipette "
            "solution is nulled in the bath of the moment; a bath changed later keeps "
            "the junction nulled before.")


def maybe_float(text):
    """text as a float, or None when it is not a number."""
    try:
        return float(text)
    except ValueError:
        return None
