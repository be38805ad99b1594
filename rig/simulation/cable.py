"""A fibre compiled for the cable kernel (:mod:`rig.simulation.cable_kernel`): the
patch's compiled membrane spread over the compartments of a
:class:`rig.model.geometry.CableGeometry`, with myelin and position-dependent changes
(a drug on a stretch) as per-compartment scales of the capacitance and of each channel.

Units as in the kernel: mV, ms, pA, nS, pF; positions in um.
"""

import math
from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from rig import units
from rig.errors import VrigError
from rig.model import channels
from rig.model.pharmacology import Effects
from rig.simulation.layout import OUT_VMEM, KernelModel, output_rows

# The patch's record (layout.KernelModel) with cm_pf (n_compartments,) and chan_g_ns
# (n_channels, n_compartments) per compartment, x_inf the gate tables interleaved
# (n_gates, n_v, 4; see _interleaved), plus g_axial_ns (n_compartments - 1,):
# the conductance between neighbours (nS); stim: the electrode's compartment; sites:
# (n_sites,) int64, the recorded compartments; gated: (int64) the channels with gates;
# fixed_a_pa, fixed_b_ns (n_compartments,): the gateless channels (the leak) summed,
# sum g E (pA) and sum g (nS), so the kernel's hot loop skips them.
# axial_wire: in voltage clamp, whether every compartment is held (HH's axial wire) or
# only the electrode's; stim2: the second stimulator's compartment (-1: none);
# stim2_pulses: (n_pulses, 3) its pulses, onset (ms after its trigger), width (ms) and
# amplitude (pA); table_base (n_compartments,) int64: where each compartment's gate
# tables start in x_inf's voltage axis (x_inf holds one set of n_v rows per temperature
# on the fibre: a stretch at another temperature reads its own set, so the kernel looks
# its rates up as everywhere else instead of scaling them per compartment).
CableModel = namedtuple("CableModel", KernelModel._fields + (  # type: ignore[misc]
    "g_axial_ns", "stim", "sites", "gated", "fixed_a_pa", "fixed_b_ns", "axial_wire",
    "stim2", "stim2_pulses", "table_base"))

# The isolated stimulator's range (a stimulus unit, not the patch headstage): a 476 um
# axon takes tens of uA to excite.
STIMULATOR_LIMIT_A = 1e-3


@dataclass(frozen=True)
class StimPulse:
    """One pulse of the second stimulator: delay_s after its trigger (s), width_s (s),
    amplitude_a (A; positive depolarises, as the amplifier's injected current)."""

    delay_s: float
    width_s: float
    amplitude_a: float


@dataclass(frozen=True)
class Stimulator:
    """A second stimulating electrode on a fibre: an isolated stimulator at at_m (m from
    the fibre's first end) passing pulses (StimPulse values, timed from its trigger: the
    start of each protocol sweep, a settle, or Rig.trigger_stimulator())."""

    at_m: float
    pulses: tuple = ()

    def describe(self) -> str:
        """One line for file headers: where, and each pulse in uA and ms."""
        pulses = ", ".join(f"{units.a_to_pa(p.amplitude_a) / 1e6:g} uA for "
                           f"{units.s_to_ms(p.width_s):g} ms at {units.s_to_ms(p.delay_s):g} ms"
                           for p in self.pulses)
        return f"at {units.um_to_mm(units.m_to_um(self.at_m)):g} mm: {pulses}"


def check_stimulator(stimulator: Stimulator) -> Stimulator:
    """stimulator if each pulse is finite, its delay >= 0, width > 0 and amplitude within
    +/-STIMULATOR_LIMIT_A, and it has at least one; else a VrigError saying which."""
    if not stimulator.pulses:
        raise VrigError("the second stimulator needs at least one pulse")
    for k, p in enumerate(stimulator.pulses, 1):
        values = (p.delay_s, p.width_s, p.amplitude_a)
        if not all(isinstance(x, (int, float)) and math.isfinite(x) for x in values):
            raise VrigError(f"second stimulator pulse {k}: delay, width and amplitude must "
                            "be finite numbers")
        if p.delay_s < 0 or p.width_s <= 0:
            raise VrigError(f"second stimulator pulse {k}: the delay must be 0 or more and "
                            f"the width more than 0, got {units.s_to_ms(p.delay_s):g} ms and "
                            f"{units.s_to_ms(p.width_s):g} ms")
        if abs(p.amplitude_a) > STIMULATOR_LIMIT_A:
            raise VrigError(f"second stimulator pulse {k}: {units.a_to_pa(p.amplitude_a) / 1e6:g}"
                            f" uA is beyond the stimulator's +/-"
                            f"{units.a_to_pa(STIMULATOR_LIMIT_A) / 1e6:g} uA")
    return stimulator


@dataclass(frozen=True)
class LocalEffect:
    """A change confined to a stretch of fibre, start_um to end_um (um from the first
    end): effects (a :class:`rig.model.pharmacology.Effects`; its conductance scales act
    on the compartments whose centres lie in the stretch)."""

    start_um: float
    end_um: float
    effects: Effects
    label: str = ""  # what it is, for file headers ('TTX 1 uM')
    drug: str = ""  # the drug's name, so that washing it removes it


@dataclass(frozen=True)
class Placement:
    """Where the electrodes sit on a cell: stim, the compartment the amplifier's
    electrode is on; sites, the recorded compartments; names, their signal names
    ('Vm@<mm>mm', positions as given); axial_wire: in voltage clamp, whether the whole
    fibre is held (HH's axial wire) or only the electrode's compartment; local: changes
    confined to stretches (LocalEffect values); stimulator: the second stimulating
    electrode (a Stimulator, or None) and stim2 its compartment (-1: none);
    local_temperature: stretches heated or cooled, (start_um, end_um, degC), later ones
    over earlier; demyelinated: stretches stripped of myelin, (start_um, end_um); profile:
    compartments sampled for the space-time profile (recorded after the sites, returned
    apart from the signals)."""

    stim: int = 0
    sites: tuple = ()
    names: tuple = ()
    axial_wire: bool = True
    local: tuple = ()  # LocalEffect values: drugs on stretches of the fibre
    stimulator: Stimulator | None = None
    stim2: int = -1
    # (start_um, end_um, degC): stretches at a temperature of their own
    local_temperature: tuple = ()
    demyelinated: tuple = ()  # (start_um, end_um): stretches whose myelin is gone
    profile: tuple = ()  # compartment indices, first end to last

    def stim2_pulses(self) -> np.ndarray:
        """(n_pulses, 3): the second stimulator's pulses in kernel units (onset ms,
        width ms, amplitude pA); no rows without one."""
        if self.stimulator is None:
            return np.zeros((0, 3))
        return np.array([[units.s_to_ms(p.delay_s), units.s_to_ms(p.width_s),
                          units.a_to_pa(p.amplitude_a)] for p in self.stimulator.pulses])


POINT_PLACEMENT = Placement()  # a point cell: the electrode on its one compartment
PROFILE_POINTS = 128  # compartments in a space-time profile: enough for a map, cheap to record


def profile_compartments(geometry, points=PROFILE_POINTS):
    """The compartments (tuple of indices, first end to last) nearest to points evenly
    spaced positions along geometry (every compartment when it has no more than
    points); () for points 0."""
    if points <= 0:
        return ()
    n = geometry.n_compartments
    if n <= points:
        return tuple(range(n))
    total = geometry.total_length_um
    wanted = np.linspace(0.0, total, points)
    return tuple(sorted({geometry.compartment_at(min(x, total)) for x in wanted}))


def placement(cell, stim_at_m=0.0, record_at_m=(), axial_wire=True, stimulator=None):
    """The Placement of the amplifier's electrode at stim_at_m and recording sites at
    record_at_m (m from the fibre's first end) on cell, with or without the axial wire
    in voltage clamp, and the second stimulator (a Stimulator, or None); a point cell
    takes no position."""
    record_at_m = tuple(float(x) for x in record_at_m)
    if cell.geometry is None:
        if stim_at_m or record_at_m or stimulator is not None:
            raise VrigError(f"cell {cell.name!r} is a single compartment: it has no "
                            "positions to stimulate or record at")
        return POINT_PLACEMENT
    geometry = cell.geometry
    sites = tuple(geometry.compartment_at(units.m_to_um(x)) for x in record_at_m)
    names = tuple(f"Vm@{units.um_to_mm(units.m_to_um(x)):g}mm" for x in record_at_m)
    if len(set(names)) != len(names):
        raise VrigError("each recording site must be at a different position")
    stim2 = -1
    if stimulator is not None:
        stim2 = geometry.compartment_at(units.m_to_um(float(stimulator.at_m)))
        stimulator = check_stimulator(stimulator)
    return Placement(geometry.compartment_at(units.m_to_um(float(stim_at_m))), sites, names,
                     bool(axial_wire), stimulator=stimulator, stim2=stim2)


def compartment_scales(m, cell, local=(), demyelinated=()):
    """(cm_scale (n,), g_scale (n_channels, n)): each compartment's share of the cell's
    capacitance and of each channel's conductance in the compiled membrane m (which
    spreads the densities over the whole fibre). Myelinated compartments have the
    myelin's capacitance and conductance (the latter as leak: the leak channels scaled
    to it, the voltage-gated ones removed); local: LocalEffect values, applied in turn;
    demyelinated: (start_um, end_um) stretches whose internodes have lost their myelin:
    bare axolemma there, the cell's capacitance and leak, and no voltage-gated channels
    (the internodal membrane has almost none; they sit at the nodes)."""
    geometry = cell.geometry
    # m holds the densities times cell.area_um2, so each compartment's share is its
    # area over that (right even for a cell whose geometry was replaced without its area)
    share = geometry.areas_um2() / cell.area_um2
    cm_scale = share.copy()
    g_scale = np.tile(share, (len(m.channel_labels), 1))
    if geometry.myelin is not None:
        myelin = geometry.myelin
        leak = np.array([label == "leak" for label in m.channel_labels])
        internode = geometry.myelinated()
        under = internode.copy()
        for start_um, end_um in demyelinated:
            under[geometry.compartments_in(start_um, end_um)] = False
        g_scale[np.ix_(~leak, internode & ~under)] = 0.0  # bare internodal axolemma
        cm_scale[under] *= myelin.capacitance_uf_per_cm2 / cell.specific_capacitance_uf_per_cm2
        leak_density = m.chan_g_ns[leak].sum() / units.density_to_ns(1.0, cell.area_um2)
        factor = myelin.conductance_ms_per_cm2 / leak_density if leak_density > 0 else 0.0
        g_scale[np.ix_(~leak, under)] = 0.0
        g_scale[np.ix_(leak, under)] *= factor
    for change in local:
        where = geometry.compartments_in(change.start_um, change.end_um)
        for ch, label in enumerate(m.channel_labels):
            g_scale[ch, where] *= change.effects.conductance_scale.get(label, 1.0)
    return cm_scale, g_scale


def cable_model(m, cell, chan_g_ns, gate_floor, stim, sites, local=(), axial_wire=False,
                stim2=-1, stim2_pulses=None, local_temperature=(), demyelinated=()):
    """The CableModel of compiled membrane m on cell's geometry with the conductances
    (nS, whole fibre) and gate floors in force, the electrode on compartment stim and
    recording from compartments sites; local: LocalEffect values; axial_wire: in voltage
    clamp, hold every compartment (True) or only the electrode's; stim2, stim2_pulses:
    the second stimulator's compartment (-1: none) and pulses (see CableModel);
    local_temperature: (start_um, end_um, degC) stretches whose kinetics run at their
    own temperature (each a set of gate tables; the reversal potentials stay the
    fibre's); demyelinated: (start_um, end_um) stretches without myelin."""
    geometry = cell.geometry
    if geometry is None:
        raise VrigError(f"cell {cell.name!r} has no cable geometry; it is a single compartment")
    n = geometry.n_compartments
    sites = np.asarray(sites, dtype=np.int64)
    if not 0 <= stim < n or (sites.size and not (sites.min() >= 0 and sites.max() < n)):
        raise VrigError(f"compartments are numbered 0 to {n - 1}")
    patch = m.kernel_model(chan_g_ns, gate_floor)
    cm_scale, g_scale = compartment_scales(m, cell, local, demyelinated)
    x_inf, decay, base = _table_sets(m, cell, local_temperature)
    scale = np.concatenate((patch.out_scale, np.full(sites.size, patch.out_scale[OUT_VMEM])))
    axial = geometry.axial_conductances_ns() if n > 1 else np.zeros(1)
    g = np.asarray(chan_g_ns, float)[:, None] * g_scale
    has_gates = np.isin(np.arange(len(m.channel_labels)), m.gate_channel)
    fixed = ~has_gates
    return CableModel(*patch._replace(  # type: ignore[call-arg]
                          cm_pf=m.cm_pf * cm_scale, chan_g_ns=g, out_scale=scale,
                          x_inf=x_inf, decay=decay),
                      g_axial_ns=axial, stim=int(stim), sites=sites,
                      gated=np.flatnonzero(has_gates).astype(np.int64),
                      fixed_a_pa=(g[fixed] * m.chan_e_mv[fixed][:, None]).sum(axis=0),
                      fixed_b_ns=g[fixed].sum(axis=0), axial_wire=bool(axial_wire),
                      stim2=int(stim2), stim2_pulses=(np.zeros((0, 3)) if stim2_pulses is None
                                                      else np.asarray(stim2_pulses, float)),
                      table_base=base)


def _table_sets(m, cell, local_temperature):
    """(x_inf (n_gates, n_sets * n_v, 4) interleaved, decay (n_gates, n_v) of the fibre's
    own temperature, table_base (n_compartments,) int64): one set of gate tables for
    the compiled membrane m's temperature and one per other temperature a stretch has,
    each compartment's base the first row of its set."""
    geometry = cell.geometry
    base = np.zeros(geometry.n_compartments, dtype=np.int64)
    sets = [_interleaved(m.x_inf, m.decay)]
    temperatures: list = []
    n_v = m.x_inf.shape[1]
    for start_um, end_um, temperature_c in local_temperature:
        where = geometry.compartments_in(start_um, end_um)
        if temperature_c not in temperatures:
            temperatures.append(temperature_c)
            gates_phi = [(gate, cell.channels[index][0].phi(temperature_c))
                         for gate, index in m.gates]
            x_inf, decay = channels.gate_tables(gates_phi, m.dt_ms)
            sets.append(_interleaved(x_inf, decay))
        base[where] = (1 + temperatures.index(temperature_c)) * n_v
    return np.ascontiguousarray(np.concatenate(sets, axis=1)), m.decay, base


def _interleaved(x_inf, decay):
    """(n_gates, n_v, 4): per gate and voltage x_inf, its step to the next voltage,
    decay and its step, so the kernel reads one cache line per gate and compartment
    (the steps are exact differences: the interpolation is the patch kernel's)."""
    table = np.zeros(x_inf.shape + (4,))
    table[:, :, 0] = x_inf
    table[:, :-1, 1] = np.diff(x_inf, axis=1)
    table[:, :, 2] = decay
    table[:, :-1, 3] = np.diff(decay, axis=1)
    return table


def cable_output_rows(m, n_sites):
    """Number of output rows of the cable kernel for membrane m and n_sites sites."""
    return output_rows(len(m.labels), m.gate_channel.size) + n_sites
