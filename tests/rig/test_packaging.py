"""A wheel (and so a plain `pip install .`) carries the presets: built from this tree,
installed into a fresh environment, `vrig` runs a shipped protocol from another folder.

The fresh environment borrows the test environment's installed dependencies through a
.pth file (a .pth inside a borrowed folder is not processed, so the editable vRig of the
test environment stays out), which keeps the test to a few tens of seconds.
"""

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the fresh environment's python, its vrig script) with the wheel installed."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(work / "dist"), str(ROOT)], check=True, capture_output=True)
    wheel = next((work / "dist").glob("vrig-*.whl"))
    env_dir = work / "env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    purelib, str(wheel)], check=True, capture_output=True)
    borrowed = sysconfig.get_paths()["purelib"]
    Path(purelib, "borrowed-dependencies.pth").write_text(borrowed + "\n", encoding="utf-8")
    return python, Path(purelib)


def run_in(folder, python, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([str(python), "-m", "rig.cli.main", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_wheel_holds_the_presets_and_runs_a_shipped_protocol(installed, tmp_path):
    python, site = installed
    assert (site / "rig" / "presets" / "cells" / "hh-squid.json").is_file()
    assert (site / "rig" / "presets" / "style" / "rig.qss").is_file()
    located = subprocess.run([str(python), "-c", "import rig.resources as r; "
                              "print(r.resources_dir())"], cwd=tmp_path,
                             capture_output=True, text=True, check=True).stdout.strip()
    assert Path(located) == site / "rig" / "presets"  # not the source tree
    listed = run_in(tmp_path, python, "list", "cells")
    assert listed.returncode == 0, listed.stderr
    assert "hh-squid" in listed.stdout and "model-cell" in listed.stdout
    done = run_in(tmp_path, python, "run", "vc-iv-family", "-o", "iv.npz")
    assert done.returncode == 0, done.stderr
    assert "15 sweep(s)" in done.stdout
    assert (tmp_path / "iv.npz").stat().st_size > 10_000
