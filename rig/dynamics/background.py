"""compute_diagram in a child process, relayed to the caller's callbacks.

Collocation (scipy's solve_bvp) holds Python's GIL for up to half a second at a time;
on a thread of the window's process that stalls the display. In a child process it
cannot, and Cancel ends it at once (the process is terminated). The child is
started with 'spawn' (a fresh interpreter, about a second to import numpy and scipy):
fork is unsafe in a process that runs other threads (the window, the engine).
"""

import queue
from collections.abc import Callable
from multiprocessing import get_context
from typing import Any

from rig.dynamics.diagram import Cancelled, Diagram, Progress, compute_diagram
from rig.dynamics.system import PointSystem
from rig.errors import VrigError

POLL_S = 0.05  # how often the parent looks for a cancel while the child is quiet
JOIN_S = 5.0


def _child(system: PointSystem, out: Any) -> None:
    """The child's work: every progress, the equilibria, then the diagram or the
    error, as messages on out."""
    try:
        diagram = compute_diagram(
            system, lambda f, text: out.put(("progress", f, text)),
            on_equilibria=lambda d: out.put(("partial", d)))
    except VrigError as exc:
        out.put(("error", str(exc)))
    except Exception as exc:  # a numerical failure becomes a message, not a traceback
        out.put(("error", f"the computation failed ({type(exc).__name__}: {exc})"))
    else:
        out.put(("done", diagram))


def diagram_in_process(system: PointSystem, progress: Progress,
                       partial: Callable[[Diagram], object],
                       cancelled: Callable[[], bool]) -> Diagram:
    """compute_diagram(system) in a child process: progress(fraction, text) and
    partial(equilibria diagram) are called here as the child reports; cancelled() is
    polled every POLL_S (True: the child is terminated and Cancelled raised)."""
    context = get_context("spawn")
    messages = context.Queue()
    child = context.Process(target=_child, args=(system, messages), daemon=True,
                            name="vrig-diagram")
    child.start()
    try:
        while True:
            if cancelled():
                raise Cancelled
            try:
                message = messages.get(timeout=POLL_S)
            except queue.Empty:
                if not child.is_alive() and messages.empty():
                    raise VrigError("the diagram's process stopped abruptly (out of "
                                    "memory?); try again") from None
                continue
            kind = message[0]
            if kind == "progress":
                progress(message[1], message[2])
            elif kind == "partial":
                partial(message[1])
            elif kind == "error":
                raise VrigError(message[1])
            else:
                diagram: Diagram = message[1]
                return diagram
    finally:
        if child.is_alive():
            child.terminate()
        child.join(JOIN_S)
        messages.close()
