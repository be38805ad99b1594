"""Ionic solutions (bath and pipette) as data, and the reversal potentials they set.

Concentrations are in mM. Substitutes (NMDG, choline, gluconate, ...) are carried so
that a solution reads as it was made up, but only the ions in ``VALENCE`` that a
channel conducts enter the reversal potentials.
"""

from dataclasses import dataclass, field, replace

from rig import physics, resources
from rig.errors import VrigError

VALENCE = {"Na": 1, "K": 1, "Cl": -1, "Ca": 2, "Cs": 1, "NMDG": 1, "choline": 1,
           "Mg": 2, "gluconate": -1}
PERMEANT_IONS = ("Na", "K", "Cl", "Ca")
MAX_CONCENTRATION_MM = 2000.0


@dataclass(frozen=True)
class Solution:
    """A named ionic composition in mM, with where it comes from."""

    name: str
    concentrations_mm: dict = field(default_factory=dict)
    description: str = ""
    source: str = ""

    def mm(self, ion):
        """Concentration of an ion in mM (0 when absent)."""
        return self.concentrations_mm.get(ion, 0.0)

    def with_ion(self, ion, mm):
        """A copy with one ion set to a new concentration (mM, must be > 0)."""
        check_concentration(ion, mm)
        changed = dict(self.concentrations_mm)
        changed[ion] = float(mm)
        return replace(self, name=f"{self.name} ({ion}={mm:g} mM)", concentrations_mm=changed)

    def summary(self):
        """'Na=440 K=20 ...' as written in recording metadata."""
        return " ".join(f"{ion}={mm:g}" for ion, mm in self.concentrations_mm.items())


def check_concentration(ion, mm):
    """Validate one concentration (mM) against the ions the rig knows."""
    if ion not in VALENCE:
        raise VrigError(f"unknown ion {ion!r}; known ions: {', '.join(VALENCE)}")
    if isinstance(mm, bool) or not isinstance(mm, (int, float)):
        raise VrigError(f"concentration of {ion} must be a number in mM, got {mm!r}")
    if not 0 < mm <= MAX_CONCENTRATION_MM:
        raise VrigError(
            f"concentration of {ion} = {mm} mM is not allowed; use a value > 0 and "
            f"<= {MAX_CONCENTRATION_MM:g} mM (leave an ion out of a solution instead of 0)"
        )


def solution_from_dict(data, name):
    """Build a Solution from preset JSON, validating every concentration."""
    if not isinstance(data, dict) or not isinstance(data.get("concentrations_mM"), dict):
        raise VrigError(f"solution {name!r} needs a 'concentrations_mM' object")
    concentrations = {}
    for ion, mm in data["concentrations_mM"].items():
        check_concentration(ion, mm)
        concentrations[ion] = float(mm)
    return Solution(name, concentrations, str(data.get("description", "")),
                    str(data.get("source", "")))


def load_solution(name):
    """A shipped solution preset by name (see ``vrig list solutions``)."""
    return solution_from_dict(resources.load_preset("solutions", name), name)


def check_permeant(solution, side):
    """A solution must hold at least one ion a channel conducts."""
    if not any(solution.mm(ion) > 0 for ion in PERMEANT_IONS):
        raise VrigError(f"the {side} solution {solution.name!r} has no permeant ion; "
                        f"give it at least one of {', '.join(PERMEANT_IONS)}")
    return solution


def reversal_potentials(bath, pipette, temperature_c):
    """Nernst potential (V) of every permeant ion present on both sides."""
    result = {}
    for ion in PERMEANT_IONS:
        out, inside = bath.mm(ion), pipette.mm(ion)
        if out > 0 and inside > 0:
            result[ion] = physics.nernst(VALENCE[ion], out, inside, temperature_c)
    return result


def parse_ion_override(text):
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
