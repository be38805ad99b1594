"""The liquid junction potential between a pipette solution and the bath.

The generalised Henderson equation (Barry & Lynch 1991 J Membr Biol 121:101-117, eq. 4;
the method of JPCalc, Barry 1994 J Neurosci Methods 51:107-116), with concentrations
for activities:

    V_LJ = (RT/F) * sum z u (c_bath - c_pip) / sum z^2 u (c_bath - c_pip)
                  * ln(sum z^2 u c_pip / sum z^2 u c_bath)

z the charge, u the mobility (relative to K+, resources/ions/mobilities.json). V_LJ is
the potential of the bath with respect to the pipette, the patch-clamp convention: a
K-gluconate pipette against ACSF gives about +15 mV, and the true membrane potential
is the recorded one minus V_LJ once the junction nulled in the bath has gone (in
whole-cell). Concentrations in mM, temperatures in degC, potentials in V.
"""

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from rig import resources
from rig.errors import VrigError
from rig.model import physics
from rig.model.ions import CHARGE

DEFAULT_TEMPERATURE_C = 25.0  # the temperature of the mobility tables

# Below this fraction of the total conductance the Henderson ratio is 0/0: the two
# sides carry the same conductance, and its limit (the first-order term) is used.
_DEGENERATE = 1e-12


def load_mobilities() -> Mapping[str, float]:
    """{species: mobility relative to K+} from the shipped table."""
    data: Any = resources.read_json(resources.resources_dir() / "ions" / "mobilities.json",
                                    "ionic mobility table")
    table = {}
    for species, entry in data["mobilities"].items():
        value = resources.number(entry, "relative_mobility", f"mobility of {species}", 0.0)
        if value <= 0:
            raise VrigError(f"the mobility of {species} must be above 0")
        table[species] = value
    return MappingProxyType(table)


def carriers(concentrations_mm: Mapping[str, float], charge: Mapping[str, float] = CHARGE
             ) -> dict[str, tuple[int, float]]:
    """{species: (z, concentration of the charged form in mM)} for the charged species
    of a solution. A buffer with an average charge (HEPES at pH 7.3, -0.39) counts as
    its charged fraction with a whole charge; neutral species carry no current."""
    result = {}
    for species, mm in concentrations_mm.items():
        average = charge.get(species)
        if average is None:
            raise VrigError(f"the charge of {species!r:.40} is not known")
        if average == 0 or mm == 0:
            continue
        whole = math.copysign(max(1, round(abs(average))), average)
        result[species] = (int(whole), mm * average / whole)
    return result


def junction_potential(pipette_mm: Mapping[str, float], bath_mm: Mapping[str, float],
                       temperature_c: float = DEFAULT_TEMPERATURE_C,
                       mobilities: Mapping[str, float] | None = None,
                       charge: Mapping[str, float] = CHARGE) -> float:
    """V_LJ (V): the bath's potential with respect to the pipette solution's, from the
    generalised Henderson equation; pipette_mm and bath_mm: {species: mM}."""
    temperature_c = physics.check_temperature(temperature_c)
    mobilities = load_mobilities() if mobilities is None else mobilities
    pipette = carriers(pipette_mm, charge)
    bath = carriers(bath_mm, charge)
    unknown = sorted((set(pipette) | set(bath)) - set(mobilities))
    if unknown:
        raise VrigError(f"no ionic mobility is known for {', '.join(unknown)}: the junction "
                        "potential cannot be computed; take it out of the solution or add its "
                        "mobility to resources/ions/mobilities.json")
    numerator = denominator = sum_pipette = sum_bath = 0.0
    for species, (z, _) in {**bath, **pipette}.items():
        c_pip = pipette[species][1] if species in pipette else 0.0
        c_bath = bath[species][1] if species in bath else 0.0
        u = mobilities[species]
        numerator += z * u * (c_bath - c_pip)
        denominator += z * z * u * (c_bath - c_pip)
        sum_pipette += z * z * u * c_pip
        sum_bath += z * z * u * c_bath
    if sum_pipette <= 0 or sum_bath <= 0:
        raise VrigError("both solutions need ions for a junction potential")
    scale = physics.thermal_voltage(temperature_c)
    if abs(denominator) <= _DEGENERATE * (sum_pipette + sum_bath):
        return -scale * numerator / (0.5 * (sum_pipette + sum_bath)) + 0.0  # never -0.0
    return scale * numerator / denominator * math.log(sum_pipette / sum_bath)
