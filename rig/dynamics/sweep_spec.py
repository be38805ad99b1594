"""What a parameter sweep varies and measures, as plain data.

A sweep runs one protocol at every point of a grid: the product of the ranges given as
``NAME=START:STOP:N`` (N evenly spaced values from START to STOP, both included; N = 1
gives START alone). The parameter names, each in the unit shown:

===========================  ==========================================================
``temperature``              degC
``seed``                     the random seed (whole numbers)
``cell.cm``                  specific membrane capacitance, uF/cm^2
``cell.area``                membrane area, um^2 (point cells)
``channel.NAME``             density of the cell's channel preset NAME, mS/cm^2
                             (``channel.hh-na``)
``leak.ION``                 the leak's ION component (K, Na, Cl, Ca, nonselective), mS/cm^2
``bath.ION``, ``pipette.ION``  concentration of ION in that solution, mM (``bath.K``)
``drug.NAME``                concentration of drug NAME in the bath, uM, at steady
                             state (``drug.TTX``)
``protocol.holding``         the protocol's holding level (mV in VC, pA in CC)
``protocol.epochN.FIELD``    field FIELD of epoch N (from 1) as in the protocol file
                             (``protocol.epoch2.level``, ``protocol.epoch2.duration_ms``)
===========================  ==========================================================

The measures are one row per protocol sweep: ``spike_count`` (spikes in window 1),
``rate_hz`` (firing rate in window 3), ``first_spike_ms`` (stimulus onset to the first
spike's threshold), ``peak_current_pA`` (VC peak in window 1), ``reversal_mV`` (the
family's reversal potential, VC I-V or tails), and every column and result of
``vrig analyze`` by its own name (``half_width_ms``, ``E_rev``, ...); ``all`` gives them
all. A measure the protocol's analysis does not give is left empty.
"""

import math
import re
from dataclasses import dataclass

import numpy as np

from rig.analysis.report import COLUMN_HELP
from rig.errors import VrigError
from rig.resources import printable

MAX_POINTS = 100_000
MEASURE_ALIASES = {"spike_count": ("column", "spikes"), "rate_hz": ("column", "rate_Hz"),
                   "first_spike_ms": ("column", "latency_ms"),
                   "peak_current_pA": ("column", "peak_pA"), "reversal_mV": ("fact", "E_rev")}
# the family results `vrig analyze` prints (its '# name: value unit' lines)
ANALYSIS_FACTS = ("E_rev", "GV_Gmax", "GV_V_half", "GV_slope", "absolute_refractory",
                  "current_at_spike_fastest", "current_at_spike_slowest",
                  "fastest_silent_slope", "first_firing_sweep", "hinf_V_half", "hinf_slope",
                  "interval_step", "last_silent", "max_rate", "mean_rate",
                  "recovered_fraction", "recovery_criterion", "relative_refractory",
                  "slowest_firing_slope", "spikes_total", "sustained_firing_from",
                  "tau_last", "tau_recovery")
PARAMETER_PATTERNS = (r"temperature", r"seed", r"cell\.(cm|area)", r"channel\.[\w-]+",
                      r"leak\.\w+", r"(bath|pipette)\.\w+", r"drug\.[\w-]+",
                      r"protocol\.holding", r"protocol\.epoch[1-9]\d*\.\w+")
NAMING_HELP = ("temperature, seed, cell.cm, cell.area, channel.NAME, leak.ION, bath.ION, "
               "pipette.ION, drug.NAME, protocol.holding, protocol.epochN.FIELD")


@dataclass(frozen=True)
class Vary:
    """One varied parameter: its name and its values (in the name's unit)."""

    name: str
    values: tuple[float, ...]


def parse_vary(text: str) -> Vary:
    """A Vary from 'NAME=START:STOP:N', or a VrigError saying what is wrong."""
    name, eq, spec = text.partition("=")
    name = name.strip()
    shown = printable(text)
    if not eq or not name:
        raise VrigError(f"--vary {shown!r}: give NAME=START:STOP:N, e.g. temperature=6.3:20:3")
    if not any(re.fullmatch(p, name) for p in PARAMETER_PATTERNS):
        raise VrigError(f"--vary: unknown parameter {printable(name)!r}; the names are "
                        f"{NAMING_HELP} (see vrig sweep --help)")
    parts = spec.split(":")
    if len(parts) != 3:
        raise VrigError(f"--vary {shown!r}: give the range as START:STOP:N")
    try:
        start, stop = float(parts[0]), float(parts[1])
        count = int(parts[2])
    except ValueError:
        raise VrigError(f"--vary {shown!r}: START and STOP must be numbers and N a whole "
                        "number") from None
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise VrigError(f"--vary {shown!r}: START and STOP must be finite")
    if count <= 0:
        raise VrigError(f"--vary {shown!r}: N must be at least 1, got {count}")
    if stop < start:
        raise VrigError(f"--vary {shown!r}: the range is reversed (STOP {stop:g} < START "
                        f"{start:g}); give it from low to high")
    values = tuple(float(v) for v in np.linspace(start, stop, count)) if count > 1 else (start,)
    if name == "seed" and any(v != int(v) or v < 0 for v in values):
        raise VrigError(f"--vary {shown!r}: seeds are whole numbers from 0")
    return Vary(name, values)


def grid(varies: list[Vary]) -> list[dict[str, float]]:
    """Every point of the product of the ranges, the first name varying slowest; a
    VrigError for a name given twice or a grid too large."""
    names = [v.name for v in varies]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise VrigError(f"--vary {twice[0]} is given twice; give each parameter once")
    size = math.prod(len(v.values) for v in varies)
    if size > MAX_POINTS:
        raise VrigError(f"the sweep has {size} points; at most {MAX_POINTS} are allowed")
    points: list[dict[str, float]] = [{}]
    for vary in varies:
        points = [{**p, vary.name: value} for p in points for value in vary.values]
    return points


def parse_measures(texts: list[str]) -> tuple[str, ...]:
    """The measure names from --measure options (each may hold several, comma
    separated), or a VrigError naming an unknown one; none given means all."""
    names = [n.strip() for text in texts for n in text.split(",") if n.strip()]
    if not names or "all" in names:
        return ("all",)
    known = set(MEASURE_ALIASES) | set(COLUMN_HELP) | set(ANALYSIS_FACTS)
    for name in names:
        if name not in known:
            raise VrigError(f"--measure: unknown measure {printable(name)!r}; give "
                            f"{', '.join(MEASURE_ALIASES)}, all, or a column or result "
                            "of vrig analyze (see vrig sweep --help)")
    return tuple(dict.fromkeys(names))
