"""The layers of rig/ hold: the import-linter contracts in pyproject.toml are kept (no
Qt in rig, the layers in order, no numba below the simulation, no cycles), and loading
the model or the files does not load the engine."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept():
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(lint).exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Contracts: 5 kept, 0 broken." in result.stdout


def test_the_model_and_files_load_without_the_engine():
    script = ("import sys, rig.model.cell, rig.model.catalogue, rig.files.recording, "
              "rig.analysis.report, rig.protocols.protocol\n"
              "rig.model.cell.load_cell('hh-squid')\n"
              "print(sorted(m for m in sys.modules if m.startswith(('numba', 'rig.simulation'))))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
