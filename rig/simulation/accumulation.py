"""Concentrations as state and the Na/K pump, coupled to the compiled patch kernel by
operator splitting.

How it couples: the kernel is unchanged. The pump is one more kernel channel
(label 'pump') whose conductance and reversal are the tangent of its current-voltage
curve at the start of each block (so the kernel applies the pump's exact current at
that voltage, and its slope nearby). The engine steps the kernel in blocks of
BLOCK_S; before each block the reversal potentials (and the pump's tangent) are set
from the present concentrations; after it, the charge each ion carried in the block,
summed from the kernel's own samples (each channel's current times the sample
interval; a leak component's from Vmem and its conductance), moves that ion's amount
across the membrane. So the charge carried equals the change in the amounts to
round-off, whatever the block length; the block only sets how often the reversals
follow (tests/rig/test_accumulation.py compares BLOCK_S with a block of one step).

Compartments: the cell's volume holds Na, K and Cl (and impermeant solutes of fixed
amount and mean charge, the pipette solution's others); K leaving the cell goes to a
restricted extracellular space where the preset has one (the periaxonal space of
Frankenhaeuser & Hodgkin 1956), which exchanges with the bath (fixed) with a time
constant; Na and Cl go to the bath. Water follows solutes at once: the volume keeps
the internal osmolarity at its starting value (the cell starts at osmotic balance),
so a cell that gains solute swells.

Units: amounts in amol (1 mM x 1 um^3), charge in fC (pA x ms), mV, ms, um^3.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rig import units
from rig.errors import VrigError
from rig.model import gradients, physics
from rig.model.cell import NONSELECTIVE, Cell
from rig.model.ions import VALENCE
from rig.model.solutions import Solution

BLOCK_S = 1e-3  # s: how often the reversal potentials follow the concentrations
PUMP = "pump"  # kernel channel label of the pump
AMOL_PER_FC = 1e3 / physics.FARADAY  # amol of a monovalent ion per fC of its charge
SIGNALS = (("Na_in", "mol/m3"), ("K_in", "mol/m3"), ("K_out", "mol/m3"),
           ("E_Na", "V"), ("E_K", "V"))
TANGENT_FLOOR_MV = 500.0  # the pump's tangent conductance is at least I / 500 mV


@dataclass(frozen=True)
class Setup:
    """What is switched on: accumulation (concentrations as state) and pump; the pump's
    kinetics and maximal density (uA/cm^2 at imax_temperature_c degC)."""

    accumulation: bool
    pump: bool
    kinetics: gradients.PumpKinetics
    imax_ua_per_cm2: float
    imax_temperature_c: float
    sigma: float
    imax_source: str


def setup_for(cell: Cell, accumulation: bool | None, pump: bool | None,
              pump_density: float | None = None) -> Setup | None:
    """The Setup of a cell with these switches (None: the preset's default), or None
    when both are off. pump_density: uA/cm^2 overriding the data's (>= 0)."""
    g = cell.gradients
    accumulation = g.accumulation if accumulation is None else bool(accumulation)
    pump = g.pump if pump is None else bool(pump)
    if not (accumulation or pump):
        return None
    if accumulation and g.volume_um3 <= 0:
        raise VrigError(f"cell {cell.name!r} has no volume in its preset "
                        "(accumulation.volume_um3), so its concentrations cannot change; "
                        "choose a cell with one (hh-squid, cortical-neuron)")
    if accumulation and NONSELECTIVE in cell.leak_ms_per_cm2:
        raise VrigError(f"cell {cell.name!r} has a nonselective leak, whose ions are not "
                        "defined, so its concentrations cannot be followed")
    kinetics = gradients.load_pump()
    imax, at_c, sigma, source = kinetics.density(cell.preparation)
    if g.pump_imax_ua_per_cm2 is not None:
        imax, source = g.pump_imax_ua_per_cm2, f"cell {cell.name} preset"
    if pump_density is not None:
        imax = gradients.check_positive(pump_density, "pump density", "uA/cm^2", True)
        source = "set by the user"
    return Setup(accumulation, pump, kinetics, imax, at_c, sigma, source)


class IonStore:
    """The amounts (amol) of Na, K and Cl inside, of K in the restricted space, the
    cell's volume (um^3), and running totals for bookkeeping: the charge each ion
    carried out of the cell (fC), the K that left the space for the bath (amol) and
    the pump's cycles (amol)."""

    def __init__(self, cell: Cell, bath: Solution, pipette: Solution, setup: Setup) -> None:
        g = cell.gradients
        self.setup = setup
        self.area_um2 = cell.area_um2
        self.volume_um3 = g.volume_um3 if g.volume_um3 > 0 else 1.0
        self.amol = {ion: pipette.mm(ion) * self.volume_um3 for ion in gradients.TRACKED}
        conc, charge = gradients.impermeant_inside(pipette.concentrations_mm)
        self.impermeant_amol = conc * self.volume_um3
        self.impermeant_charge = charge
        self.osmolarity_mm = sum(pipette.concentrations_mm.values())
        self.space_um3 = g.space_um3
        self.space_tau_ms = g.space_tau_ms
        self.bath = bath
        self.space_k_amol = bath.mm("K") * self.space_um3
        self.carried_fc = {ion: 0.0 for ion in gradients.TRACKED}
        self.to_bath_k_amol = 0.0
        self.pump_cycles_amol = 0.0
        self.trace: list[tuple[int, tuple[float, ...]]] = []  # (samples, SIGNALS) per block
        self.plans: dict[tuple[str, ...], Any] = {}  # by channel labels: see ion_blocks._plan

    # --- concentrations --------------------------------------------------------------

    def inside_mm(self) -> dict[str, float]:
        """{ion: mM} inside the cell."""
        return {ion: n / self.volume_um3 for ion, n in self.amol.items()}

    def k_out_mm(self) -> float:
        """K (mM) next to the membrane outside: the restricted space's, else the bath's."""
        return self.space_k_amol / self.space_um3 if self.space_um3 > 0 else self.bath.mm("K")

    def outside_mm(self) -> dict[str, float]:
        """{ion: mM} next to the membrane outside."""
        return {"Na": self.bath.mm("Na"), "K": self.k_out_mm(), "Cl": self.bath.mm("Cl")}

    def solutions(self, bath: Solution, pipette: Solution) -> tuple[Solution, Solution]:
        """(bath, pipette) with the live concentrations next to the membrane."""
        inside = self.inside_mm()
        for ion in gradients.TRACKED:
            if pipette.mm(ion) > 0:
                pipette = pipette.with_ion(ion, inside[ion])
        if self.space_um3 > 0:
            bath = bath.with_ion("K", self.k_out_mm())
        return bath, pipette

    def reversals_mv(self, temperature_c: float) -> dict[str, float]:
        """{ion: Nernst potential in mV} of Na, K and Cl at the present concentrations
        (nan for an ion missing on a side)."""
        rt_f = units.v_to_mv(physics.thermal_voltage(temperature_c))
        outside = self.outside_mm()
        result = {}
        for ion, n in self.amol.items():
            c_in, c_out = n / self.volume_um3, outside[ion]
            result[ion] = (rt_f / VALENCE[ion] * math.log(c_out / c_in)
                           if c_in > 0 and c_out > 0 else math.nan)
        return result

    def reversal_mv(self, ion: str, temperature_c: float) -> float:
        """Nernst potential (mV) of Na, K or Cl at the present concentrations."""
        out, inside = self.outside_mm()[ion], self.inside_mm()[ion]
        if out <= 0 or inside <= 0:
            return math.nan
        return units.v_to_mv(physics.nernst(VALENCE[ion], out, inside, temperature_c))

    def pump_density(self, v_mv: float, temperature_c: float) -> float:
        """Pump current density (uA/cm^2, outward) at v_mv (mV), drug-free."""
        s = self.setup
        if not s.pump:
            return 0.0
        return gradients.pump_current_density(
            v_mv, self.inside_mm()["Na"], self.k_out_mm(), self.bath.mm("Na"), temperature_c,
            s.imax_ua_per_cm2, s.imax_temperature_c, s.kinetics, sigma=s.sigma)

    def pump_pa(self, v_mv: float, temperature_c: float) -> float:
        """Pump current (pA, outward) at v_mv (mV), drug-free."""
        # uA/cm^2 x um^2 -> pA, as units.density_to_ns does mS/cm^2 -> nS
        return self.pump_density(v_mv, temperature_c) * self.area_um2 * units.CM2_PER_UM2 * 1e6

    def pump_tangent(self, v_mv: float, temperature_c: float) -> tuple[float, float]:
        """(g nS, E mV) of the line touching the pump's I-V curve at v_mv: g (V - E) is
        its current there, and its slope (at least I / TANGENT_FLOOR_MV)."""
        i0 = self.pump_pa(v_mv, temperature_c)
        if i0 <= 0.0:
            return 0.0, 0.0
        slope = (self.pump_pa(v_mv + 0.5, temperature_c)
                 - self.pump_pa(v_mv - 0.5, temperature_c))
        g = max(slope, i0 / TANGENT_FLOOR_MV)
        return g, v_mv - i0 / g

    # --- moving charge ---------------------------------------------------------------

    def move(self, charge_fc: Mapping[str, float], pump_fc: float, duration_ms: float) -> None:
        """Apply a block: charge_fc {ion: fC carried outward through channels},
        pump_fc (fC carried outward by the pump), over duration_ms (ms)."""
        if not self.setup.accumulation:
            return
        cycles = pump_fc * AMOL_PER_FC
        k_to_space = 0.0
        for ion in gradients.TRACKED:
            out_amol = charge_fc.get(ion, 0.0) * AMOL_PER_FC / VALENCE[ion]
            self.carried_fc[ion] += charge_fc.get(ion, 0.0)
            if ion == "K":
                out_amol -= 2.0 * cycles
                k_to_space = out_amol
            elif ion == "Na":
                out_amol += 3.0 * cycles
            self.amol[ion] -= out_amol
        self.pump_cycles_amol += cycles
        if self.space_um3 > 0:
            self._exchange(k_to_space / duration_ms, duration_ms)
        self.volume_um3 = (sum(self.amol.values()) + self.impermeant_amol) / self.osmolarity_mm
        if min(self.amol.values()) <= 0 or self.k_out_mm() <= 0:
            raise VrigError("an ion ran out of the cell or its restricted space (the "
                            "currents carried more than it held); reset the cell")

    def _exchange(self, source_amol_per_ms: float, duration_ms: float) -> None:
        """Restricted space K over duration_ms with a constant source (amol/ms) and
        first-order exchange with the bath: exact for a constant source."""
        bath_amol = self.bath.mm("K") * self.space_um3
        steady = bath_amol + source_amol_per_ms * self.space_tau_ms
        before = self.space_k_amol
        self.space_k_amol = steady + (before - steady) * math.exp(-duration_ms
                                                                   / self.space_tau_ms)
        self.to_bath_k_amol += source_amol_per_ms * duration_ms - (self.space_k_amol - before)


def channel_ions(cell: Cell, labels: tuple[str, ...]) -> tuple[str, ...]:
    """The ion each kernel channel carries, in compile_membrane's order (gated channels,
    then each conducting leak component, then the pump), '' for the nonselective leak
    and the pump; labels: the membrane's channel_labels."""
    ions = [channel.ion for channel, _ in cell.channels]
    ions += [ion if ion != NONSELECTIVE else "" for ion, density in cell.leak_ms_per_cm2.items()
             if density > 0]
    ions += [""] * (len(labels) - len(ions))
    if len(ions) != len(labels):
        raise VrigError("internal: the membrane's channels do not match the cell's")
    return tuple(ions)


def with_pump_channel(m: Any) -> Any:
    """A CompiledMembrane with one more channel, the pump (label 'pump', no gates;
    its g and E are set block by block)."""
    return replace(m, channel_labels=m.channel_labels + (PUMP,),
                   chan_g_ns=np.append(m.chan_g_ns, 0.0), chan_e_mv=np.append(m.chan_e_mv, 0.0))


def gradient_store(cell: Cell, bath: Solution, pipette: Solution, accumulation: bool | None,
                   pump: bool | None, pump_density: float | None) -> "IonStore | None":
    """The IonStore of a Rig with these switches (None: the preset's), or None when
    neither concentrations nor the pump are simulated."""
    setup = setup_for(cell, accumulation, pump, pump_density)
    if setup is None:
        return None
    if cell.geometry is not None:
        raise VrigError("concentrations and the pump are followed on a single compartment "
                        "only, not yet on a fibre; use --accumulation off --pump off")
    return IonStore(cell, bath, pipette, setup)
