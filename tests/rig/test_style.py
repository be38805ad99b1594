"""The code keeps the ruff rules in pyproject.toml ([tool.ruff]): `ruff check rig ui tests`
finds nothing."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_finds_nothing():
    # the ruff of this interpreter's environment, whatever is first on PATH
    ruff = Path(sys.executable).parent / ("ruff.exe" if sys.platform == "win32" else "ruff")
    if not ruff.exists():
        pytest.skip(f"ruff is not installed next to {sys.executable} (pip install -e '.[test]')")
    result = subprocess.run([str(ruff), "check", "--no-cache", "rig", "ui", "tests"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    print(result.stdout)
    print(result.stderr, file=sys.stderr)
    assert result.returncode == 0, (f"ruff check rig ui tests exited {result.returncode}:\n"
                                    f"{result.stdout[-6000:]}{result.stderr[-2000:]}")
