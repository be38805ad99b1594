"""Channels as Markov schemes: discrete states, voltage-dependent transitions between
them, some states conducting.

A scheme is data (``resources/schemes/*.json``, format ``vrig-scheme``): its states,
which of them conduct, its named rates (the rate forms of :mod:`rig.model.channels`,
1/ms at the reference temperature, scaled by phi = q10 ** ((T - T_ref)/10)) and its
transitions, each ``{"from", "to", "rate", "factor"}`` with rate the name of a rate or
an inline rate object and factor a positive multiplier (3 for the 3 alpha_m of HH's
first m step, a^k for an allosteric coupling). One channel in an open state passes
i = gamma (V - E_rev), gamma the unitary conductance (pS) given with its source.

The mean behaviour of many channels is the master equation dp/dt = p Q(V), p the
occupancy row vector and Q the generator (Q[i, j] the rate i -> j in 1/ms,
Q[i, i] = -sum of row i); :func:`scheme_from_channel` builds the scheme whose master
equation is exactly an HH channel's gate equations (a product of independent gates).
"""

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rig import resources
from rig.errors import VrigError
from rig.model import physics, shipped
from rig.model.channels import Channel, Rate, rate_from_dict
from rig.model.ions import PERMEANT_IONS

MAX_STATES = 64
UNITARY_RANGE_PS = (0.01, 1000.0)


@dataclass(frozen=True)
class Transition:
    """One transition: state indices source -> target at factor x rate (1/ms at T_ref)."""

    source: int
    target: int
    rate: Rate
    factor: float = 1.0

    def __call__(self, v_mv: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The transition's rate (1/ms) at v_mv (mV), at the reference temperature."""
        return self.factor * self.rate(v_mv)


@dataclass(frozen=True)
class Scheme:
    """A Markov channel: label (signal names, 'Na' -> INa), ion, states (names), the
    indices of the conducting states, transitions, Q10 and its reference temperature
    (degC), unitary conductance (pS) and where each number comes from."""

    name: str
    label: str
    ion: str
    states: tuple[str, ...]
    open_states: tuple[int, ...]
    transitions: tuple[Transition, ...]
    q10: float
    reference_temperature_c: float
    unitary_conductance_ps: float
    unitary_conductance_source: str = ""
    source: str = ""
    description: str = ""

    @property
    def n_states(self) -> int:
        """Number of states."""
        return len(self.states)

    def phi(self, temperature_c: float) -> float:
        """Rate multiplier at a temperature (degC)."""
        return physics.q10_factor(temperature_c, self.q10, self.reference_temperature_c)

    def open_vector(self) -> npt.NDArray[np.float64]:
        """1.0 for each conducting state, 0.0 for the others."""
        flags = np.zeros(self.n_states)
        flags[list(self.open_states)] = 1.0
        return flags

    def generator(self, v_mv: float, phi: float = 1.0) -> npt.NDArray[np.float64]:
        """The generator Q (1/ms) at v_mv (mV) with the temperature factor phi:
        Q[i, j] is the rate i -> j, each row sums to 0."""
        q = np.zeros((self.n_states, self.n_states))
        for t in self.transitions:
            q[t.source, t.target] += phi * float(t(v_mv))
        q[np.diag_indices_from(q)] = -q.sum(axis=1)
        return q

    def stationary(self, v_mv: float) -> npt.NDArray[np.float64]:
        """The steady-state occupancy (fractions summing to 1) at v_mv (mV): the left
        null vector of Q (independent of phi)."""
        q = self.generator(v_mv)
        # p Q = 0 with sum(p) = 1: replace one equation by the normalisation
        a = q.T.copy()
        a[-1, :] = 1.0
        b = np.zeros(self.n_states)
        b[-1] = 1.0
        p = np.linalg.solve(a, b)
        return np.clip(p, 0.0, None) / np.clip(p, 0.0, None).sum()

    def open_probability(self, occupancy: npt.ArrayLike) -> Any:
        """Fraction open for occupancies (n_states,) + any shape."""
        return np.tensordot(self.open_vector(), np.asarray(occupancy, dtype=float), axes=1)


def _states(data: dict[str, Any], what: str) -> tuple[str, ...]:
    states = data.get("states")
    if (not isinstance(states, list) or not 2 <= len(states) <= MAX_STATES
            or not all(isinstance(s, str) and s for s in states)):
        raise VrigError(f"{what}: states must be a list of 2 to {MAX_STATES} names")
    if len(set(states)) != len(states):
        raise VrigError(f"{what}: each state name must appear once in states")
    return tuple(states)


def _transition(item: Any, index: dict[str, int], rates: dict[str, Rate],
                what: str) -> Transition:
    if not isinstance(item, dict):
        raise VrigError(f"{what} must be an object with from, to and rate")
    ends = []
    for key in ("from", "to"):
        if item.get(key) not in index:
            raise VrigError(f"{what}: {key} must be one of the states, got "
                            f"{resources.printable(item.get(key))[:40]!r}")
        ends.append(index[item[key]])
    if ends[0] == ends[1]:
        raise VrigError(f"{what}: a transition must join two different states")
    rate = item.get("rate")
    if isinstance(rate, str):
        if rate not in rates:
            raise VrigError(f"{what}: rate {resources.printable(rate)[:40]!r} is not one of "
                            f"the scheme's rates ({', '.join(rates)})")
        found = rates[rate]
    else:
        found = rate_from_dict(rate, f"{what} rate")
    factor = resources.number(item, "factor", what, -1e6, 1e6, default=1.0)
    if factor <= 0:
        raise VrigError(f"{what}: factor must be positive (a rate cannot be negative); "
                        "leave out a transition that never happens")
    return Transition(ends[0], ends[1], found, factor)


def check_connected(states: tuple[str, ...], transitions: Iterable[Transition],
                    what: str) -> None:
    """A VrigError unless every state can reach every other along the transitions
    (otherwise the steady state is not unique and part of the scheme is unused)."""
    edges = [(t.source, t.target) for t in transitions]
    for forward in (True, False):
        seen = {0}
        frontier = [0]
        while frontier:
            s = frontier.pop()
            for a, b in edges:
                a, b = (a, b) if forward else (b, a)
                if a == s and b not in seen:
                    seen.add(b)
                    frontier.append(b)
        if len(seen) != len(states):
            lost = [states[i] for i in range(len(states)) if i not in seen]
            direction = "reached from" if forward else "lead back to"
            raise VrigError(f"{what}: states {', '.join(lost)} cannot be {direction} state "
                            f"{states[0]}; every state must connect to every other")


def scheme_from_dict(data: Any, name: str) -> Scheme:
    """Build a Scheme from its preset JSON, validating each field."""
    what = f"scheme {name!r}"
    if not isinstance(data, dict):
        raise VrigError(f"{what} must be a JSON object")
    states = _states(data, what)
    index = {s: i for i, s in enumerate(states)}
    opened = data.get("open")
    if (not isinstance(opened, list) or not opened
            or not all(isinstance(s, str) and s in index for s in opened)):
        raise VrigError(f"{what}: open must list one or more of its states")
    if len(opened) == len(states):
        raise VrigError(f"{what}: at least one state must be closed (not in open)")
    raw_rates = data.get("rates", {})
    if not isinstance(raw_rates, dict):
        raise VrigError(f"{what}: rates must be an object of name: rate")
    rates = {key: rate_from_dict(value, f"{what} rate {key!r}")
             for key, value in raw_rates.items()}
    items = data.get("transitions")
    if not isinstance(items, list) or not items:
        raise VrigError(f"{what}: transitions must be a list")
    transitions = tuple(_transition(item, index, rates, f"{what} transition {i}")
                        for i, item in enumerate(items))
    pairs = [(t.source, t.target) for t in transitions]
    if len(set(pairs)) != len(pairs):
        raise VrigError(f"{what}: a transition between the same two states appears twice")
    check_connected(states, transitions, what)
    ion = data.get("ion")
    if ion not in PERMEANT_IONS:
        raise VrigError(f"{what}: ion must be one of {', '.join(PERMEANT_IONS)}, got {ion!r}")
    for key in ("source", "description", "unitary_conductance_source", "label"):
        if not isinstance(data.get(key, ""), str):
            raise VrigError(f"{what}: {key} must be text")
    return Scheme(
        name=name, label=str(data.get("label", ion)), ion=ion, states=states,
        open_states=tuple(index[s] for s in opened), transitions=transitions,
        q10=resources.number(data, "q10", what, 1, 10, default=physics.HH_Q10),
        reference_temperature_c=resources.number(
            data, "reference_temperature_C", what, 0, 45,
            default=physics.HH_REFERENCE_TEMPERATURE_C),
        unitary_conductance_ps=check_unitary(
            resources.number(data, "unitary_conductance_pS", what), what),
        unitary_conductance_source=str(data.get("unitary_conductance_source", "")),
        source=str(data.get("source", "")), description=str(data.get("description", "")))


def check_unitary(gamma_ps: float, what: str) -> float:
    """gamma_ps (pS) if it is a usable unitary conductance, else a VrigError."""
    low, high = UNITARY_RANGE_PS
    if not low <= gamma_ps <= high:
        raise VrigError(f"{what}: the unitary conductance must be {low:g} to {high:g} pS, "
                        f"got {gamma_ps:g}")
    return gamma_ps


def scheme_from_channel(channel: Channel, unitary_conductance_ps: float | None = None
                        ) -> Scheme:
    """The Markov scheme of an HH channel: one state per number of 'up' particles of
    each gate (power + 1 states a gate), a gate with k of p up moving up at
    (p - k) alpha and down at k beta. Its master equation is exactly the gate
    equations (the occupancies are binomial in each gate value). The only open state
    has every particle up. unitary_conductance_ps: pS (default: the channel's own)."""
    gamma = (channel.unitary_conductance_ps if unitary_conductance_ps is None
             else unitary_conductance_ps)
    what = f"channel {channel.name!r}"
    if not gamma:
        raise VrigError(f"{what} has no unitary_conductance_pS, so its channels cannot be "
                        "counted; add one to its file")
    check_unitary(gamma, what)
    ranges = [range(g.power + 1) for g in channel.gates]
    combos = list(itertools.product(*ranges))
    index = {c: i for i, c in enumerate(combos)}
    names = tuple("".join(f"{g.name}{k}" for g, k in zip(channel.gates, c)) for c in combos)
    transitions = []
    for combo in combos:
        for gi, gate in enumerate(channel.gates):
            k = combo[gi]
            if k < gate.power:
                up = combo[:gi] + (k + 1,) + combo[gi + 1:]
                transitions.append(Transition(index[combo], index[up], gate.alpha,
                                              float(gate.power - k)))
                transitions.append(Transition(index[up], index[combo], gate.beta,
                                              float(k + 1)))
    full = tuple(g.power for g in channel.gates)
    return Scheme(
        name=f"{channel.name}-markov", label=channel.label, ion=channel.ion, states=names,
        open_states=(index[full],), transitions=tuple(transitions), q10=channel.q10,
        reference_temperature_c=channel.reference_temperature_c,
        unitary_conductance_ps=gamma,
        unitary_conductance_source=channel.unitary_conductance_source,
        source=f"the Markov form of {channel.name}: {channel.source}",
        description=f"{channel.description} (as a Markov scheme)")


def load_scheme(name: str) -> Scheme:
    """A shipped scheme preset by name (``resources/schemes``)."""
    return scheme_from_dict(resources.load_preset("schemes", name), name)


def scan_schemes() -> tuple[dict[str, Scheme], list[tuple[str, str]]]:
    """({name: Scheme}, [(path, problem)]) for every shipped scheme."""
    return shipped.scan("schemes", scheme_from_dict)
