"""Gradients that live: the Na/K pump, a cell's volumes, the work of a pump cycle and the
Donnan equilibrium. Pure functions and frozen data (no state, no Qt).

Units: mV, mM, um^3, uA/cm^2, degC, kJ/mol. The pump's kinetics are data
(resources/pumps/na-k-atpase.json, with their source); a cell's volumes and pump
density are its preset's ``accumulation`` section (:func:`gradients_from_dict`).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scipy.optimize import brentq

from rig import resources
from rig.errors import VrigError
from rig.model import physics
from rig.model.ions import CHARGE

TRACKED = ("Na", "K", "Cl")  # the ions whose internal amounts become state
DEFAULT_PREPARATION = "default"
KJ_PER_J = 1e-3


@dataclass(frozen=True)
class PumpKinetics:
    """The Na/K-ATPase's rate law (Luo & Rudy 1994 form): half-saturations (mM), the
    Hill coefficient for internal Na, Q10, and per preparation (maximal current
    density uA/cm^2, its temperature degC, source)."""

    km_na_in_mm: float
    hill_na_in: float
    km_k_out_mm: float
    km_atp_mm: float
    sigma_na_out_mm: float
    q10: float
    densities: Mapping[str, tuple[float, float, float, str]]
    source: str

    def density(self, preparation: str) -> tuple[float, float, float, str]:
        """(imax uA/cm^2, at temperature degC, sigma (nan: from Na_o), source) for a
        preparation."""
        return self.densities.get(preparation, self.densities[DEFAULT_PREPARATION])


def load_pump(name: str = "na-k-atpase") -> PumpKinetics:
    """The shipped pump kinetics (resources/pumps/NAME.json), validated."""
    data = resources.load_preset("pumps", name)
    what = f"pump {name!r}"
    numbers = {key: resources.number(data, key, what, 1e-6, 1e4) for key in (
        "km_na_in_mM", "hill_na_in", "km_k_out_mM", "km_atp_mM", "sigma_na_out_mM", "q10")}
    densities = {}
    for prep, entry in dict(data.get("densities", {})).items():
        densities[prep] = (resources.number(entry, "imax_uA_per_cm2", what, 0, 1e3),
                           physics.check_temperature(entry.get("temperature_C")),
                           resources.number(entry, "sigma", what, 0, 1e3, default=math.nan),
                           str(entry.get("source", "")))
    if DEFAULT_PREPARATION not in densities:
        raise VrigError(f"{what}: densities need a 'default' entry")
    return PumpKinetics(numbers["km_na_in_mM"], numbers["hill_na_in"], numbers["km_k_out_mM"],
                        numbers["km_atp_mM"], numbers["sigma_na_out_mM"], numbers["q10"],
                        densities, str(data.get("source", "")))


def voltage_factor(v_mv: float, na_out_mm: float, temperature_c: float,
                   kinetics: PumpKinetics, sigma: float = math.nan) -> float:
    """f_NaK (0-1): the pump's voltage dependence at v_mv (mV), rising with
    depolarisation, with external Na (mM) slowing the voltage-dependent step through
    sigma (given, or from na_out_mm when nan)."""
    u = v_mv * 1e-3 / physics.thermal_voltage(temperature_c)
    if math.isnan(sigma):
        sigma = math.expm1(na_out_mm / kinetics.sigma_na_out_mm) / 7.0
    return 1.0 / (1.0 + 0.1245 * math.exp(-0.1 * u) + 0.0365 * sigma * math.exp(-u))


def pump_current_density(v_mv: float, na_in_mm: float, k_out_mm: float, na_out_mm: float,
                         temperature_c: float, imax_ua_per_cm2: float, imax_temperature_c: float,
                         kinetics: PumpKinetics, atp_mm: float = 4.0,
                         sigma: float = math.nan) -> float:
    """Outward pump current density (uA/cm^2) at v_mv (mV) with these concentrations
    (mM) and ATP (mM); imax at imax_temperature_c scaled by Q10 to temperature_c (degC).
    One net charge out per cycle, so the cycle rate is this over F."""
    if na_in_mm <= 0.0 or k_out_mm <= 0.0:
        return 0.0
    na = 1.0 / (1.0 + (kinetics.km_na_in_mm / na_in_mm) ** kinetics.hill_na_in)
    k = k_out_mm / (k_out_mm + kinetics.km_k_out_mm)
    atp = atp_mm / (atp_mm + kinetics.km_atp_mm)
    q = kinetics.q10 ** ((temperature_c - imax_temperature_c) / 10.0)
    return imax_ua_per_cm2 * q * voltage_factor(v_mv, na_out_mm, temperature_c, kinetics, sigma) \
        * na * k * atp


@dataclass(frozen=True)
class Gradients:
    """A cell preset's ``accumulation`` section: whether concentrations are state and
    the pump runs by default, the cell's volume (um^3), the restricted extracellular
    space for K (um^3, 0 = none) and its exchange time constant with the bath (ms), the
    pump's maximal density (uA/cm^2, None = the pump data's value for the
    preparation), each with its source."""

    accumulation: bool = False
    pump: bool = False
    volume_um3: float = 0.0
    space_um3: float = 0.0
    space_tau_ms: float = 0.0
    pump_imax_ua_per_cm2: float | None = None
    source: str = ""


def check_positive(value: Any, what: str, unit: str, allow_zero: bool = False) -> float:
    """value as a float if finite and > 0 (>= 0 with allow_zero), else a VrigError
    that says so."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise VrigError(f"{what} must be a number in {unit}, got {value!r:.40}") from None
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise VrigError(f"{what} must be finite and {bound} {unit}, got {value!r:.40}")
    return x


def gradients_from_dict(data: Any, area_um2: float, what: str) -> Gradients:
    """The ``accumulation`` section of a cell preset: accumulation, pump (true/false
    defaults), volume_um3 or volume_to_area_um (a cylinder of radius r holds r/2 of
    volume per unit of membrane area), restricted_space {thickness_nm, tau_ms},
    pump_imax_uA_per_cm2, source."""
    if not isinstance(data, dict):
        raise VrigError(f"{what}: accumulation must be an object")
    for key in ("accumulation", "pump"):
        if not isinstance(data.get(key, False), bool):
            raise VrigError(f"{what}: accumulation.{key} must be true or false")
    if "volume_um3" in data:
        volume = check_positive(data["volume_um3"], f"{what}: cell volume", "um^3")
    else:
        volume = area_um2 * check_positive(data.get("volume_to_area_um"),
                                           f"{what}: volume_to_area_um", "um")
    space = dict(data.get("restricted_space", {}))
    space_um3 = area_um2 * 1e-3 * check_positive(space.get("thickness_nm", 0),
                                                 f"{what}: restricted space", "nm", True)
    tau = check_positive(space.get("tau_ms", 1.0), f"{what}: restricted space tau", "ms")
    imax = data.get("pump_imax_uA_per_cm2")
    if imax is not None:
        imax = check_positive(imax, f"{what}: pump density", "uA/cm^2", True)
    return Gradients(data.get("accumulation", False), data.get("pump", False), volume,
                     space_um3, tau if space_um3 > 0 else 0.0, imax, str(data.get("source", "")))


def cycle_work_kj_per_mol(inside_mm: Mapping[str, float], outside_mm: Mapping[str, float],
                          v_mv: float, temperature_c: float) -> float:
    """Free energy (kJ per mol of cycles) one pump cycle needs: 3 Na from inside to
    outside and 2 K from outside to inside, against their concentration gradients (mM)
    and the membrane potential v_mv (mV, inside against outside):
    3 [RT ln(Na_o/Na_i) - F V] + 2 [RT ln(K_i/K_o) + F V]."""
    rt = physics.GAS_CONSTANT * (temperature_c + physics.ZERO_CELSIUS_K)
    fv = physics.FARADAY * v_mv * 1e-3
    na = rt * math.log(outside_mm["Na"] / inside_mm["Na"]) - fv
    k = rt * math.log(inside_mm["K"] / outside_mm["K"]) + fv
    return (3 * na + 2 * k) * KJ_PER_J


# Standard free energy of ATP hydrolysis at pH 7, -30.5 kJ/mol (the usual textbook value),
# and human-erythrocyte ATP, ADP and Pi of 2.25, 0.25 and 1.65 mM: the worked example of
# Nelson & Cox, Lehninger Principles of Biochemistry (ch. 13; recalled, not checked), whose
# -52 kJ/mol this gives at 25 degC (-51.8); at 37 degC it gives -52.7 kJ/mol.
ATP_STANDARD_KJ_PER_MOL = -30.5
ATP_DEFAULT_MM = {"ATP": 2.25, "ADP": 0.25, "Pi": 1.65}


def atp_free_energy_kj_per_mol(temperature_c: float, atp_mm: float = ATP_DEFAULT_MM["ATP"],
                               adp_mm: float = ATP_DEFAULT_MM["ADP"],
                               pi_mm: float = ATP_DEFAULT_MM["Pi"]) -> float:
    """Free energy (kJ/mol, positive) released by ATP hydrolysis at these ATP, ADP and
    Pi concentrations (mM): -(dG0' + RT ln([ADP][Pi]/[ATP])) with concentrations in M."""
    rt = physics.GAS_CONSTANT * (temperature_c + physics.ZERO_CELSIUS_K) * KJ_PER_J
    return -(ATP_STANDARD_KJ_PER_MOL + rt * math.log(adp_mm * 1e-3 * pi_mm * 1e-3
                                                        / (atp_mm * 1e-3)))


@dataclass(frozen=True)
class DonnanState:
    """The Donnan equilibrium of a cell whose only permeant ions are Na, K and Cl:
    ratio r (Na_i/Na_o = K_i/K_o = Cl_o/Cl_i), the internal concentrations (mM), the
    potential (mV) and the volume (um^3) at osmotic balance."""

    ratio: float
    inside_mm: Mapping[str, float]
    v_mv: float
    volume_um3: float


def impermeant_inside(pipette_mm: Mapping[str, float]) -> tuple[float, float]:
    """(concentration mM, mean charge) of the internal solutes other than Na, K, Cl."""
    others = {ion: c for ion, c in pipette_mm.items() if ion not in TRACKED}
    total = sum(others.values())
    if total <= 0:
        return 0.0, 0.0
    return total, sum(CHARGE.get(ion, 0) * c for ion, c in others.items()) / total


def donnan(bath_mm: Mapping[str, float], impermeant_amol: float, impermeant_charge: float,
           temperature_c: float) -> DonnanState:
    """The Donnan equilibrium against a bath (mM; Na, K and Cl permeant, the rest
    held outside) of a cell holding impermeant_amol (amol = mM x um^3) of solute of
    mean charge impermeant_charge, with the volume at osmotic balance (ideal
    osmolarity equal on both sides). Solves electroneutrality
    r (Na_o + K_o) - Cl_o / r + z X = 0 with X = osm_o - r (Na_o + K_o) - Cl_o / r."""
    cation = bath_mm.get("Na", 0.0) + bath_mm.get("K", 0.0)
    chloride = bath_mm.get("Cl", 0.0)
    osm = sum(bath_mm.values())
    z = impermeant_charge

    def imbalance(r: float) -> float:
        x = osm - r * cation - chloride / r
        return r * cation - chloride / r + z * x

    # X > 0 bounds r between the roots of r C + Cl/r = osm
    disc = math.sqrt(max(osm * osm - 4 * cation * chloride, 0.0))
    low, high = (osm - disc) / (2 * cation), (osm + disc) / (2 * cation)
    r = brentq(imbalance, low * (1 + 1e-12), high * (1 - 1e-12), xtol=1e-15, rtol=1e-14)
    x = osm - r * cation - chloride / r
    inside = {"Na": r * bath_mm.get("Na", 0.0), "K": r * bath_mm.get("K", 0.0),
              "Cl": chloride / r}
    v_mv = 1e3 * physics.thermal_voltage(temperature_c) * math.log(1.0 / r)
    return DonnanState(r, inside, v_mv, impermeant_amol / x)
