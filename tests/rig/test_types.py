"""All of rig is annotated and type-checks: mypy, configured by [tool.mypy] in
pyproject.toml, finds nothing. Only the numba kernel and the episode loop
(rig.simulation.kernel, rig.simulation.episodes) may leave functions unannotated;
they are still checked (check_untyped_defs)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_finds_nothing(tmp_path):
    # the mypy of this interpreter's environment, whatever is first on PATH
    mypy = Path(sys.executable).parent / ("mypy.exe" if sys.platform == "win32" else "mypy")
    if not mypy.exists():
        pytest.skip(f"mypy is not installed next to {sys.executable} (pip install -e '.[test]')")
    # a fresh cache in tmp_path: the verdict never depends on an earlier run's cache
    result = subprocess.run([str(mypy), "--cache-dir", str(tmp_path / "mypy_cache")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    print(result.stdout)
    print(result.stderr, file=sys.stderr)
    assert result.returncode == 0, (f"mypy exited {result.returncode}:\n"
                                    f"{result.stdout[-6000:]}{result.stderr[-2000:]}")
    assert "Success: no issues found" in result.stdout
