"""A membrane whose channels are counted one by one: each kind a population of N
channels moving through the states of its Markov scheme (:mod:`rig.model.markov`),
stepped by :mod:`rig.simulation.stochastic_kernel`.

Which algorithm steps a population (the switch rule): a cell run with its noise off
follows the mean (the master equation, ALG_MEAN); otherwise a population of at most
EXACT_MAX_CHANNELS channels is simulated event by event (ALG_EXACT) and a larger one
by the multinomial update (ALG_MULTINOMIAL). The exact algorithm's work grows with the
number of transitions (N x the exit rate per ms) while the multinomial's is fixed per
step (a few binomial draws per state), so the exact one is chosen where it is also
the cheaper one: `vrig bench` measured a Na patch at -40 mV at 10 us (exact /
multinomial: 0.59 / 0.67 us a step with 200 channels, 0.79 / 0.68 us with 300;
exact_/multinomial_us_per_step_N), and at depolarised potentials, where the rates are
higher, the crossing comes earlier.

Patch configurations (Cell.configuration): the amplifier holds the pipette at the
command Vp and reads the current that leaves the headstage into the pipette (positive,
the Axon convention: Axopatch 200B Theory and Operation, Axon Instruments 1997-99,
"Polarity conventions"; The Axon Guide, 3rd ed., 2012, ch. 4 and 6). Whichever face of
the patch the pipette touches fixes the membrane potential (inside - outside) and the
sign of the reading (polarity()):

* outside-out (and any whole cell): the pipette is the cytoplasm, Vm = Vp, and an
  outward membrane current reads positive;
* inside-out: the pipette is the outside, the bath (ground) the cytoplasm, Vm = -Vp,
  and an outward membrane current leaves the patch into the pipette: it reads negative
  (inward currents upward);
* cell-attached: the pipette is the outside and the cell's own interior, at its resting
  potential, the inside: Vm = V_rest - Vp (CELL_ATTACHED_REST_MV), read as inside-out.

Drugs reach the face each solution touches (drugs_in_force): the bath the outer face of
an outside-out patch, the inner face of an inside-out one, and no face of a
cell-attached patch (it is sealed under the pipette); the pipette the other face.

A blocker that stays bound for seconds (Drug.unbinding_rate_per_s: TTX) blocks whole
channels (block_step in the kernel): a blocked channel carries no current; each
channel binds and leaves the drug independently, with the drug's leaving rate, so
with a fraction f blocked at equilibrium the number blocked is binomial (N, f). A
blocked channel's gating is not followed: on unbinding it takes a state drawn from the
occupancy of the channels that are free, which is the distribution its own state has
when gating does not depend on the block (TTX leaves gating alone; Hille 2001, ch. 17).
A fast blocker (TEA: blocked times of tens to hundreds of microseconds, far below what
a 2-10 kHz filter resolves; Yellen 1984 J Gen Physiol 84:157-186 for K channels) shows
in a record as a smaller unitary current, i x the fraction unblocked, and no blocked
dwells: that is what it does here. Channels that follow the mean (noise off) are
blocked by their mean, the conductance scaled.

Units: mV, ms, pA, nS, pF (kernel units); counts are numbers of channels.
"""

from collections import namedtuple
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.linalg import expm

from rig import units
from rig.errors import VrigError
from rig.model.cell import PATCH_CONFIGURATIONS, Cell, markov_populations
from rig.model.channels import table_voltages_mv
from rig.model.markov import Scheme
from rig.model.pharmacology import Effects, Perfusion, combine_effects
from rig.model.solutions import Solution
from rig.simulation.layout import MARKOV
from rig.simulation.membrane import (
    OUT_TO_SI,
    CompiledMembrane,
    leak_components,
    reversal_potentials_mv,
)
from rig.simulation.stochastic_kernel import ALG_EXACT, ALG_MEAN, ALG_MULTINOMIAL

EXACT_MAX_CHANNELS = 250
P_STEP_MV = 0.25  # spacing of the one-step transition probability tables
NS_PER_PS = 1e-3
ALGORITHM_NAMES = {ALG_EXACT: "exact", ALG_MULTINOMIAL: "multinomial", ALG_MEAN: "mean"}
# The cell's resting potential behind a cell-attached patch: the HH squid axon's
# (Hodgkin & Huxley 1952 J Physiol 117:500-544 put rest at -65 mV absolute)
CELL_ATTACHED_REST_MV = -65.0
# A population no whole-channel blocker targets never has blocked channels; this rate
# (1/ms) is only a placeholder for its record
NO_WHOLE_BLOCKER_RATE_PER_MS = 1.0

# The record the Markov kernel takes (see rig.simulation.stochastic_kernel): table
# placement (v_min_mv, inv_dv_mv); per transition (sorted by source state) its rate
# table rate_tab (1/ms, phi included) and target state trans_dst; per state its total
# exit rate table exit_tab, the first of its transitions out_start (n_states + 1) and
# state_open (1.0 if it conducts); per population its first state pop_first
# (n_pop + 1), unitary conductance pop_gamma_ns (nS, drugs applied), reversal pop_e_mv
# (mV), signal label index pop_label and algorithm (ALG_*); the ohmic leak chan_g_ns,
# chan_e_mv, chan_label; out_scale per output row; has_charge (always False); p_tab
# (n_p, n_states, largest scheme): the one-step transition probabilities from each
# state to each state of its population (padded with 0) on the grid p_voltages_mv(),
# column q of row s to state p_order[s, q] (MarkovTables.kernel_p_tab); the blocked
# fraction per population pop_block (by whole-channel blockers), their leaving rate per
# population block_rate_per_ms (1/ms) and the patch's polarity (v_sign, v_offset_mv).
StochasticModel = namedtuple("StochasticModel", (
    "cm_pf", "dt_ms", "v_min_mv", "inv_dv_mv", "rate_tab", "exit_tab", "out_start",
    "trans_dst", "state_open", "pop_first", "pop_gamma_ns", "pop_e_mv", "pop_label",
    "algorithm", "chan_g_ns", "chan_e_mv", "chan_label", "out_scale", "has_charge",
    "p_tab", "p_v_min_mv", "p_inv_dv_mv", "pop_block", "block_rate_per_ms", "v_sign",
    "v_offset_mv", "p_order"))


def polarity(configuration: str) -> tuple[float, float]:
    """(v_sign, v_offset_mv) of a patch configuration (module docstring): the membrane
    potential is v_sign * Vp + v_offset_mv (mV) and the reading is v_sign times the
    outward membrane current (plus the pipette's own currents)."""
    if configuration == "inside-out":
        return -1.0, 0.0
    if configuration == "cell-attached":
        return -1.0, CELL_ATTACHED_REST_MV
    return 1.0, 0.0


def membrane_polarity(m: CompiledMembrane) -> tuple[float, float]:
    """polarity() of m's patch configuration; (1, 0) for any other membrane."""
    return polarity(m.markov.configuration) if isinstance(m.markov, MarkovTables) else (1.0, 0.0)


@dataclass(frozen=True)
class MarkovTables:
    """The populations of a compiled Markov membrane: schemes and counts, the kernel's
    tables (see StochasticModel), each population's unitary conductance (nS) and
    reversal (mV), its algorithm (ALG_*) and its temperature factor phi."""

    schemes: tuple[Scheme, ...]
    counts: tuple[int, ...]
    rate_tab: np.ndarray
    exit_tab: np.ndarray
    out_start: np.ndarray
    trans_dst: np.ndarray
    state_open: np.ndarray
    pop_first: np.ndarray
    gamma_ns: np.ndarray
    e_mv: np.ndarray
    algorithm: np.ndarray
    phi: tuple[float, ...]
    p_tab: np.ndarray
    configuration: str = ""

    def kernel_p_tab(self) -> tuple[np.ndarray, np.ndarray]:
        """(table, order) as the kernel reads the one-step probabilities: table
        (n_p, n_rows, widest), one voltage's probabilities together in memory;
        order[s, q] the destination (index within the population) of column q of row
        s, the likeliest first, so that the conditional binomials of a multinomial
        run out of channels to place after the few likely destinations and skip
        the rest (the multinomial is the same in any order: speed only)."""
        middle = self.p_tab[:, :, self.p_tab.shape[2] // 2]
        order = np.argsort(-middle, axis=1, kind="stable").astype(np.int64)
        table = np.take_along_axis(self.p_tab, order[:, :, None], axis=1)
        return np.ascontiguousarray(np.moveaxis(table, 2, 0)), order

    @property
    def n_pop(self) -> int:
        """Number of populations."""
        return len(self.schemes)


def algorithm_for(count: int, stochastic: bool) -> int:
    """The algorithm (ALG_*) for a population of count channels (the switch rule)."""
    if not stochastic:
        return ALG_MEAN
    return ALG_EXACT if count <= EXACT_MAX_CHANNELS else ALG_MULTINOMIAL


def p_voltages_mv() -> np.ndarray:
    """The voltage grid (mV) of the one-step transition probability tables."""
    v = table_voltages_mv()
    n = int(round((v[-1] - v[0]) / P_STEP_MV)) + 1
    return np.linspace(v[0], v[-1], n)


def one_step_probabilities(scheme: Scheme, phi: float, dt_ms: float) -> np.ndarray:
    """P = expm(Q dt) at every voltage of p_voltages_mv(): shape (n_states, n_states,
    n_v), P[i, j] the probability that a channel in state i is in state j dt (ms) later
    at a constant voltage, with the temperature factor phi."""
    v = p_voltages_mv()
    n = scheme.n_states
    q = np.zeros((v.size, n, n))
    for t in scheme.transitions:
        q[:, t.source, t.target] += phi * t(v)
    q[:, np.arange(n), np.arange(n)] = -q.sum(axis=2)
    p = np.clip(expm(q * dt_ms), 0.0, None)
    p /= p.sum(axis=2, keepdims=True)
    return np.moveaxis(p, 0, 2)


def configured(cell: Cell, configuration: str | None) -> Cell:
    """cell recorded in another patch configuration (one of PATCH_CONFIGURATIONS; None
    keeps its own). Only a patch preset (one that names its configuration) has one:
    anything else is a VrigError saying what to do."""
    if configuration is None:
        return cell
    if configuration not in PATCH_CONFIGURATIONS:
        raise VrigError(f"patch configuration must be one of "
                        f"{', '.join(PATCH_CONFIGURATIONS)}, got {str(configuration)[:40]!r}")
    if not cell.configuration:
        raise VrigError(f"cell {cell.name!r} is a whole cell: a patch configuration applies "
                        "to a patch (e.g. --cell patch-na or patch-k)")
    return replace(cell, configuration=configuration)


def state_rows(cell: Cell) -> int:
    """Rows of the state array the Markov kernel needs for cell: one per state of
    each population, then one per population for its blocked channels."""
    populations = markov_populations(cell)
    return sum(scheme.n_states for scheme, _ in populations) + len(populations)


def compile_markov(cell: Cell, bath: Solution, pipette: Solution, temperature_c: float,
                   dt_ms: float) -> CompiledMembrane:
    """Build the Markov kernel's arrays for a cell in its solutions (drug-free)."""
    populations = markov_populations(cell)
    e_all = reversal_potentials_mv(bath, pipette, temperature_c)
    v = table_voltages_mv()
    rate_rows, exit_rows, out_start, trans_dst, state_open, pop_first = [], [], [0], [], [], [0]
    gammas, reversals, phis, labels, g_max = [], [], [], [], []
    widest = max((s.n_states for s, _ in populations), default=1)
    n_rows = sum(s.n_states for s, _ in populations)
    p_tab = np.zeros((n_rows, widest, p_voltages_mv().size))
    for scheme, count in populations:
        phi = scheme.phi(temperature_c)
        p_tab[pop_first[-1]: pop_first[-1] + scheme.n_states, : scheme.n_states] = (
            one_step_probabilities(scheme, phi, dt_ms))
        base = pop_first[-1]
        for s in range(scheme.n_states):
            leaving = [t for t in scheme.transitions if t.source == s]
            rows = [phi * t(v) for t in leaving]
            rate_rows += rows
            trans_dst += [base + t.target for t in leaving]
            exit_rows.append(np.sum(rows, axis=0) if rows else np.zeros(v.size))
            out_start.append(out_start[-1] + len(leaving))
        state_open.append(scheme.open_vector())
        pop_first.append(base + scheme.n_states)
        gamma_ns = scheme.unitary_conductance_ps * NS_PER_PS
        e = e_all.get(scheme.ion)
        # an ion missing from one side: the channels gate but carry nothing
        gammas.append(gamma_ns if e is not None else 0.0)
        reversals.append(e if e is not None else 0.0)
        phis.append(phi)
        labels.append(scheme.label)
        g_max.append(count * gammas[-1])
    leak = leak_components(cell, e_all)
    leak_g = [units.density_to_ns(density, cell.area_um2) for density, _ in leak]
    tables = MarkovTables(
        schemes=tuple(s for s, _ in populations), counts=tuple(n for _, n in populations),
        rate_tab=np.array(rate_rows), exit_tab=np.array(exit_rows),
        out_start=np.array(out_start, dtype=np.int64),
        trans_dst=np.array(trans_dst, dtype=np.int64),
        state_open=np.concatenate(state_open), pop_first=np.array(pop_first, dtype=np.int64),
        gamma_ns=np.array(gammas), e_mv=np.array(reversals),
        algorithm=np.array([algorithm_for(n, cell.stochastic) for _, n in populations],
                           dtype=np.int64),
        phi=tuple(phis), p_tab=p_tab, configuration=cell.configuration)
    return CompiledMembrane(
        channel_labels=tuple(labels) + ("leak",) * len(leak),
        gate_names=tuple(f"{label}_open" for label in labels),
        chan_g_ns=np.array(g_max + leak_g, dtype=float),
        chan_e_mv=np.array(reversals + [e for _, e in leak], dtype=float),
        gate_channel=np.zeros(0, dtype=np.int64), gate_power=np.zeros(0, dtype=np.int64),
        x_inf=np.zeros((0, v.size)), decay=np.zeros((0, v.size)), gates=(),
        gate_charge_fc=np.zeros(0), gate_phi=np.zeros(0), cm_pf=cell.capacitance_pf,
        dt_ms=dt_ms, kind=MARKOV, markov=tables)


def _tables(m: CompiledMembrane) -> MarkovTables:
    tables = m.markov
    if not isinstance(tables, MarkovTables):
        raise TypeError("not a Markov membrane")
    return tables


class DrugsInForce(NamedTuple):
    """The drugs as they act on a Markov membrane: the conductances in force (nS, as
    CompiledMembrane.drug_arrays), per population the fraction left unblocked by
    whole-channel blockers (the rest of its block is fast) and their leaving rate
    (1/ms)."""

    chan_g_ns: np.ndarray
    whole_kept: np.ndarray
    unbinding_per_ms: np.ndarray


def in_force(m: CompiledMembrane, chan_g_ns: npt.ArrayLike | None,
             whole_kept: npt.ArrayLike | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unitary conductances per population (nS), leak conductances (nS), blocked
    fraction per population) with the conductances in force (from drug_arrays; None:
    drug-free) of which whole_kept (per population) is left by whole-channel blockers
    (None: all of the block is whole). Counted channels are blocked whole by those (the
    blocked fraction), the fast block scaling their unitary conductance; a population
    that follows the mean has its conductance scaled."""
    t = _tables(m)
    g = m.chan_g_ns if chan_g_ns is None else np.asarray(chan_g_ns, dtype=float)
    full = m.chan_g_ns[: t.n_pop]
    ratio = np.clip(np.divide(g[: t.n_pop], full, out=np.ones(t.n_pop), where=full > 0),
                    0.0, 1.0)
    whole = ratio if whole_kept is None else np.clip(whole_kept, ratio, 1.0)
    fast = np.divide(ratio, whole, out=np.zeros(t.n_pop), where=whole > 0)
    mean = t.algorithm == ALG_MEAN
    gamma = np.where(mean, t.gamma_ns * ratio, t.gamma_ns * fast)
    return gamma, g[t.n_pop:], np.where(mean, 0.0, 1.0 - whole)


def drugs_in_force(m: CompiledMembrane, perfusion: Perfusion) -> DrugsInForce:
    """The drugs of perfusion as they reach a Markov membrane: on a patch each
    solution's drugs act on the face it touches in its configuration (module
    docstring). A population's leaving rate is that of the slowest whole-channel
    blocker of its label the perfusion has seen, so channels still blocked after the
    drug has washed out leave at its rate."""
    t = _tables(m)
    effects = _effects_at_faces(perfusion, t.configuration)
    chan_g, _ = m.drug_arrays(effects)
    labels = [scheme.label for scheme in t.schemes]
    rates = []
    for label in labels:
        known = [drug.unbinding_rate_per_s for drug in perfusion.drugs.values()
                 if drug.target == label and drug.unbinding_rate_per_s is not None]
        # the mean blocked dwell (ms) of the slowest, inverted
        rates.append(1.0 / units.s_to_ms(1.0 / min(known)) if known
                     else NO_WHOLE_BLOCKER_RATE_PER_MS)
    return DrugsInForce(chan_g, np.array([effects.whole_channel_scale.get(label, 1.0)
                                          for label in labels]), np.array(rates))


def _effects_at_faces(perfusion: Perfusion, configuration: str) -> Effects:
    """perfusion's effects with each solution's drugs on the face it touches."""
    if configuration not in ("inside-out", "cell-attached"):
        return perfusion.effects()
    # the side a drug is given from (bath: outside, pipette: inside) -> the face it reaches
    faces = {"outside": "inside" if configuration == "inside-out" else None,
             "inside": "outside"}
    acting = []
    for (name, side), concentration in sorted(perfusion.present.items()):
        face = faces[side]
        if face is not None:
            drug = perfusion.drugs[name]
            acting.append((drug, max(drug.fraction(concentration, face, perfusion.preparation),
                                     perfusion.held.get((name, side), 0.0))))
    return combine_effects(acting)


def kernel_model(m: CompiledMembrane, drugs: DrugsInForce) -> StochasticModel:
    """The Markov kernel's record for m with the drugs in force."""
    t = _tables(m)
    gamma, leak_g, blocked = in_force(m, drugs.chan_g_ns, drugs.whole_kept)
    labels = m.labels
    v_sign, v_offset = polarity(t.configuration)
    p_fast, p_order = t.kernel_p_tab()
    scale = np.array(OUT_TO_SI + tuple(factor for _, _, factor in m.output_names()))
    v = table_voltages_mv()
    pv = p_voltages_mv()
    return StochasticModel(
        cm_pf=float(m.cm_pf), dt_ms=float(m.dt_ms), v_min_mv=float(v[0]),
        inv_dv_mv=(v.size - 1) / (v[-1] - v[0]), rate_tab=t.rate_tab, exit_tab=t.exit_tab,
        out_start=t.out_start, trans_dst=t.trans_dst, state_open=t.state_open,
        pop_first=t.pop_first, pop_gamma_ns=gamma, pop_e_mv=t.e_mv,
        pop_label=np.array([labels.index(s.label) for s in t.schemes], dtype=np.int64),
        algorithm=t.algorithm, chan_g_ns=leak_g, chan_e_mv=m.chan_e_mv[t.n_pop:],
        chan_label=np.array([labels.index("leak")] * leak_g.size if leak_g.size else [],
                            dtype=np.int64),
        out_scale=scale, has_charge=False, p_tab=p_fast, p_v_min_mv=float(pv[0]),
        p_inv_dv_mv=(pv.size - 1) / (pv[-1] - pv[0]), pop_block=blocked,
        block_rate_per_ms=drugs.unbinding_per_ms, v_sign=v_sign, v_offset_mv=v_offset,
        p_order=p_order)


def stationary_open(scheme: Scheme, v_mv: npt.ArrayLike) -> Any:
    """Steady-state open probability at v_mv (mV; a number or an array)."""
    v = np.atleast_1d(np.asarray(v_mv, dtype=float))
    n = scheme.n_states
    q = np.zeros((v.size, n, n))
    for t in scheme.transitions:
        q[:, t.source, t.target] += t(v)
    q[:, np.arange(n), np.arange(n)] = -q.sum(axis=2)
    a = np.swapaxes(q, 1, 2).copy()
    a[:, -1, :] = 1.0
    b = np.zeros((v.size, n, 1))
    b[:, -1, 0] = 1.0
    p = np.clip(np.linalg.solve(a, b)[:, :, 0], 0.0, None)
    p_open = (p @ scheme.open_vector()) / p.sum(axis=1)
    return p_open.reshape(np.shape(v_mv))


def steady_current_pa(m: CompiledMembrane, v_mv: npt.ArrayLike,
                      chan_g_ns: npt.ArrayLike | None = None) -> Any:
    """The mean steady-state ionic current (pA, outward +) at v_mv (mV)."""
    t = _tables(m)
    gamma, leak_g, blocked = in_force(m, chan_g_ns)
    v = np.asarray(v_mv, dtype=float)
    total = np.zeros_like(v)
    for scheme, count, g, f, e in zip(t.schemes, t.counts, gamma, blocked, t.e_mv):
        total = total + count * (1.0 - f) * g * stationary_open(scheme, v) * (v - e)
    for g, e in zip(leak_g, m.chan_e_mv[t.n_pop:]):
        total = total + g * (v - e)
    return total


def draw_counts(m: CompiledMembrane, v_mv: float, rng: np.random.Generator,
                drugs: DrugsInForce | None = None) -> np.ndarray:
    """Channel counts per state at steady state with the amplifier at v_mv (mV; a
    patch's membrane is at its polarity() from it), then the blocked count of each
    population: multinomial draws with the stationary occupancies, binomial block with
    the whole-channel blockers of drugs (None: drug-free; expectations for a population
    that follows the mean, which is never blocked whole)."""
    t = _tables(m)
    v_sign, v_offset = polarity(t.configuration)
    v_membrane = v_sign * v_mv + v_offset
    _, _, blocked = (in_force(m, None) if drugs is None
                     else in_force(m, drugs.chan_g_ns, drugs.whole_kept))
    counts, blocked_counts = [], []
    for scheme, count, algorithm, f in zip(t.schemes, t.counts, t.algorithm, blocked):
        p = scheme.stationary(v_membrane)
        if algorithm == ALG_MEAN:
            counts.append(count * p)
            blocked_counts.append(0.0)
            continue
        n_blocked = int(rng.binomial(count, min(1.0, max(0.0, f))))
        counts.append(rng.multinomial(count - n_blocked, p / p.sum()).astype(float))
        blocked_counts.append(float(n_blocked))
    return np.concatenate(counts + [np.array(blocked_counts)])


def ionic_current_pa(m: CompiledMembrane, v_mv: float, counts: npt.ArrayLike,
                     chan_g_ns: npt.ArrayLike | None = None) -> float:
    """Ionic current (pA, outward +) at v_mv (mV) with the channels in counts."""
    t = _tables(m)
    gamma, leak_g, _ = in_force(m, chan_g_ns)
    counts = np.asarray(counts, dtype=float)
    total = 0.0
    for p in range(t.n_pop):
        states = slice(t.pop_first[p], t.pop_first[p + 1])
        n_open = float(t.state_open[states] @ counts[states])
        total += gamma[p] * n_open * (v_mv - t.e_mv[p])
    return total + float(np.sum(leak_g * (v_mv - m.chan_e_mv[t.n_pop:])))


def describe(m: CompiledMembrane) -> dict[str, str]:
    """Header text: channel counts, unitary conductances (pS) and algorithms by label."""
    t = _tables(m)
    labels = [s.label for s in t.schemes]
    return {
        "channels": " ".join(f"{label}={n}" for label, n in zip(labels, t.counts)),
        "unitary_conductance_pS": " ".join(f"{label}={s.unitary_conductance_ps:g}"
                                           for label, s in zip(labels, t.schemes)),
        "channel_schemes": " ".join(f"{label}={s.name}" for label, s in zip(labels, t.schemes)),
        "channel_algorithm": " ".join(f"{label}={ALGORITHM_NAMES[int(a)]}"
                                      for label, a in zip(labels, t.algorithm)),
        **_polarity_text(t.configuration),
    }


def _polarity_text(configuration: str) -> dict[str, str]:
    """Header text on how a patch's command and current relate to its membrane."""
    if configuration == "inside-out":
        return {"patch_polarity": "Vm=-Vp; Im positive = inward membrane current"}
    if configuration == "cell-attached":
        return {"patch_polarity": f"Vm={CELL_ATTACHED_REST_MV:g}mV-Vp; Im positive = inward "
                                  "membrane current",
                "cell_resting_potential_mV": f"{CELL_ATTACHED_REST_MV:g}"}
    if configuration == "outside-out":
        return {"patch_polarity": "Vm=Vp; Im positive = outward membrane current"}
    return {}
