"""A sweep of one or two parameters as a curve or a grid, for the window's sweep view:
the tasks of rig.dynamics.sweep_point from plain choices, and their rows folded back
into an array over the parameters' values (NaN where the measure is empty)."""

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rig.dynamics import sweep_exec
from rig.dynamics.sweep_point import Row, Task, build
from rig.dynamics.sweep_spec import Vary, grid
from rig.protocols.protocol import load_protocol


def make_tasks(protocol: str, cell: str, varies: list[Vary], measure: str,
               temperature_c: float | None = None, bath: str | None = None,
               pipette: str | None = None, first_sweep_only: bool = True,
               dt_us: float = 10.0, seed: int = 0) -> list[Task]:
    """One task per point of the grid of varies (first varies slowest), measuring
    `measure`; first_sweep_only runs each point on the protocol's first sweep alone
    (one row per point). The first and last points are built once here, so a bad
    name or value raises a VrigError before any work."""
    data = load_protocol(protocol).to_dict()
    if first_sweep_only:
        data["sweeps"] = 1
    base = {"protocol": data, "cell": cell, "bath": bath, "pipette": pipette,
            "temperature": temperature_c, "dt_us": float(dt_us), "seed": int(seed),
            "noise": False, "measures": [measure]}
    tasks = [{**base, "params": point} for point in grid(varies)]
    for task in {0: tasks[0], -1: tasks[-1]}.values():
        build(task)
    return tasks


def result_array(varies: list[Vary], results: list[list[Row]], measure: str,
                 sweep: int = 1) -> np.ndarray:
    """The measure at protocol sweep `sweep` (from 1) of each point, shaped
    (len(varies[0].values),) or (len(varies[0].values), len(varies[1].values));
    NaN where a point gave no value."""
    values = []
    for rows in results:
        row = next((r for r in rows if r.get("sweep") == sweep), None)
        value = None if row is None else row.get(measure, "")
        values.append(float(value) if isinstance(value, (int, float)) else np.nan)
    return np.array(values, float).reshape([len(v.values) for v in varies])


def run_sweep(tasks: list[Task], workers: int, progress: Callable[[int, int, int], Any],
              cache_dir: str | os.PathLike[str] | None = None) -> list[list[Row]]:
    """Run the tasks on `workers` local processes (0: every core), reporting
    progress(done, total, from cache) after each point; cached in cache_dir (default a
    fresh temporary folder, removed afterwards)."""
    if cache_dir is not None:
        return sweep_exec.run_tasks(tasks, Path(cache_dir), workers, None, progress)
    with tempfile.TemporaryDirectory(prefix="vrig-sweep-") as folder:
        return sweep_exec.run_tasks(tasks, Path(folder), workers, None, progress)
