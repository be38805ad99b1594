"""Voltage-gated channel kinetics as data.

A channel is a maximal conductance density, the ion it carries, and independent gates
x with dx/dt = phi (alpha(V) (1 - x) - beta(V) x), phi = q10 ** ((T - T_ref)/10).
Its open probability is the product of x ** power over its gates. Each rate has one of
four forms, with A in 1/ms (per mV for 'linoid'), V and Vh in mV, s in mV:

* ``constant``: A (voltage-independent; Vh and s are not used)

* ``exp``:     A exp(-(V - Vh)/s)
* ``sigmoid``: A / (1 + exp(-(V - Vh)/s))
* ``linoid``:  A (V - Vh) / (1 - exp(-(V - Vh)/s)), computed as A |s| x / (1 - e^-x)
  with x = (V - Vh)/s, so that it is positive for either sign of s and finite at V = Vh
  (the removable singularity of HH's alpha_m at -40 mV and alpha_n at -55 mV).

New channels need a JSON file, never new stepping code.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import exprel

from rig import resources
from rig.errors import VrigError
from rig.model import physics, shipped
from rig.model.ions import PERMEANT_IONS

RATE_FORMS = ("exp", "sigmoid", "linoid", "constant")
MAX_EXPONENT = 300.0  # |V - Vh| / s over the table range: exp() stays finite and non-zero
MIN_RATE_PER_MS = 1e-6  # a non-zero rate amplitude below this could underflow to 0

# Gate tables span this voltage range (mV) at this spacing; beyond it the kernel holds
# the edge value, where every shipped gate is saturated.
TABLE_V_MIN_MV = -250.0
TABLE_V_MAX_MV = 250.0
TABLE_STEP_MV = 0.025


@dataclass(frozen=True)
class Rate:
    """One transition rate: form, A (1/ms or 1/(ms mV)), Vh (mV), s (mV)."""

    form: str
    a_per_ms: float
    v_half_mv: float
    slope_mv: float

    def __call__(self, v_mv: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The rate (1/ms) at membrane potentials v_mv (mV), at the reference temperature."""
        v = np.asarray(v_mv, dtype=float)
        if self.form == "constant":
            return np.full(v.shape, self.a_per_ms)
        x = (v - self.v_half_mv) / self.slope_mv
        if self.form == "exp":
            return self.a_per_ms * np.exp(-x)
        if self.form == "sigmoid":
            return self.a_per_ms / (1.0 + np.exp(-x))
        # x / (1 - e^-x) == 1 / exprel(-x), finite at x = 0
        return self.a_per_ms * abs(self.slope_mv) / exprel(-x)


@dataclass(frozen=True)
class Gate:
    """A gating particle: its name (m, h, n, ...), exponent and two rates.

    inactivating: True for an inactivation gate (HH's h), which drugs such as pronase
    remove. charge_nc_per_cm2: gating charge (nC/cm^2 of membrane) that moves when this
    gate goes from 0 to 1 in every channel, i.e. the Q_max its movement carries.
    """

    name: str
    power: int
    alpha: Rate
    beta: Rate
    inactivating: bool = False
    charge_nc_per_cm2: float = 0.0

    def steady_state(self, v_mv: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """x_inf at v_mv (mV)."""
        a, b = self.alpha(v_mv), self.beta(v_mv)
        return a / (a + b)

    def time_constant_ms(self, v_mv: npt.ArrayLike, phi: float = 1.0) -> npt.NDArray[np.float64]:
        """tau_x (ms) at v_mv (mV) with the temperature factor phi."""
        return 1.0 / (phi * (self.alpha(v_mv) + self.beta(v_mv)))


@dataclass(frozen=True)
class Channel:
    """A channel type: label (used in signal names, e.g. 'Na' -> INa), ion, gates, Q10."""

    name: str
    label: str
    ion: str
    gates: tuple[Gate, ...]
    q10: float
    reference_temperature_c: float
    source: str = ""
    description: str = ""
    unitary_conductance_ps: float = 0.0  # one open channel (pS); 0 = not given
    unitary_conductance_source: str = ""

    def phi(self, temperature_c: float) -> float:
        """Rate multiplier at a temperature (degC)."""
        return physics.q10_factor(temperature_c, self.q10, self.reference_temperature_c)


def rate_from_dict(data: Any, what: str) -> Rate:
    """A Rate from its JSON object (form, rate_per_ms, v_half_mV, slope_mV), validated;
    what names it in messages."""
    if not isinstance(data, dict):
        raise VrigError(f"{what} must be an object with form, rate_per_ms, v_half_mV, slope_mV")
    form = data.get("form")
    if form not in RATE_FORMS:
        raise VrigError(f"{what}: form must be one of {', '.join(RATE_FORMS)}, got {form!r}")
    if form == "constant":
        return Rate(form, _amplitude(data, what), 0.0, 1.0)
    slope = resources.number(data, "slope_mV", what, -1000, 1000)
    v_half = resources.number(data, "v_half_mV", what, -500, 500)
    steepest = (max(abs(TABLE_V_MIN_MV), TABLE_V_MAX_MV) + abs(v_half)) / MAX_EXPONENT
    if abs(slope) < steepest:
        raise VrigError(f"{what}: slope_mV = {slope:g} is too steep; with v_half_mV = "
                        f"{v_half:g} it must be at least {steepest:.3g} mV in size")
    return Rate(form, _amplitude(data, what), v_half, slope)


def _amplitude(data: dict[str, Any], what: str) -> float:
    """A rate's amplitude rate_per_ms (1/ms): 0, or MIN_RATE_PER_MS to 1e6."""
    rate = resources.number(data, "rate_per_ms", what, 0, 1e6)
    if 0 < rate < MIN_RATE_PER_MS:
        raise VrigError(f"{what}: rate_per_ms must be 0 or at least {MIN_RATE_PER_MS:g} /ms")
    return rate


def channel_from_dict(data: Any, name: str) -> Channel:
    """Build a Channel from its preset JSON, validating each field."""
    what = f"channel {name!r}"
    if not isinstance(data, dict) or not isinstance(data.get("gates"), list):
        raise VrigError(f"{what} needs a list of gates")
    gates: list[Gate] = []
    for i, g in enumerate(data["gates"]):
        gwhat = f"{what} gate {i}"
        if not isinstance(g, dict) or not isinstance(g.get("name"), str):
            raise VrigError(f"{gwhat} needs a name")
        power = resources.number(g, "power", gwhat, 1, 8)
        if power != int(power):
            raise VrigError(f"{gwhat}: power must be a whole number, got {power}")
        alpha = rate_from_dict(g.get("alpha"), f"{gwhat} alpha")
        beta = rate_from_dict(g.get("beta"), f"{gwhat} beta")
        if alpha.a_per_ms == 0 and beta.a_per_ms == 0:
            raise VrigError(f"{gwhat}: alpha and beta cannot both be 0 (the gate would "
                            "have no steady state)")
        gates.append(Gate(g["name"], int(power), alpha, beta,
                          bool(g.get("inactivating", False)),
                          resources.number(g, "gating_charge_nC_per_cm2", gwhat, 0, 1000,
                                           default=0.0)))
    ion = data.get("ion")
    if ion not in PERMEANT_IONS:
        raise VrigError(f"{what}: ion must be one of {', '.join(PERMEANT_IONS)}, got {ion!r}")
    return Channel(name, str(data.get("label", ion)), ion, tuple(gates),
                   resources.number(data, "q10", what, 1, 10, default=physics.HH_Q10),
                   resources.number(data, "reference_temperature_C", what, 0, 45,
                                    default=physics.HH_REFERENCE_TEMPERATURE_C),
                   str(data.get("source", "")), str(data.get("description", "")),
                   resources.number(data, "unitary_conductance_pS", what, 0.01, 1000,
                                    default=0.0) if "unitary_conductance_pS" in data else 0.0,
                   str(data.get("unitary_conductance_source", "")))


def load_channel(name: str) -> Channel:
    """A shipped channel preset by name."""
    return channel_from_dict(resources.load_preset("channels", name), name)


def scan_channels() -> tuple[dict[str, Channel], list[tuple[str, str]]]:
    """({name: Channel}, [(path, problem)]) for every shipped channel."""
    return shipped.scan("channels", channel_from_dict)


def table_voltages_mv() -> npt.NDArray[np.float64]:
    """The voltage grid (mV) of the gate tables."""
    n = int(round((TABLE_V_MAX_MV - TABLE_V_MIN_MV) / TABLE_STEP_MV)) + 1
    return np.linspace(TABLE_V_MIN_MV, TABLE_V_MAX_MV, n)


def gate_tables(gates_with_phi: Sequence[tuple[Gate, float]], dt_ms: float
                ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Tables for the exact (Rush-Larsen) gate update at a fixed step.

    gates_with_phi: sequence of (Gate, phi). Returns (x_inf, decay), each of shape
    (n_gates, n_voltages), where one step is x <- x_inf + (x - x_inf) * decay and
    decay = exp(-dt phi (alpha + beta)). Exact for a constant voltage over the step.
    """
    v = table_voltages_mv()
    x_inf = np.empty((len(gates_with_phi), v.size))
    decay = np.empty_like(x_inf)
    for i, (gate, phi) in enumerate(gates_with_phi):
        a, b = gate.alpha(v), gate.beta(v)
        x_inf[i] = a / (a + b)
        decay[i] = np.exp(-dt_ms * phi * (a + b))
    return x_inf, decay
