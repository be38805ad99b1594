"""The core is Qt-free: importing and running rig loads no PySide6, shiboken6,
pyqtgraph or ui, and no file under rig/ imports them."""

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "PySide2", "ui")

SCRIPT = textwrap.dedent("""
    import json, sys
    import rig, rig.simulation.engine, rig.acquisition.runner, rig.cli.main
    import rig.protocols.protocol, rig.files.recording
    from rig.simulation.engine import Rig
    from rig.protocols.protocol import protocol_from_dict, render

    protocol = protocol_from_dict({
        "format": "vrig-protocol", "version": 1, "name": "tiny", "mode": "VC",
        "holding": -65, "sample_rate_khz": 20, "sweeps": 2,
        "epochs": [{"kind": "step", "duration_ms": 1, "level": -65},
                   {"kind": "step", "duration_ms": 1, "level": 0, "level_delta": 10}]})
    render(protocol)
    recording = Rig.from_presets(cell="hh-squid").run(protocol)
    assert recording.n_sweeps == 2
    status = rig.cli.main.main(["list", "protocols"])
    assert status == 0
    FORBIDDEN = %r
    loaded = sorted(m for m in sys.modules
                    if m.split(".")[0] in FORBIDDEN)
    print("LOADED=" + json.dumps(loaded))
""") % (FORBIDDEN,)


def _loaded_modules(script):
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    line = [text for text in result.stdout.splitlines() if text.startswith("LOADED=")][-1]
    return json.loads(line[len("LOADED="):])


def test_importing_and_running_rig_loads_no_qt():
    assert _loaded_modules(SCRIPT) == []


IMPORT = re.compile(
    r"^\s*(?:from\s+(?P<from>[\w.]+)\s+import\b|import\s+(?P<names>[\w.]+(?:\s*(?:as\s+\w+)?"
    r"\s*,\s*[\w.]+)*))")
DYNAMIC = re.compile(r"""(?:import_module|__import__)\(\s*["'](?P<name>[\w.]+)["']""")


def _imported_roots(line):
    roots = []
    match = IMPORT.match(line)
    if match:
        if match.group("from"):
            roots.append(match.group("from").split(".")[0])
        else:
            for part in match.group("names").split(","):
                roots.append(part.split()[0].split(".")[0])
    roots += [m.group("name").split(".")[0] for m in DYNAMIC.finditer(line)]
    return roots


def test_the_import_pattern_catches_what_it_should():
    assert _imported_roots("from PySide6.QtCore import Signal") == ["PySide6"]
    assert _imported_roots("    import pyqtgraph as pg") == ["pyqtgraph"]
    assert _imported_roots("import numpy, ui.app") == ["numpy", "ui"]
    assert _imported_roots("from ui import app") == ["ui"]
    assert _imported_roots("qt = importlib.import_module('PySide6.QtCore')") == ["PySide6"]
    assert _imported_roots("from rig.units import mv_to_v") == ["rig"]
    assert _imported_roots("# the ui imports rig, never the reverse") == []


def test_no_rig_source_imports_qt_or_ui():
    offenders = []
    sources = sorted((ROOT / "rig").rglob("*.py"))
    assert sources
    for path in sources:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(root in FORBIDDEN for root in _imported_roots(line)):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_headless_commands_of_the_console_script_load_no_qt():
    # ui.cli is the console script; it may import Qt only to open a window
    script = SCRIPT.replace("import rig, rig.simulation.engine",
                            "import ui.cli, rig, rig.simulation.engine")
    script = script.replace('status = rig.cli.main.main(["list", "protocols"])',
                            'status = ui.cli.main(["list", "cells"])')
    loaded = _loaded_modules(script)
    assert [m for m in loaded if m.split(".")[0] != "ui"] == []
