"""Drugs as data: dose-response, the side they act from, and perfusion kinetics.

A drug reaches the cell with first-order kinetics (time constant wash_in_tau_s while
its concentration rises, wash_out_tau_s while it falls), so 63 % of a step change has
arrived after one time constant. At the cell, the fraction of targets it acts on
follows the Hill equation  f = 1 / (1 + (IC50 / C) ** n). Drugs at different sites
act independently: the unblocked fractions multiply.

Effects are pure functions of concentrations; the engine turns them into kernel
arrays between chunks, and nothing else writes conductances.
Concentrations are in mol/L (M) in the API; the command line and files take nM, uM, mM.
"""

import math
import re
from dataclasses import dataclass, field

from rig import resources
from rig.errors import VrigError

SIDES = ("outside", "inside")
EFFECTS = ("block", "remove_inactivation")
MAX_CONCENTRATION_M = 1.0
CONCENTRATION_UNITS = {"M": 1.0, "mM": 1e-3, "uM": 1e-6, "µM": 1e-6, "nM": 1e-9, "pM": 1e-12}
SETTLED_FRACTION = 1e-6  # a concentration this close (relative) to its target has arrived


@dataclass(frozen=True)
class Site:
    """Potency from one side of the membrane: IC50 (M) and Hill coefficient."""

    ic50_m: float
    hill: float


@dataclass(frozen=True)
class Drug:
    """A drug preset: what it does ('block' or 'remove_inactivation') to which channel
    label, its potency from each side, and its perfusion time constants (s)."""

    name: str
    effect: str
    target: str
    sites: dict
    wash_in_tau_s: float
    wash_out_tau_s: float
    description: str = ""
    source: str = ""

    def fraction(self, concentration_m, side):
        """Fraction of targets affected at a concentration (M) on a side (0 if inert there)."""
        site = self.sites.get(side)
        if site is None or concentration_m <= 0:
            return 0.0
        return 1.0 / (1.0 + (site.ic50_m / concentration_m) ** site.hill)


def drug_from_dict(data, name):
    """Build a Drug from its preset JSON, validating each field."""
    what = f"drug {name!r}"
    if not isinstance(data, dict):
        raise VrigError(f"{what} must be a JSON object")
    if data.get("effect") not in EFFECTS:
        raise VrigError(f"{what}: effect must be one of {', '.join(EFFECTS)}")
    sides = data.get("sides")
    if not isinstance(sides, dict) or not sides or not set(sides) <= set(SIDES):
        raise VrigError(f"{what}: sides must name 'outside' and/or 'inside'")
    sites = {side: Site(resources.number(s, "ic50_M", f"{what} {side}", 1e-15, 10),
                        resources.number(s, "hill", f"{what} {side}", 0.1, 10))
             for side, s in sides.items()}
    return Drug(str(data.get("name", name)), data["effect"], str(data.get("target", "")),
                sites, resources.number(data, "wash_in_tau_s", what, 1e-3, 1e10),
                resources.number(data, "wash_out_tau_s", what, 1e-3, 1e10),
                str(data.get("description", "")), str(data.get("source", "")))


def drug_names():
    """Display names of the shipped drugs."""
    return [load_drug(n).name for n in resources.preset_names("drugs")]


def load_drug(name):
    """A shipped drug by name, ignoring case ('TTX', 'ttx')."""
    files = {n.lower(): n for n in resources.preset_names("drugs")}
    key = str(name).lower()
    if key not in files:
        names = ", ".join(load_drug(n).name for n in files.values())
        raise VrigError(f"unknown drug {name!r}; available: {names}")
    return drug_from_dict(resources.load_preset("drugs", files[key]), files[key])


def parse_concentration(text):
    """'300nM', '1 mM', '0.5uM' -> mol/L. Raises VrigError naming the allowed units."""
    match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([a-zA-Zµ]+)\s*", str(text))
    units = ", ".join(CONCENTRATION_UNITS)
    if not match or match.group(2) not in CONCENTRATION_UNITS:
        raise VrigError(f"concentration {text!r}: give a number and a unit ({units}), e.g. 300nM")
    try:
        value = float(match.group(1)) * CONCENTRATION_UNITS[match.group(2)]
    except ValueError:
        raise VrigError(f"concentration {text!r}: {match.group(1)!r} is not a number") from None
    return check_concentration_m(value)


def check_concentration_m(value):
    """A drug concentration (M) if it is finite and within 0 to 1 M."""
    if not (math.isfinite(value) and 0 <= value <= MAX_CONCENTRATION_M):
        raise VrigError(f"drug concentration {value:g} M is not allowed; use 0 to 1 M "
                        "(e.g. 300 nM TTX, 10 mM TEA)")
    return value


def parse_drug_option(text):
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

    conductance_scale: dict = field(default_factory=dict)
    inactivation_removed: dict = field(default_factory=dict)


def drug_effects(concentrations):
    """Effects of an iterable of (Drug, side, concentration in M). Pure function."""
    scale, kept_inactivation = {}, {}
    for drug, side, conc in concentrations:
        f = drug.fraction(conc, side)
        if drug.effect == "block":
            scale[drug.target] = scale.get(drug.target, 1.0) * (1.0 - f)
        else:
            kept_inactivation[drug.target] = kept_inactivation.get(drug.target, 1.0) * (1.0 - f)
    return Effects(scale, {label: 1.0 - kept for label, kept in kept_inactivation.items()})


class Perfusion:
    """Drug concentrations at the membrane and where each is heading (M), keyed by
    (drug name, side).

    apply() sets a target (at once with steady_state=True, as a pre-incubated slice);
    advance(dt) moves every concentration toward its target with the drug's time
    constant, exactly for a first-order process.
    """

    def __init__(self):
        self.drugs = {}
        self.targets = {}
        self.present = {}

    def apply(self, drug, concentration_m, side="outside", steady_state=False):
        """Start perfusing a Drug at a concentration (M) on a side."""
        if side not in SIDES:
            raise VrigError(f"side must be 'outside' or 'inside', got {side!r}")
        key = (drug.name, side)
        self.drugs[drug.name] = drug
        self.targets[key] = check_concentration_m(float(concentration_m))
        self.present.setdefault(key, 0.0)
        if steady_state:
            self.present[key] = self.targets[key]

    def wash(self, name=None):
        """Wash a drug (all drugs when None) out: its targets become 0."""
        for key in self.targets:
            if name is None or key[0] == name:
                self.targets[key] = 0.0

    @property
    def settled(self):
        """True when every concentration has reached its target, to a millionth of the
        larger of the two or of the drug's IC50 (below that it no longer matters)."""
        return all(abs(self.present[k] - t) <= SETTLED_FRACTION * max(
                       t, self.present[k], min(s.ic50_m for s in self.drugs[k[0]].sites.values()))
                   for k, t in self.targets.items())

    def advance(self, dt_s):
        """Move concentrations toward their targets over dt_s seconds."""
        for key, target in self.targets.items():
            drug = self.drugs[key[0]]
            now = self.present[key]
            tau = drug.wash_in_tau_s if target > now else drug.wash_out_tau_s
            self.present[key] = target + (now - target) * math.exp(-dt_s / tau)

    def effects(self):
        """Effects of the present concentrations."""
        return drug_effects((self.drugs[name], side, c)
                            for (name, side), c in self.present.items())

    def summary(self):
        """'TTX=3e-07M(outside) ...' for recording metadata; '' with no drugs."""
        present, targets = dict(self.present), dict(self.targets)  # copies: other threads read
        return " ".join(f"{name}={c:.3g}M({side})" for (name, side), c in present.items()
                        if c > 0 or targets.get((name, side), 0) > 0)
