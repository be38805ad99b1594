"""The only place where electrophysiology units (files, screen, kernel) and SI (the
Python API) meet. Each function names both units.

Every conversion takes a number or a numpy array and returns the same kind."""

from typing import TypeVar

import numpy as np

# A quantity: a float (an int is accepted as one) or an array of floats.
Q = TypeVar("Q", float, np.ndarray)

MV_PER_V = 1e3
PA_PER_A = 1e12
MS_PER_S = 1e3
PF_PER_F = 1e12
NS_PER_S = 1e9
UM2_PER_M2 = 1e12
CM2_PER_UM2 = 1e-8


def mv_to_v(value_mv: Q) -> Q:
    """Millivolts to volts."""
    return value_mv / MV_PER_V


def v_to_mv(value_v: Q) -> Q:
    """Volts to millivolts."""
    return value_v * MV_PER_V


def pa_to_a(value_pa: Q) -> Q:
    """Picoamperes to amperes."""
    return value_pa / PA_PER_A


def a_to_pa(value_a: Q) -> Q:
    """Amperes to picoamperes."""
    return value_a * PA_PER_A


def ms_to_s(value_ms: Q) -> Q:
    """Milliseconds to seconds."""
    return value_ms / MS_PER_S


def s_to_ms(value_s: Q) -> Q:
    """Seconds to milliseconds."""
    return value_s * MS_PER_S


def mohm_to_ohm(value_mohm: Q) -> Q:
    """Megaohms to ohms."""
    return value_mohm * 1e6


def ohm_to_mohm(value_ohm: Q) -> Q:
    """Ohms to megaohms."""
    return value_ohm / 1e6


def ohm_to_ns(resistance_ohm: float) -> float:
    """A resistance (ohm) as a conductance in nS; an infinite resistance conducts 0 nS."""
    return 0.0 if resistance_ohm == float("inf") else NS_PER_S / resistance_ohm


def gohm_to_ohm(value_gohm: Q) -> Q:
    """Gigaohms to ohms."""
    return value_gohm * 1e9


def pf_to_f(value_pf: Q) -> Q:
    """Picofarads to farads."""
    return value_pf / PF_PER_F


def f_to_pf(value_f: Q) -> Q:
    """Farads to picofarads."""
    return value_f * PF_PER_F


def density_to_ns(g_ms_per_cm2: float, area_um2: float) -> float:
    """A conductance density (mS/cm^2) over an area (um^2) as a conductance in nS."""
    return g_ms_per_cm2 * area_um2 * CM2_PER_UM2 * 1e6


def capacitance_pf(c_uf_per_cm2: float, area_um2: float) -> float:
    """A specific capacitance (uF/cm^2) over an area (um^2) as a capacitance in pF."""
    return c_uf_per_cm2 * area_um2 * CM2_PER_UM2 * 1e6


def specific_capacitance_uf_per_cm2(capacitance_pf: float, area_um2: float) -> float:
    """A capacitance (pF) over an area (um^2) as a specific capacitance in uF/cm^2."""
    return capacitance_pf * 1e-6 / (area_um2 * CM2_PER_UM2)


def ohmic_drop_mv(resistance_ohm: float, current_pa: Q) -> Q:
    """The voltage (mV) a current (pA) drops across a resistance (ohm)."""
    return resistance_ohm * current_pa * 1e-9


US_PER_S = 1e6
HZ_PER_KHZ = 1e3
NA_PER_A = 1e9
OHM_PER_MOHM = 1e6
OHM_PER_GOHM = 1e9
F_PER_PF = 1e-12
S_PER_US = 1e-6


def s_to_us(value_s: Q) -> Q:
    """Seconds to microseconds."""
    return value_s * US_PER_S


def us_to_s(value_us: Q) -> Q:
    """Microseconds to seconds."""
    return value_us / US_PER_S


def khz_to_hz(value_khz: Q) -> Q:
    """Kilohertz to hertz."""
    return value_khz * HZ_PER_KHZ


def hz_to_khz(value_hz: Q) -> Q:
    """Hertz to kilohertz."""
    return value_hz / HZ_PER_KHZ


def a_to_na(value_a: Q) -> Q:
    """Amperes to nanoamperes."""
    return value_a * NA_PER_A


def ohm_to_gohm(value_ohm: Q) -> Q:
    """Ohms to gigaohms."""
    return value_ohm / OHM_PER_GOHM


def siemens_to_ns(value_siemens: Q) -> Q:
    """Siemens to nanosiemens."""
    return value_siemens * NS_PER_S


def ns_to_siemens(value_ns: Q) -> Q:
    """Nanosiemens to siemens."""
    return value_ns / NS_PER_S


def charge_fc(q_nc_per_cm2: float, area_um2: float) -> float:
    """A charge density (nC/cm^2) over an area (um^2) as a charge in fC."""
    return q_nc_per_cm2 * area_um2 * CM2_PER_UM2 * 1e6


NANOSECONDS_PER_S = 1e9
# molar (mol/L) per unit of a drug concentration: mM, uM, nM, pM
M_PER_MM = 1e-3
M_PER_UM = 1e-6
M_PER_NM = 1e-9
M_PER_PM = 1e-12
BYTES_PER_KB = 1e3  # file sizes use decimal prefixes, as file managers show them
BYTES_PER_MB = 1e6
BYTES_PER_GB = 1e9


def nanoseconds_to_s(value_nanoseconds: Q) -> Q:
    """Nanoseconds to seconds (spelt out: 'ns' is nanosiemens here)."""
    return value_nanoseconds / NANOSECONDS_PER_S


# the kernel's (numba) products of its units, as constants it can read
MS_PER_MOHM_PF = 1e-3  # MOhm x pF = us
MV_PER_MOHM_PA = 1e-3  # MOhm x pA = uV

UM_PER_MM = 1e3
UM_PER_M = 1e6
CM_PER_UM = 1e-4


def mm_to_um(value_mm: Q) -> Q:
    """Millimetres to micrometres."""
    return value_mm * UM_PER_MM


def um_to_mm(value_um: Q) -> Q:
    """Micrometres to millimetres."""
    return value_um / UM_PER_MM


def um_to_m(value_um: Q) -> Q:
    """Micrometres to metres."""
    return value_um / UM_PER_M


def m_to_um(value_m: Q) -> Q:
    """Metres to micrometres."""
    return value_m * UM_PER_M


def axial_conductance_ns(diameter_um: float, length_um: Q, resistivity_ohm_cm: float) -> Q:
    """The conductance (nS) along a cylinder of axoplasm of a diameter and length (um)
    and a resistivity (ohm*cm): cross-section / (resistivity x length)."""
    cross_section_cm2 = np.pi / 4 * (diameter_um * CM_PER_UM) ** 2
    return cross_section_cm2 / (resistivity_ohm_cm * length_um * CM_PER_UM) * NS_PER_S


def cylinder_area_um2(diameter_um: float, length_um: Q) -> Q:
    """The lateral (membrane) area (um^2) of a cylinder of a diameter and length (um)."""
    return np.pi * diameter_um * length_um
