"""The solutes vRig knows and their charge.

CHARGE gives each species' charge at pH 7.3: whole numbers for ions, the average for a
buffer (HEPES, pKa 7.5 at 25 degC: 39 % anionic at pH 7.3; Good et al. 1966
Biochemistry 5:467-477); ATP is counted as ATP4- and its Mg separately (MgATP2- is
Mg2+ + ATP4-), phosphate from NaH2PO4 as the monovalent anion it was added as.
VALENCE holds the ions (whole-number charges); PERMEANT_IONS are those a channel
conducts, which set the reversal potentials.
"""

from types import MappingProxyType

CHARGE = MappingProxyType({
    "Na": 1, "K": 1, "Cl": -1, "Ca": 2, "Mg": 2, "Cs": 1, "Li": 1, "NMDG": 1, "choline": 1,
    "TEA": 1, "gluconate": -1, "methanesulfonate": -1, "isethionate": -1, "aspartate": -1,
    "glutamate": -1, "HCO3": -1, "H2PO4": -1, "SO4": -2, "phosphocreatine": -2, "ATP": -4,
    "GTP": -4, "HEPES": -0.39, "glucose": 0, "sucrose": 0, "mannitol": 0,
})
VALENCE = MappingProxyType({ion: z for ion, z in CHARGE.items()
                            if z != 0 and float(z).is_integer()})
PERMEANT_IONS = ("Na", "K", "Cl", "Ca")
