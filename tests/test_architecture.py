"""The project's shape, checked from its source: data flows one way (checkpoint -> module -> fold -> onnx -> engine
-> report), no import cycle between subpackages, imports at module top (deferred ones only through
``an_deploy.lazy``), and every dependency declared in pyproject.toml imported, every imported one declared."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from an_deploy.trt.availability import MODULES

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11's tomllib")

REPO = Path(__file__).resolve().parents[1]
SOURCES = {"an_deploy": REPO / "an_deploy", "an_deploy.models": REPO / "models", "an_deploy.cli": REPO / "cli"}

# Every module belongs to one stage; a module may import only from its own stage or an earlier one. The longest
# matching prefix decides (a module of a new subpackage fails the test until it is given a stage here).
STAGES = ["base", "models", "checkpoint", "module", "onnx", "engine", "report", "command"]
STAGE_OF = {
    "an_deploy.errors": "base", "an_deploy.spec": "base", "an_deploy.version": "base", "an_deploy.lazy": "base",
    "an_deploy.files": "base", "an_deploy.shapes": "base", "an_deploy.resources": "base",
    "an_deploy.onnx_file": "base", "an_deploy.preflight": "base", "an_deploy.safe_unpickle": "base",
    "an_deploy.weights_check": "base", "an_deploy.report_schema": "base", "an_deploy.runtime": "base",
    "an_deploy.models": "models",
    "an_deploy.an_options": "checkpoint", "an_deploy.checkpoint_file": "checkpoint",
    "an_deploy.checkpoint": "checkpoint",
    "an_deploy.discover": "module", "an_deploy.fused_op": "module", "an_deploy.reference": "module",
    "an_deploy.fold": "module", "an_deploy.torch_op": "module", "an_deploy.plugin": "module",
    "an_deploy.accuracy": "module", "an_deploy.runtime.torch_runner": "module",
    "an_deploy.onnx_graph": "onnx", "an_deploy.export": "onnx", "an_deploy.runtime.ort_runner": "onnx",
    "an_deploy.trt": "engine",
    "an_deploy.parity": "report", "an_deploy.bench": "report", "an_deploy.summary": "report",
    "an_deploy.json_records": "report",
    "an_deploy.cli": "command", "an_deploy.__init__": "command",
}
def _module_files() -> dict[str, Path]:
    files: dict[str, Path] = {}
    for package, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            name = ".".join((package, *parts))
            files[name.removesuffix(".__init__") if package != "an_deploy" or parts != ("__init__",)
                  else "an_deploy.__init__"] = path
    return files


FILES = _module_files()


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(module: str, path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function outside TYPE_CHECKING) for every import and lazy_import."""
    tree = ast.parse(path.read_text())
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool, in_type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            function = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            type_checking = in_type_checking or _is_type_checking(child)
            nested = in_function and not in_type_checking
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, nested) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(module, child, path.name == "__init__.py")
                for alias in child.names:
                    candidate = f"{target}.{alias.name}"
                    found.append((candidate if candidate in FILES else target, child.lineno, nested))
            elif (isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id == "lazy_import"
                  and child.args and isinstance(child.args[0], ast.Constant)):
                found.append((str(child.args[0].value), child.lineno, False))
            visit(child, function, type_checking)

    visit(tree, False, False)
    return found


def _stage(module: str) -> str | None:
    keys = [k for k in STAGE_OF if module == k or module.startswith(k + ".")]
    return STAGE_OF[max(keys, key=len)] if keys else None


def _unit(module: str) -> str:
    """The subpackage of ``an_deploy`` (or its top-level module) a module belongs to."""
    return ".".join(module.split(".")[:2])


def test_every_module_has_a_stage_and_imports_only_from_its_stage_or_earlier() -> None:
    wrong = []
    for module, path in FILES.items():
        stage = _stage(module)
        if stage is None:
            wrong.append(f"{module}: no stage (add it to STAGE_OF)")
            continue
        for target, line, _ in _imports(module, path):
            target_stage = _stage(target) if target.startswith("an_deploy") else None
            if target_stage is not None and STAGES.index(target_stage) > STAGES.index(stage):
                wrong.append(f"{path.relative_to(REPO)}:{line}: {module} ({stage}) imports {target} ({target_stage})")
    assert not wrong, "\n".join(wrong)


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_subpackages() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in FILES.items():
        for target, _, _ in _imports(module, path):
            if target.startswith("an_deploy.") and _unit(target) != _unit(module):
                edges[_unit(module)].add(_unit(target))
    assert _cycle(edges) is None, " -> ".join(_cycle(edges) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


def test_imports_are_at_module_top() -> None:
    nested = [f"{path.relative_to(REPO)}:{line}: {target}" for module, path in FILES.items()
              for target, line, inside in _imports(module, path) if inside]
    assert not nested, "imports inside functions (use an_deploy.lazy.lazy_import for a deferred one):\n" + \
        "\n".join(nested)


def _top_level_imports() -> set[str]:
    """Third-party top-level modules the library and its scripts import (the TensorRT backends are imported by
    name at run time, by ``an_deploy.trt.availability``)."""
    names = set(MODULES.values())
    scripts = {f"scripts.{p.stem}": p for p in sorted((REPO / "scripts").glob("*.py"))}
    for module, path in (FILES | scripts).items():
        for target, _, _ in _imports(module, path):
            top = target.split(".")[0]
            if top and top != "an_deploy" and top not in sys.stdlib_module_names and top != "__future__":
                names.add(top)
    return names


def _normalise(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def _declared() -> tuple[set[str], set[str]]:
    """(core dependencies, optional dependencies), as normalised distribution names."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

    def names(reqs: list[str]) -> set[str]:
        return {_normalise(re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0]) for r in reqs}

    optional = set().union(*(names(v) for k, v in project["optional-dependencies"].items() if k != "dev"))
    return names(project["dependencies"]), optional


# Distributions not installed here (their module names cannot be read from the environment).
NOT_INSTALLED = {"tensorrt": "tensorrt"}


def _distributions(module: str) -> set[str]:
    found = importlib.metadata.packages_distributions().get(module, [])
    return {_normalise(d) for d in found} or ({NOT_INSTALLED[module]} if module in NOT_INSTALLED else set())


def test_every_imported_package_is_declared() -> None:
    core, optional = _declared()
    undeclared = {m: sorted(_distributions(m)) for m in _top_level_imports()
                  if not _distributions(m) & (core | optional)}
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_every_declared_dependency_is_imported() -> None:
    core, optional = _declared()
    imported = set().union(*(_distributions(m) for m in _top_level_imports()))
    unused = sorted((core | optional) - imported)
    assert not unused, f"declared in pyproject.toml but never imported by the library: {unused}"


@pytest.mark.parametrize("module", ["an_deploy.cli.main", "an_deploy"])
def test_help_and_version_need_no_torch(module: str) -> None:
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"
