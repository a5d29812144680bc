"""The graph helpers sit below export and trt: they import neither, and trt's preparation does not import export."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "an_deploy"


def _imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` anywhere in the file names (function bodies too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted((PACKAGE / "onnx_graph").glob("*.py")), ids=lambda p: p.name)
def test_onnx_graph_imports_only_the_contract_and_itself(path: Path) -> None:
    ours = {m for m in _imported_modules(path) if m.split(".")[0] == "an_deploy"}
    assert all(m == "an_deploy" or m == "an_deploy.spec" or m.startswith("an_deploy.onnx_graph") for m in ours), ours


def test_trt_preparation_does_not_reach_into_export() -> None:
    imported = _imported_modules(PACKAGE / "trt" / "onnx_prep.py")
    assert "an_deploy.onnx_graph.functions" in imported
    assert not {m for m in imported if m.startswith("an_deploy.export")}
