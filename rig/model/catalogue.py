"""Every shipped preset of every kind, scanned: what the window reports at start and
``vrig list`` prints (each kind's scan is in its own module, built on
:func:`rig.model.shipped.scan`)."""

from collections.abc import Callable
from typing import Any

from rig.model.cell import scan_cells
from rig.model.channels import scan_channels
from rig.model.markov import scan_schemes
from rig.model.pharmacology import scan_drugs
from rig.model.solutions import scan_solutions


def scanners() -> dict[str, Callable[[], tuple[dict[str, Any], list[tuple[str, str]]]]]:
    """{kind: scan function} for the kinds the rig loads."""
    return {"cells": scan_cells, "channels": scan_channels, "drugs": scan_drugs,
            "solutions": scan_solutions, "schemes": scan_schemes}


def problems() -> list[tuple[str, str]]:
    """[(path, problem)] for every broken preset of every kind (cells that name a
    broken channel or solution included); [] when everything loads."""
    found: list[tuple[str, str]] = []
    for scan_kind in scanners().values():
        found += [p for p in scan_kind()[1] if p not in found]
    return found
