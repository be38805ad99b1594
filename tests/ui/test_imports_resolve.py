"""Every import of a vRig module names something that exists, including the imports
made inside functions (the command line loads the engine only when a command needs it,
so a wrong name there would only fail when a user runs that command)."""

import ast
import importlib
import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for d in ("rig", "ui") for p in (ROOT / d).rglob("*.py"))


def _imports(path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] in ("rig", "ui"):
            for alias in node.names:
                yield node.lineno, node.module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("rig", "ui"):
                    yield node.lineno, alias.name, None


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_vrig_import_resolves(path):
    for line, module_name, name in _imports(path):
        try:
            module = importlib.import_module(module_name)
            if name is not None and not hasattr(module, name):
                importlib.import_module(f"{module_name}.{name}")  # a submodule, or it raises
        except ImportError as exc:
            raise AssertionError(f"{path.name}:{line}: {exc}") from None
