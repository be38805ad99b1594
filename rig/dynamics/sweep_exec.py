"""Running a sweep's tasks: cached by the hash of their inputs, on the local cores (a
process pool) or on a Dask distributed cluster, and written as one tidy table.

Every finished point is written to the cache directory at once (one JSON file per
task key, replaced atomically), so an interrupted sweep run again recomputes only the
points it had not finished. The table is built from the points in grid order whatever
order they finished in, so the same tasks give the same table wherever they ran.
"""

import csv
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from rig.dynamics.sweep_point import Row, Task, run_task, task_key
from rig.errors import VrigError
from rig.files.output_files import atomic_output
from rig.resources import printable

SCHEDULER_TIMEOUT_S = 5.0  # how long to try reaching a Dask scheduler before giving up
Progress = Callable[[int, int, int], object]  # (done, total, from cache)


def cached_rows(cache_dir: Path, key: str) -> list[Row] | None:
    """The rows stored for a task key, or None (a damaged file counts as missing)."""
    path = cache_dir / f"{key}.json"
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return rows if isinstance(rows, list) else None


def store_rows(cache_dir: Path, key: str, rows: list[Row]) -> None:
    """Write a task's rows to the cache, completely or not at all."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"{key}.json"
    temp = path.with_name(f".{key}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(rows), encoding="utf-8")
    os.replace(temp, path)


def _start_method() -> Any:
    """fork on Linux when this process runs no other Python thread: the workers start at
    once with everything imported, and no lock can be held by a thread that the child
    lacks. Otherwise spawn: a fresh interpreter per worker (seconds to import numba)."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return get_context("fork")
    return get_context("spawn")


def _local(tasks: dict[str, Task], workers: int) -> Iterator[tuple[str, list[Row]]]:
    if workers == 1:
        for key, task in tasks.items():
            yield key, run_task(task)
        return
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_start_method())
    try:
        futures = {pool.submit(run_task, task): key for key, task in tasks.items()}
        for future in as_completed(futures):
            try:
                rows = future.result()
            except BrokenProcessPool:
                raise VrigError("a worker process stopped abruptly (out of memory, or a "
                                "program that cannot start workers); the points finished "
                                "so far are cached: run again, or with --workers 1") from None
            yield futures[future], rows
    finally:
        # an interrupted sweep (Ctrl-C, an error) drops the points not yet started
        # instead of waiting for them; those finished are in the cache already
        pool.shutdown(wait=True, cancel_futures=True)


def _dask(tasks: dict[str, Task], address: str) -> Iterator[tuple[str, list[Row]]]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise VrigError("--scheduler needs Dask distributed: pip install 'vrig[cluster]'") from None
    try:
        client = Client(address, timeout=SCHEDULER_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise VrigError(f"cannot reach the Dask scheduler at {printable(address)} within "
                        f"{SCHEDULER_TIMEOUT_S:g} s ({printable(str(exc))[:120]}); check "
                        "the address and that the scheduler is running") from None
    with client:
        keys = list(tasks)
        futures = client.map(run_task, [tasks[k] for k in keys], key=[f"vrig-{k}" for k in keys],
                             pure=True)
        index = {f.key: k for f, k in zip(futures, keys)}
        for future in dask_completed(futures, loop=client.loop):
            yield index[future.key], future.result()


def run_tasks(tasks: list[Task], cache_dir: Path, workers: int = 0,
              scheduler: str | None = None, progress: Progress | None = None
              ) -> list[list[Row]]:
    """The rows of every task (in the order given), from the cache where present, the
    rest computed on `workers` local processes (0: every core) or on the Dask
    scheduler at `scheduler` (tcp://HOST:PORT), each stored as it finishes."""
    keys = [task_key(task) for task in tasks]
    results: dict[str, list[Row]] = {}
    for key in keys:
        rows = cached_rows(cache_dir, key)
        if rows is not None:
            results[key] = rows
    cached = len(results)
    todo = {key: task for key, task in zip(keys, tasks) if key not in results}
    total = len(set(keys))
    if progress is not None:
        progress(len(results), total, cached)
    if todo:
        workers = min(workers or os.cpu_count() or 1, len(todo))
        stream = _dask(todo, scheduler) if scheduler else _local(todo, workers)
        for key, rows in stream:
            store_rows(cache_dir, key, rows)
            results[key] = rows
            if progress is not None:
                progress(len(results), total, cached)
    return [results[key] for key in keys]


def table_columns(rows: list[Row]) -> list[str]:
    """Every column of the rows, in the order first seen."""
    return list(dict.fromkeys(name for row in rows for name in row))


def write_table(path: Path, rows: list[Row]) -> None:
    """Write the rows as a .csv or .parquet table (missing values empty / null)."""
    columns = table_columns(rows)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise VrigError("writing .parquet needs pyarrow (pip install pyarrow); or "
                            "write a .csv table") from None
        data = {c: [None if row.get(c, "") == "" else row[c] for row in rows] for c in columns}
        with atomic_output(path) as temp:
            pq.write_table(pa.table(data), temp)
        return
    with atomic_output(path) as temp, open(temp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(_csv_row(row) for row in rows)


def _csv_row(row: Row) -> dict[str, Any]:
    # repr of a float round-trips exactly: the same run gives the same bytes
    return {k: repr(v) if isinstance(v, float) else v for k, v in row.items()}
