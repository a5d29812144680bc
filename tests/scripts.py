"""Importing a repository script (benchmarks/, plugins/tools/) as a module, the way the tests of scripts need it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"


def load_script(path: Path, name: str | None = None) -> ModuleType:
    """Import ``path`` as module ``name`` (its file stem by default), registered in ``sys.modules`` so that the
    scripts' own ``from <sibling> import ...`` and dataclasses resolve; a module already loaded is reused."""
    name = name or path.stem
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_benchmark(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` as module ``name``."""
    return load_script(BENCHMARKS / f"{name}.py")
