"""Ionic solutions (bath and pipette) as data: reversal potentials, charge balance,
osmolarity, and ion substitution the way a lab makes it up.

Concentrations are in mM. A solution lists every solute that matters for its charge
and osmolarity: the ions a channel conducts (PERMEANT_IONS, which set the reversal
potentials), substitutes that do not permeate (NMDG, choline, gluconate, ...), buffers
and sugars; each species' charge is in :mod:`rig.model.ions`.

A real solution is electroneutral: sum(z c) = 0. A solution whose listed charges do
not balance to within ELECTRONEUTRAL_TOLERANCE_MM is not one a lab could make
(lowering Na without its anion, say); :func:`charge_problem` says so with the excess.

Osmolarity: ideal (van 't Hoff) = the sum of all concentrations (mOsm/L). The
estimate of what an osmometer reads multiplies the charged species by the osmotic
coefficient of NaCl, OSMOTIC_COEFFICIENT = 0.93 (0.932 at 0.15 m, 0.921 at 0.5 m:
Robinson & Stokes 1959, Electrolyte Solutions, 2nd ed., appendix 8.10); neutral
solutes (glucose, sucrose) count fully.

Substitution (:func:`substitute`) replaces an amount (mM, or a percentage) of one
species by an equal charge of another of the same sign, as when NaCl is replaced by
NMDG-Cl, KCl by NaCl, or NaCl by Na-gluconate: charge balance is kept, and for the
same valence the ideal osmolarity too.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from rig import resources
from rig.errors import VrigError
from rig.frozen import FrozenMap
from rig.model import physics, shipped
from rig.model.ions import CHARGE, PERMEANT_IONS, VALENCE

# What a lab substitutes for what (any species of the same sign is accepted).
SUBSTITUTES = MappingProxyType({
    "Na": ("NMDG", "choline", "Li", "K", "Cs", "TEA"),
    "K": ("Na", "Cs", "NMDG"),
    "Cl": ("gluconate", "methanesulfonate", "isethionate", "aspartate", "SO4"),
    "Ca": ("Mg",),
})
MAX_CONCENTRATION_MM = 2000.0
MIN_CONCENTRATION_MM = 1e-3  # 1 uM: below it a Nernst potential is no longer physical
MIN_CALCIUM_MM = 1e-5  # 10 nM: the free Ca of a strongly buffered pipette
ELECTRONEUTRAL_TOLERANCE_MM = 0.5
OSMOTIC_COEFFICIENT = 0.93


@dataclass(frozen=True)
class Solution:
    """A named composition in mM, with where it comes from."""

    name: str
    concentrations_mm: Mapping[str, float] = field(default_factory=FrozenMap)
    description: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        # read-only, so that a Solution sent to the engine cannot change on the way
        object.__setattr__(self, "concentrations_mm", FrozenMap(self.concentrations_mm))

    def mm(self, ion: str) -> float:
        """Concentration of a species in mM (0 when absent)."""
        return self.concentrations_mm.get(ion, 0.0)

    def with_ion(self, ion: str, mm: float) -> "Solution":
        """A copy with one species set to a new concentration (mM); the others stay,
        so the charge balance may change (see charge_problem and substitute)."""
        check_concentration(ion, mm)
        changed = dict(self.concentrations_mm)
        changed[ion] = float(mm)
        return replace(self, name=f"{self.name} ({ion}={mm:g} mM)", concentrations_mm=changed)

    def summary(self) -> str:
        """'Na=440 K=20 ...' as written in recording metadata."""
        return " ".join(f"{ion}={mm:g}" for ion, mm in self.concentrations_mm.items())


def concentration_range_mm(ion: str) -> tuple[float, float]:
    """(lowest, highest) concentration of a species allowed, in mM."""
    return (MIN_CALCIUM_MM if ion == "Ca" else MIN_CONCENTRATION_MM), MAX_CONCENTRATION_MM


def check_concentration(ion: str, mm: Any) -> None:
    """Validate one concentration (mM) against the species the rig knows and its range."""
    if ion not in CHARGE:
        raise VrigError(f"unknown ion {ion!r:.40}; known: {', '.join(CHARGE)}")
    if isinstance(mm, bool) or not isinstance(mm, (int, float)):
        raise VrigError(f"concentration of {ion} must be a number in mM, got {mm!r:.40}")
    low, high = concentration_range_mm(ion)
    if not low <= mm <= high:
        raise VrigError(
            f"concentration of {ion} = {mm:g} mM is not allowed; use {low:g} to {high:g} mM "
            "(leave a species out of a solution instead of 0)")


def solution_from_dict(data: Any, name: str) -> Solution:
    """Build a Solution from preset JSON, validating every concentration."""
    if not isinstance(data, dict) or not isinstance(data.get("concentrations_mM"), dict):
        raise VrigError(f"solution {name!r} needs a 'concentrations_mM' object")
    concentrations: dict[str, float] = {}
    for ion, mm in data["concentrations_mM"].items():
        check_concentration(ion, mm)
        concentrations[ion] = float(mm)
    for key in ("description", "source"):
        if not isinstance(data.get(key, ""), str):
            raise VrigError(f"solution {name!r}: {key} must be text")
    return Solution(name, concentrations, data.get("description", ""), data.get("source", ""))


def load_solution(name: str) -> Solution:
    """A shipped solution preset by name (see ``vrig list solutions``)."""
    return solution_from_dict(resources.load_preset("solutions", name), name)


def scan_solutions() -> tuple[dict[str, Solution], list[tuple[str, str]]]:
    """({name: Solution}, [(path, problem)]) for every shipped solution."""
    return shipped.scan("solutions", solution_from_dict)


def check_permeant(solution: Solution, side: str) -> Solution:
    """A solution must hold at least one ion a channel conducts."""
    if not any(solution.mm(ion) > 0 for ion in PERMEANT_IONS):
        raise VrigError(f"the {side} solution {solution.name!r} has no permeant ion; "
                        f"give it at least one of {', '.join(PERMEANT_IONS)}")
    return solution


def reversal_potentials(bath: Solution, pipette: Solution,
                        temperature_c: float) -> dict[str, float]:
    """Nernst potential (V) of every permeant ion present on both sides."""
    result: dict[str, float] = {}
    for ion in PERMEANT_IONS:
        out, inside = bath.mm(ion), pipette.mm(ion)
        if out > 0 and inside > 0:
            result[ion] = physics.nernst(VALENCE[ion], out, inside, temperature_c)
    return result


def charge_balance_mm(solution: Solution) -> float:
    """Net charge of a solution in mM of elementary charge (mEq/L): sum of z c."""
    return sum(CHARGE[ion] * mm for ion, mm in solution.concentrations_mm.items())


def charge_problem(solution: Solution) -> str:
    """'' if the solution is electroneutral (within ELECTRONEUTRAL_TOLERANCE_MM), else
    a sentence giving the excess charge and what to do about it."""
    excess = charge_balance_mm(solution)
    if abs(excess) <= ELECTRONEUTRAL_TOLERANCE_MM:
        return ""
    sign = "cations" if excess > 0 else "anions"
    return (f"not electroneutral: {abs(excess):.1f} mM more {sign} than counter-charge "
            f"({excess:+.1f} mEq/L); replace an ion by another (Substitute) rather than "
            "changing one alone")


def osmolarity_mosm(solution: Solution) -> tuple[float, float]:
    """(ideal, estimated) osmolarity in mOsm/L: the sum of concentrations, and the sum
    with charged species weighted by OSMOTIC_COEFFICIENT (an osmometer's reading)."""
    ideal = sum(solution.concentrations_mm.values())
    estimate = sum(mm * (OSMOTIC_COEFFICIENT if CHARGE[ion] else 1.0)
                   for ion, mm in solution.concentrations_mm.items())
    return ideal, estimate


def substitute(solution: Solution, ion: str, replacement: str, amount_mm: float | None = None,
               percent: float | None = None) -> Solution:
    """Replace part of one species by an equal charge of another of the same sign.

    amount_mm: mM of ``ion`` to replace, or percent: 0-100 % of what is there (give
    one). Returns a new Solution named after the change; an ion replaced completely
    is removed. Raises VrigError naming what is allowed.
    """
    present = solution.mm(ion)
    if ion not in CHARGE or present <= 0:
        raise VrigError(f"{solution.name} has no {ion!s:.40} to replace")
    if replacement not in CHARGE or replacement == ion:
        raise VrigError(f"replace {ion} by another known species, e.g. "
                        f"{', '.join(SUBSTITUTES.get(ion, ()))}")
    z, z_new = CHARGE[ion], CHARGE[replacement]
    if z == 0 or z_new == 0 or (z > 0) != (z_new > 0):
        raise VrigError(f"{replacement} ({z_new:+g}) cannot replace {ion} ({z:+g}): "
                        "a substitute must be an ion with charge of the same sign")
    amount = _amount(present, ion, amount_mm, percent)
    changed = dict(solution.concentrations_mm)
    left = present - amount
    if left <= present * 1e-9:
        changed.pop(ion)
    else:
        check_concentration(ion, left)
        changed[ion] = left
    added = amount * abs(z) / abs(z_new)
    total = changed.get(replacement, 0.0) + added
    check_concentration(replacement, total)
    changed[replacement] = total
    base = solution.name.split(" (")[0]
    return Solution(f"{base} ({amount:g} mM {ion} -> {replacement})", changed,
                    solution.description, solution.source)


def _amount(present: float, ion: str, amount_mm: Any, percent: Any) -> float:
    if (amount_mm is None) == (percent is None):
        raise VrigError("give either an amount in mM or a percentage to replace")
    if percent is not None:
        if isinstance(percent, bool) or not (isinstance(percent, (int, float))
                                             and 0 < percent <= 100):
            raise VrigError("percentage to replace must be above 0 and at most 100, "
                            f"got {percent!r:.20}")
        return present * percent / 100.0
    if isinstance(amount_mm, bool) or not (isinstance(amount_mm, (int, float))
                                           and 0 < amount_mm <= present * (1 + 1e-12)):
        raise VrigError(f"amount of {ion} to replace must be above 0 and at most the "
                        f"{present:g} mM there, got {amount_mm!r:.20}")
    return min(float(amount_mm), present)


def parse_ion_override(text: str) -> tuple[str, str, float]:
    """'out:Na=44' -> ('out', 'Na', 44.0); raises VrigError with the expected form."""
    side, sep, rest = text.partition(":")
    ion, eq, value = rest.partition("=")
    if not sep or not eq or side not in ("out", "in"):
        raise VrigError(f"--ion {text!r}: expected out:ION=MM or in:ION=MM, e.g. out:Na=44")
    try:
        mm = float(value)
    except ValueError:
        raise VrigError(f"--ion {text!r}: {value!r} is not a number of mM") from None
    check_concentration(ion.strip(), mm)
    return side, ion.strip(), mm


def with_ion_overrides(bath: Solution, pipette: Solution,
                       overrides: Iterable[str]) -> tuple[Solution, Solution]:
    """(bath, pipette) with each 'out:ION=MM' / 'in:ION=MM' override applied in turn."""
    for text in overrides:
        side, ion, mm = parse_ion_override(text)
        if side == "out":
            bath = bath.with_ion(ion, mm)
        else:
            pipette = pipette.with_ion(ion, mm)
    return bath, pipette
