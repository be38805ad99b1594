"""Physical constants and the equations of electrodiffusion.

Voltages are in volts, concentrations in mM, temperatures in degrees Celsius,
permeabilities in m/s (only their ratios matter for the GHK voltage equation).
"""

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from rig.errors import VrigError
from rig.model.ions import VALENCE

GAS_CONSTANT = 8.314462618  # J / (mol K), CODATA 2018 (exact)
FARADAY = 96485.33212  # C / mol, CODATA 2018 (exact)
ZERO_CELSIUS_K = 273.15  # K

MIN_TEMPERATURE_C = 0.0
MAX_TEMPERATURE_C = 45.0

HH_Q10 = 3.0
HH_REFERENCE_TEMPERATURE_C = 6.3


def check_temperature(temperature_c: Any) -> float:
    """Return the temperature (degC) if it is a number in the rig's 0-45 degC range."""
    try:
        value = float(temperature_c)
    except (TypeError, ValueError):
        raise VrigError(f"temperature must be a number in degC, got {temperature_c!r}") from None
    if not MIN_TEMPERATURE_C <= value <= MAX_TEMPERATURE_C:
        raise VrigError(
            f"temperature {temperature_c} degC is outside the allowed "
            f"{MIN_TEMPERATURE_C:g}-{MAX_TEMPERATURE_C:g} degC"
        )
    return value


def thermal_voltage(temperature_c: float) -> float:
    """RT/F in volts at a temperature in degC."""
    return GAS_CONSTANT * (temperature_c + ZERO_CELSIUS_K) / FARADAY


def nernst(valence: float, c_out_mm: float, c_in_mm: float, temperature_c: float) -> float:
    """Equilibrium potential (V) of an ion of the given valence.

    c_out_mm, c_in_mm: concentrations outside and inside in mM (must be > 0).
    """
    if valence == 0:
        raise VrigError("the Nernst potential needs a charged ion (valence 0 given)")
    if not (0 < c_out_mm < math.inf and 0 < c_in_mm < math.inf):
        raise VrigError(
            f"Nernst needs finite concentrations > 0 mM, got outside {c_out_mm}, inside {c_in_mm}"
        )
    return thermal_voltage(temperature_c) / valence * math.log(c_out_mm / c_in_mm)


def ghk_voltage(permeabilities: Mapping[str, float], c_out_mm: Mapping[str, float],
                c_in_mm: Mapping[str, float], temperature_c: float) -> float:
    """Goldman-Hodgkin-Katz resting potential (V) for monovalent ions.

    permeabilities: {ion: relative permeability}; ions with valence +1 (Na, K, Cs,
    ...) and -1 (Cl) are allowed. c_out_mm, c_in_mm: {ion: mM}.
    """
    numerator = 0.0
    denominator = 0.0
    for ion, p in permeabilities.items():
        if not 0 <= p < math.inf:
            raise VrigError(f"permeability of {ion} must be finite and >= 0, got {p}")
        for side, conc in (("outside", c_out_mm), ("inside", c_in_mm)):
            value = conc.get(ion, 0.0)
            if not 0 <= value < math.inf:
                raise VrigError(f"{ion} {side} must be a finite concentration >= 0 mM, got {value}")
        z = VALENCE[ion]
        if z == 1:
            numerator += p * c_out_mm.get(ion, 0.0)
            denominator += p * c_in_mm.get(ion, 0.0)
        elif z == -1:
            numerator += p * c_in_mm.get(ion, 0.0)
            denominator += p * c_out_mm.get(ion, 0.0)
        else:
            raise VrigError(f"the GHK voltage equation here takes monovalent ions, not {ion}")
    if numerator <= 0 or denominator <= 0:
        raise VrigError(
            "the GHK voltage equation needs a permeant ion on each side of the membrane"
        )
    return thermal_voltage(temperature_c) * math.log(numerator / denominator)


def ghk_current_density(permeability_m_per_s: float, valence: float, c_out_mm: float,
                        c_in_mm: float, voltage_v: npt.ArrayLike,
                        temperature_c: float) -> npt.NDArray[np.float64]:
    """GHK current density (A/m^2, outward positive) of one ion at a membrane voltage (V).

    Works on numpy arrays of voltages; the removable singularity at 0 V is handled
    with scipy's exprel rather than by suppressing warnings.
    """
    from scipy.special import exprel

    for name, value in (("permeability", permeability_m_per_s), ("outside", c_out_mm),
                        ("inside", c_in_mm)):
        if not 0 <= value < math.inf:
            raise VrigError(f"GHK current: {name} must be finite and >= 0, got {value}")
    v = np.asarray(voltage_v, dtype=float)
    u = valence * v / thermal_voltage(temperature_c)
    # P z F u (ci - co e^-u) / (1 - e^-u) is rewritten with exprel(u) = (e^u - 1)/u
    # so that u -> 0 stays finite.
    flux = permeability_m_per_s * (c_in_mm * np.exp(u) - c_out_mm) / exprel(u)
    return valence * FARADAY * flux


def q10_factor(temperature_c: float, q10: float = HH_Q10,
               reference_c: float = HH_REFERENCE_TEMPERATURE_C) -> float:
    """Rate multiplier q10 ** ((T - T_ref) / 10 degC)."""
    return q10 ** ((temperature_c - reference_c) / 10.0)
