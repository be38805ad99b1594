"""One point of a parameter sweep: a plain-data task in, plain-data rows out, so that
it runs the same in this process, in a process pool or on a Dask worker.

A task is a dict of JSON values: the protocol (its JSON form), the cell preset, the
bath and pipette presets (None: the cell's own), the temperature (None: the cell's),
the time step (us), the seed, the point's parameters (see rig.dynamics.sweep_spec) and
the measures. Its key is the SHA-256 of its canonical JSON with the vrig version, so a
cached result is reused only for exactly the same inputs.
"""

import hashlib
import json
import math
from dataclasses import replace
from typing import Any

from rig import units
from rig.analysis.report import analyze
from rig.analysis.sweep_family import SweepFamily
from rig.dynamics.sweep_spec import ANALYSIS_FACTS, MEASURE_ALIASES
from rig.errors import VrigError
from rig.model.cell import NONSELECTIVE, SPECIFIC_CAPACITANCE_RANGE, Cell, load_cell
from rig.model.channels import load_channel
from rig.model.ions import PERMEANT_IONS
from rig.model.solutions import Solution, load_solution
from rig.protocols.protocol import protocol_from_dict
from rig.version import __version__

# the bounds a cell preset's fields are checked against (rig.model.cell.cell_from_dict)
AREA_RANGE_UM2 = (1.0, 1e8)
MAX_CHANNEL_MS_PER_CM2 = 10000.0
MAX_LEAK_MS_PER_CM2 = 1000.0
Task = dict[str, Any]
Row = dict[str, Any]


def task_key(task: Task) -> str:
    """The SHA-256 (hex) of the task's canonical JSON and the vrig version."""
    text = json.dumps({"task": task, "vrig": __version__}, sort_keys=True,
                      separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _within(name: str, value: float, low: float, high: float, unit: str) -> float:
    if not low <= value <= high:
        raise VrigError(f"--vary {name}: {value:g} {unit} is outside the allowed "
                        f"{low:g} to {high:g} {unit}")
    return value


def _cell_with(cell: Cell, name: str, value: float) -> Cell:
    """cell with one cell, channel or leak parameter set, checked as a preset's is."""
    kind, _, item = name.partition(".")
    if name == "cell.cm":
        low, high = SPECIFIC_CAPACITANCE_RANGE
        return replace(cell, specific_capacitance_uf_per_cm2=_within(name, value, low, high,
                                                                     "uF/cm2"))
    if name == "cell.area":
        if cell.geometry is not None:
            raise VrigError("cell.area applies to point cells; a fibre's area follows from "
                            "its length and diameter")
        return replace(cell, area_um2=_within(name, value, *AREA_RANGE_UM2, "um2"))
    if kind == "channel":
        target = load_channel(item)
        names = [c.label for c, _ in cell.channels]
        if target not in [c for c, _ in cell.channels]:
            raise VrigError(f"cell {cell.name!r} has no channel {item!r} (its channels: "
                            f"{', '.join(names)})")
        _within(name, value, 0.0, MAX_CHANNEL_MS_PER_CM2, "mS/cm2")
        return replace(cell, channels=tuple((c, value if c == target else g)
                                            for c, g in cell.channels))
    if item not in PERMEANT_IONS + (NONSELECTIVE,):
        raise VrigError(f"--vary {name}: a leak component is one of "
                        f"{', '.join(PERMEANT_IONS + (NONSELECTIVE,))}")
    _within(name, value, 0.0, MAX_LEAK_MS_PER_CM2, "mS/cm2")
    return replace(cell, leak_ms_per_cm2={**cell.leak_ms_per_cm2, item: value})


def _protocol_with(data: dict[str, Any], name: str, value: float) -> dict[str, Any]:
    data = json.loads(json.dumps(data))
    parts = name.split(".")
    if parts[1] == "holding":
        data["holding"] = value
        return data
    index = int(parts[1][len("epoch"):]) - 1
    if index >= len(data["epochs"]):
        raise VrigError(f"{name}: the protocol has {len(data['epochs'])} epochs")
    data["epochs"][index][parts[2]] = value
    return data


def build(task: Task) -> Any:
    """(Rig, Protocol) of a task, with its point's parameters in force."""
    from rig.simulation.engine import Rig

    cell = load_cell(task["cell"])
    bath: Solution = load_solution(task["bath"] or cell.bath)
    pipette: Solution = load_solution(task["pipette"] or cell.pipette)
    temperature, seed, protocol_data = task["temperature"], task["seed"], task["protocol"]
    drugs = []
    for name, value in task["params"].items():
        kind, _, item = name.partition(".")
        if name == "temperature":
            temperature = value
        elif name == "seed":
            seed = int(value)
        elif kind in ("cell", "channel", "leak"):
            cell = _cell_with(cell, name, value)
        elif kind == "bath":
            bath = bath.with_ion(item, value)
        elif kind == "pipette":
            pipette = pipette.with_ion(item, value)
        elif kind == "drug":
            drugs.append((item, value))
        else:
            protocol_data = _protocol_with(protocol_data, name, value)
    rig = Rig(cell, bath, pipette, temperature, dt=units.us_to_s(task["dt_us"]), seed=seed)
    if task.get("noise"):
        rig.set_amplifier(noise=True)  # the recording noise, drawn from the point's seed
    for drug, micromolar in drugs:
        rig.apply_drug(drug, micromolar * 1e-6, "outside", steady_state=True)
    return rig, protocol_from_dict(protocol_data)


def _number(value: Any) -> Any:
    """A measure as a table value: a finite float, '' for none, text as it is."""
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else ""
    return "" if value is None else str(value)


def run_task(task: Task) -> list[Row]:
    """Run a task; one row per protocol sweep: the point's parameters, the sweep (from
    1), the measures, then the run's metadata (keys prefixed 'meta_')."""
    rig, protocol = build(task)
    recording = rig.run(protocol)
    result = analyze(SweepFamily.from_recording(recording))
    metadata = {f"meta_{k}": str(v) for k, v in rig.metadata(protocol).items()}
    facts = {f.name: f.value for f in result.facts}
    rows = []
    for sweep, measured in enumerate(result.rows):
        values: dict[str, Any] = {}
        for name in task["measures"]:
            if name == "all":
                values.update({k: _number(v) for k, v in measured.items() if k != "sweep"})
                values.update({k: _number(facts.get(k)) for k in facts})
                continue
            where, source = MEASURE_ALIASES.get(
                name, ("fact" if name in ANALYSIS_FACTS else "column", name))
            values[name] = _number(facts.get(source) if where == "fact"
                                   else measured.get(source))
        rows.append({**task["params"], "sweep": sweep + 1, **values, **metadata})
    return rows
