"""The sweep figures of ``vrig bench``: ``sweep_parallel_efficiency`` is the time of a
sweep on one local worker over twice its time on two (1.0: two workers halve it),
the same sweep in the same run, each from an empty cache; ``sweep_1_worker_s`` and
``sweep_2_workers_s`` are those times (s, process start-up included, as a user sees
it), after one point run as a warm-up. The sweep: hh-squid, 8 points, a current step
of 3 s (1 s in quick runs) at levels from 0 to 200 pA."""

import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from rig.dynamics.sweep_exec import run_tasks
from rig.dynamics.sweep_point import Task, run_task

POINTS = 8


def step_protocol(step_ms: float) -> dict[str, object]:
    """A one-sweep CC protocol: 20 ms at 0 pA, a step of step_ms (ms), 20 ms at 0 pA."""
    return {"format": "vrig-protocol", "version": 1, "name": "bench step", "mode": "CC",
            "holding": 0, "sample_rate_khz": 20, "sweeps": 1,
            "sweep_interval_ms": step_ms + 100,
            "epochs": [{"kind": "step", "duration_ms": 20, "level": 0},
                       {"kind": "step", "duration_ms": step_ms, "level": 0},
                       {"kind": "step", "duration_ms": 20, "level": 0}]}


def sweep_tasks(step_ms: float, points: int = POINTS) -> list[Task]:
    """The benchmark's tasks: the step's level from 0 to 200 pA in `points` points."""
    protocol = step_protocol(step_ms)
    return [{"protocol": protocol, "cell": "hh-squid", "bath": None, "pipette": None,
             "temperature": None, "dt_us": 10.0, "seed": 0, "measures": ["spike_count"],
             "params": {"protocol.epoch2.level": 200.0 * k / max(points - 1, 1)}}
            for k in range(points)]


def _timed(tasks: list[Task], workers: int) -> float:
    with tempfile.TemporaryDirectory(prefix="vrig-bench-sweep-") as folder:
        start = time.perf_counter()
        run_tasks(tasks, Path(folder), workers)
        return time.perf_counter() - start


def sweep_section(quick: bool, figures: Mapping[str, float]) -> Iterator[tuple[str, float, str]]:
    """Yield the sweep figures (see the module docstring)."""
    tasks = sweep_tasks(1000.0 if quick else 3000.0)
    run_task(tasks[-1])  # warm-up: the kernel loaded, the presets read
    one = _timed(tasks, 1)
    two = _timed(tasks, 2)
    yield "sweep_1_worker_s", one, "s"
    yield "sweep_2_workers_s", two, "s"
    yield "sweep_parallel_efficiency", one / (2 * two), ""
