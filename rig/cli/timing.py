"""Best-of timing for the benchmarks (wall and thread CPU time, s)."""

import time
from collections.abc import Callable


def best_of(function: Callable[[], object], repeats: int) -> float:
    """The shortest wall time (s) of ``repeats`` calls of function()."""
    return best_wall_and_cpu(function, repeats)[0]


def best_wall_and_cpu(function: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(shortest wall time, shortest CPU time of this thread), s, over repeats calls."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.thread_time()
        function()
        best_cpu = min(best_cpu, time.thread_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return best_wall, best_cpu
