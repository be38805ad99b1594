"""Drugs as data: dose-response per side and per preparation, and perfusion kinetics.

A drug reaches the cell with first-order kinetics (time constant wash_in_tau_s while
its concentration rises, wash_out_tau_s while it falls), so 63 % of a step change has
arrived after one time constant. At the cell, the fraction of targets it acts on
follows the Hill equation  f = 1 / (1 + (IC50 / C) ** n). Drugs at different sites
act independently: the unblocked fractions multiply.

Potency depends on the side a drug is given from and on the preparation: external
TEA half-blocks the frog node's K current at 0.4 mM and does nothing to the squid
axon. A preset gives, for each side, a 'default' entry and entries for named
preparations (a cell preset names its preparation); each entry is an IC50 and a Hill
coefficient, or 'inert', with its source.

Washout is first order and never reaches zero, so a floor is stated: once a drug's
valve is closed, its concentration is below WASHED_OUT_FRACTION of the last dose and
its effect below NO_EFFECT_FRACTION, it is *washed out*: the perfusion forgets it
(and counts as settled again). An irreversible drug (pronase, chloramine-T) washes
out the same way, but the channels it modified stay modified: the largest effect it
reached is kept.

Effects are pure functions of concentrations; the engine turns them into kernel
arrays between chunks, and nothing else writes conductances.
Concentrations are in mol/L (M) in the API; the command line and files take nM, uM, mM.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rig import resources, units
from rig.errors import VrigError
from rig.model import shipped

SIDES = ("outside", "inside")
EFFECTS = ("block", "remove_inactivation")
DEFAULT_PREPARATION = "default"
PREPARATION_PATTERN = r"[a-z0-9][a-z0-9-]{0,39}"
MAX_CONCENTRATION_M = 1.0
# a concentration unit -> M (mol/L) per unit
CONCENTRATION_UNITS = {"M": 1.0, "mM": units.M_PER_MM, "uM": units.M_PER_UM, "µM": units.M_PER_UM,
                       "nM": units.M_PER_NM, "pM": units.M_PER_PM}
SETTLED_FRACTION = 1e-6  # a concentration this close (relative) to its target has arrived
WASHED_OUT_FRACTION = 1e-3  # below 0.1 % of the last dose ...
NO_EFFECT_FRACTION = 1e-3  # ... acting on fewer than 0.1 % of its targets: washed out

# A perfusion's key: (drug name, side).
Key = tuple[str, str]


@dataclass(frozen=True)
class Site:
    """Potency from one side in one preparation: IC50 (M) and Hill coefficient, with
    its source. An inert site (no effect at any concentration) has ic50_m = inf."""

    ic50_m: float
    hill: float
    source: str = ""

    @property
    def inert(self) -> bool:
        """True when the drug does nothing from here."""
        return math.isinf(self.ic50_m)

    def fraction(self, concentration_m: float) -> float:
        """Hill fraction of targets acted on at a concentration (M)."""
        if self.inert or concentration_m <= 0:
            return 0.0
        return 1.0 / (1.0 + (self.ic50_m / concentration_m) ** self.hill)


@dataclass(frozen=True)
class Drug:
    """A drug preset: what it does ('block' or 'remove_inactivation') to which channel
    label, its potency {side: {preparation: Site}} (each side has a 'default'), its
    perfusion time constants (s), and whether its effect outlasts its washout."""

    name: str
    effect: str
    target: str
    potency: dict[str, dict[str, Site]]
    wash_in_tau_s: float
    wash_out_tau_s: float
    irreversible: bool = False
    description: str = ""
    source: str = ""
    # A drug that stays bound to one channel for seconds (TTX) blocks it whole: its
    # leaving rate (1/s) sets the blocked dwells of a single-channel record. None: it
    # binds and leaves within microseconds (TEA), so an open channel's filtered current
    # is smaller, never absent (rig.simulation.stochastic).
    unbinding_rate_per_s: float | None = None

    def site(self, side: str, preparation: str | None = None) -> Site:
        """The Site in force from a side for a preparation (its own entry, else the
        side's default)."""
        table = self.potency.get(side, {})
        return table.get(preparation or DEFAULT_PREPARATION) or table[DEFAULT_PREPARATION]

    def acts_from(self, side: str, preparation: str | None = None) -> bool:
        """True if the drug does anything from this side in this preparation."""
        return side in self.potency and not self.site(side, preparation).inert

    def fraction(self, concentration_m: float, side: str,
                 preparation: str | None = None) -> float:
        """Fraction of targets affected at a concentration (M) on a side (0 if inert)."""
        if side not in self.potency:
            return 0.0
        return self.site(side, preparation).fraction(concentration_m)

    def describe_site(self, side: str, preparation: str | None = None) -> str:
        """One line for a tooltip: the potency in force and where it comes from."""
        site = self.site(side, preparation)
        which = preparation if preparation in self.potency[side] else "default"
        what = ("no effect" if site.inert else
                f"IC50 {_format_m(site.ic50_m)}, Hill {site.hill:g}")
        return f"{side}, {which}: {what} -- {site.source}"


def _format_m(value_m: float) -> str:
    for unit in ("M", "mM", "uM", "nM", "pM"):
        scaled = value_m / CONCENTRATION_UNITS[unit]
        if scaled >= 1 or unit == "pM":
            return f"{scaled:.3g} {unit}"
    return f"{value_m:g} M"


def _site_from_dict(data: Any, what: str) -> Site:
    if not isinstance(data, dict):
        raise VrigError(f"{what} must be an object with ic50_M, hill and source, "
                        "or inert and source")
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise VrigError(f"{what} needs a 'source' saying where its number comes from")
    if data.get("inert") is True:
        return Site(math.inf, 1.0, source)
    return Site(resources.number(data, "ic50_M", what, 1e-15, 10),
                resources.number(data, "hill", what, 0.1, 10), source)


def drug_from_dict(data: Any, name: str) -> Drug:
    """Build a Drug from its preset JSON (version 2), validating each field."""
    what = f"drug {name!r}"
    if not isinstance(data, dict):
        raise VrigError(f"{what} must be a JSON object")
    if data.get("effect") not in EFFECTS:
        raise VrigError(f"{what}: effect must be one of {', '.join(EFFECTS)}")
    sides = data.get("sides")
    if not isinstance(sides, dict) or set(sides) != set(SIDES):
        raise VrigError(f"{what}: sides must give both 'outside' and 'inside' (an "
                        "inert side says so, with its source)")
    potency: dict[str, dict[str, Site]] = {}
    for side, table in sides.items():
        if not isinstance(table, dict) or DEFAULT_PREPARATION not in table:
            raise VrigError(f"{what} {side}: give a 'default' entry and any "
                            "preparation-specific ones")
        for preparation in table:
            if not isinstance(preparation, str) or not re.fullmatch(PREPARATION_PATTERN,
                                                                    preparation):
                raise VrigError(f"{what} {side}: preparation names are lower-case words "
                                f"with dashes, got {preparation!r:.40}")
        potency[side] = {prep: _site_from_dict(entry, f"{what} {side} {prep}")
                         for prep, entry in table.items()}
    for key in ("name", "target", "description", "source"):
        if not isinstance(data.get(key, ""), str):
            raise VrigError(f"{what}: {key} must be text")
    if not isinstance(data.get("irreversible", False), bool):
        raise VrigError(f"{what}: irreversible must be true or false")
    unbinding = None
    if "unbinding_rate_per_s" in data:
        unbinding = resources.number(data, "unbinding_rate_per_s", what, 1e-9, 1e6)
        if not isinstance(data.get("unbinding_source"), str) or not data["unbinding_source"]:
            raise VrigError(f"{what}: unbinding_rate_per_s needs its unbinding_source")
    return Drug(data.get("name") or name, data["effect"], data.get("target", ""), potency,
                resources.number(data, "wash_in_tau_s", what, 1e-3, 1e6),
                resources.number(data, "wash_out_tau_s", what, 1e-3, 1e6),
                data.get("irreversible", False), data.get("description", ""),
                data.get("source", ""), unbinding)


def scan_drugs() -> tuple[dict[str, Drug], list[tuple[str, str]]]:
    """({file name: Drug}, [(path, problem)]) for every shipped drug: a broken preset
    is reported, never raised, so the others stay usable."""
    return shipped.scan("drugs", drug_from_dict)


def drug_names() -> list[str]:
    """Display names of the shipped drugs that load (broken ones are left out; see
    scan_drugs for why)."""
    return [drug.name for drug in scan_drugs()[0].values()]


def load_drug(name: str) -> Drug:
    """A shipped drug by file or display name, ignoring case ('TTX', 'ttx')."""
    key = str(name).lower()
    files = {n.lower(): n for n in resources.preset_names("drugs")}
    if key in files:
        return drug_from_dict(resources.load_preset("drugs", files[key]), files[key])
    drugs = scan_drugs()[0]
    match = next((d for d in drugs.values() if d.name.lower() == key), None)
    if match is None:
        raise VrigError(f"unknown drug {name!r:.60}; available: "
                        f"{', '.join(d.name for d in drugs.values())}")
    return match


def parse_concentration(text: str) -> float:
    """'300nM', '1 mM', '0.5uM' -> mol/L. Raises VrigError naming the allowed units."""
    match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([a-zA-Zµ]+)\s*", str(text))
    allowed = ", ".join(CONCENTRATION_UNITS)
    if not match or match.group(2) not in CONCENTRATION_UNITS:
        raise VrigError(f"concentration {text!r}: give a number and a unit ({allowed}), e.g. 300nM")
    try:
        value = float(match.group(1)) * CONCENTRATION_UNITS[match.group(2)]
    except ValueError:
        raise VrigError(f"concentration {text!r}: {match.group(1)!r} is not a number") from None
    return check_concentration_m(value)


def check_concentration_m(value: float) -> float:
    """A drug concentration (M) if it is finite and within 0 to 1 M."""
    if not (math.isfinite(value) and 0 <= value <= MAX_CONCENTRATION_M):
        raise VrigError(f"drug concentration {value:g} M is not allowed; use 0 to 1 M "
                        "(e.g. 300 nM TTX, 10 mM TEA)")
    return value


def format_concentration(value_m: float) -> str:
    """A concentration (M) as compact text that parse_concentration reads back:
    '300nM', '1.5mM' (3 significant digits)."""
    if value_m <= 0:
        return "0M"
    for unit in ("M", "mM", "uM", "nM", "pM"):
        if value_m >= CONCENTRATION_UNITS[unit] or unit == "pM":
            return f"{value_m / CONCENTRATION_UNITS[unit]:.3g}{unit}"
    return f"{value_m:.3g}M"


def parse_drug_option(text: str) -> tuple[Drug, str, float]:
    """'TTX=300nM' or 'in:TEA=1mM' -> (Drug, side, M) for the --drug option."""
    side = "outside"
    if text.startswith(("in:", "out:")):
        prefix, _, text = text.partition(":")
        side = "inside" if prefix == "in" else "outside"
    name, eq, conc = text.partition("=")
    if not eq:
        raise VrigError(f"--drug {text!r}: expected NAME=CONC, e.g. TTX=300nM or in:TEA=1mM")
    return load_drug(name.strip()), side, parse_concentration(conc)


@dataclass(frozen=True)
class Effects:
    """What the drugs present do: conductance factors and inactivation removed, by
    channel label ({'Na': 0.1} means 90 % of Na conductance blocked)."""

    conductance_scale: dict[str, float] = field(default_factory=dict)
    inactivation_removed: dict[str, float] = field(default_factory=dict)
    # the part of conductance_scale left by blockers that block channels whole
    # (Drug.unbinding_rate_per_s given): what a channel counted one by one sees as
    # blocked dwells; the rest of the block makes its unitary current smaller
    whole_channel_scale: dict[str, float] = field(default_factory=dict)


def combine_effects(fractions: Iterable[tuple[Drug, float]]) -> Effects:
    """Effects of an iterable of (Drug, fraction of its targets acted on). Independent
    sites: the fractions left unaffected multiply."""
    scale: dict[str, float] = {}
    whole: dict[str, float] = {}
    kept_inactivation: dict[str, float] = {}
    for drug, f in fractions:
        if drug.effect == "block":
            scale[drug.target] = scale.get(drug.target, 1.0) * (1.0 - f)
            if drug.unbinding_rate_per_s is not None:
                whole[drug.target] = whole.get(drug.target, 1.0) * (1.0 - f)
        else:
            kept_inactivation[drug.target] = kept_inactivation.get(drug.target, 1.0) * (1.0 - f)
    return Effects(scale, {label: 1.0 - kept for label, kept in kept_inactivation.items()},
                   whole)


def drug_effects(concentrations: Iterable[tuple[Drug, str, float]],
                 preparation: str | None = None) -> Effects:
    """Effects of an iterable of (Drug, side, concentration in M) in a preparation."""
    return combine_effects((drug, drug.fraction(conc, side, preparation))
                           for drug, side, conc in concentrations)


class Perfusion:
    """Drug concentrations at the membrane and where each is heading (M), keyed by
    (drug name, side), for one preparation (see Drug.site).

    apply() sets a target (at once with steady_state=True, as a pre-incubated slice);
    advance(dt) moves every concentration toward its target with the drug's time
    constant, exactly for a first-order process, and forgets what has washed out.
    ``doses`` keeps each key's last non-zero target, ``held`` the largest effect an
    irreversible drug has had (it outlives the drug).
    """

    def __init__(self, preparation: str | None = None) -> None:
        self.preparation = preparation
        self.drugs: dict[str, Drug] = {}
        self.targets: dict[Key, float] = {}
        self.present: dict[Key, float] = {}
        self.doses: dict[Key, float] = {}
        self.held: dict[Key, float] = {}

    def apply(self, drug: Drug, concentration_m: float, side: str = "outside",
              steady_state: bool = False) -> None:
        """Start perfusing a Drug at a concentration (M) on a side."""
        if side not in SIDES:
            raise VrigError(f"side must be 'outside' or 'inside', got {side!r}")
        key = (drug.name, side)
        target = check_concentration_m(float(concentration_m))
        self.drugs[drug.name] = drug
        self.targets[key] = target
        if target > 0:
            self.doses[key] = target
        self.present.setdefault(key, 0.0)
        if steady_state:
            self.present[key] = target
        self._hold_irreversible()
        self._forget_washed_out()

    def wash(self, name: str | None = None) -> None:
        """Wash a drug (all drugs when None) out: its targets become 0."""
        for key in self.targets:
            if name is None or key[0] == name:
                self.targets[key] = 0.0

    @property
    def settled(self) -> bool:
        """True when every concentration has reached its target, to a millionth of the
        larger of the two or of the drug's IC50 (below that it no longer matters)."""
        return all(abs(self.present[k] - t) <= SETTLED_FRACTION * max(
                       t, self.present[k], self._smallest_ic50(k[0]))
                   for k, t in self.targets.items())

    def _smallest_ic50(self, name: str) -> float:
        return min(site.ic50_m for table in self.drugs[name].potency.values()
                   for site in table.values())

    def advance(self, dt_s: float) -> None:
        """Move concentrations toward their targets over dt_s seconds."""
        for key, target in self.targets.items():
            drug = self.drugs[key[0]]
            now = self.present[key]
            tau = drug.wash_in_tau_s if target > now else drug.wash_out_tau_s
            self.present[key] = target + (now - target) * math.exp(-dt_s / tau)
        self._hold_irreversible()
        self._forget_washed_out()

    def fraction(self, key: Key) -> float:
        """Fraction of its targets the drug of a (name, side) key acts on now,
        including a held irreversible effect."""
        name, side = key
        now = self.drugs[name].fraction(self.present.get(key, 0.0), side, self.preparation)
        return max(now, self.held.get(key, 0.0))

    def _hold_irreversible(self) -> None:
        for key in self.present:
            if self.drugs[key[0]].irreversible:
                self.held[key] = self.fraction(key)

    def _forget_washed_out(self) -> None:
        gone = [key for key, target in self.targets.items()
                if target == 0 and self.present[key] <= WASHED_OUT_FRACTION * self.doses.get(key, 0)
                and self.drugs[key[0]].fraction(self.present[key], key[1],
                                                self.preparation) < NO_EFFECT_FRACTION]
        for key in gone:
            del self.targets[key], self.present[key]
            self.doses.pop(key, None)

    def effects(self) -> Effects:
        """Effects of the present concentrations and of held irreversible effects."""
        keys = set(self.present) | set(self.held)
        return combine_effects((self.drugs[key[0]], self.fraction(key)) for key in sorted(keys))

    def snapshot(self) -> tuple[dict[Key, float], dict[Key, float], dict[Key, float],
                              dict[Key, float]]:
        """Copies of the concentration tables, for restore()."""
        return (dict(self.targets), dict(self.present), dict(self.doses), dict(self.held))

    def restore(self, saved: tuple[dict[Key, float], dict[Key, float], dict[Key, float],
                                    dict[Key, float]]) -> None:
        """Put back what snapshot() returned."""
        self.targets, self.present, self.doses, self.held = (dict(t) for t in saved)

    def summary(self) -> str:
        """'TTX=300nM(outside) ...' for recording metadata, each concentration in a form
        --drug reads back; '' with no drugs. Washed-out drugs are not listed."""
        present = dict(self.present)  # a copy: other threads read it
        return " ".join(f"{name}={format_concentration(c)}({side})"
                        for (name, side), c in present.items())

    def held_summary(self) -> str:
        """'pronase(inside): 98% of Na inactivation removed' for each irreversible
        effect that outlived its drug; '' when there is none."""
        present, held = dict(self.present), dict(self.held)
        return "; ".join(
            f"{name}({side}): {100 * f:.0f}% of {self.drugs[name].target} "
            + ("blocked" if self.drugs[name].effect == "block" else "inactivation removed")
            for (name, side), f in held.items() if (name, side) not in present and f > 0)
