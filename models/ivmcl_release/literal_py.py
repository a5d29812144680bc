"""Read a Python file of literal assignments (an mmcv-style config) without executing it.

Accepted: top-level ``name = value`` statements (and string expressions such as a docstring) whose values are
numbers, strings, booleans, ``None``, tuples, lists, dicts, ``dict(key=value, ...)`` calls with keyword
arguments only, a unary minus/plus on a number, and names bound earlier in the same file by such values.
Everything else (imports, other calls, attribute access, operators, comprehensions, ``**`` unpacking...) is
refused with one line naming the line number: the file is parsed with ``ast``, never run.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from an_deploy.models.model_config import ConfigError


def _where(path: Path, node: ast.AST) -> str:
    return f"{path}:{getattr(node, 'lineno', '?')}"


def _value(node: ast.expr, bound: dict[str, Any], path: Path) -> Any:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (bool, int, float, str)) or node.value is None:
            return node.value
        raise ConfigError(f"{_where(path, node)}: unsupported constant {node.value!r}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _value(node.operand, bound, path)
        if isinstance(operand, (int, float)) and not isinstance(operand, bool):
            return -operand if isinstance(node.op, ast.USub) else operand
        raise ConfigError(f"{_where(path, node)}: a sign is only allowed on a number")
    if isinstance(node, ast.Tuple):
        return tuple(_value(e, bound, path) for e in node.elts)
    if isinstance(node, ast.List):
        return [_value(e, bound, path) for e in node.elts]
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise ConfigError(f"{_where(path, node)}: '**' unpacking is not supported in a config")
        return {_value(k, bound, path): _value(v, bound, path) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id == "dict"):
            raise ConfigError(f"{_where(path, node)}: only dict(...) calls are allowed in a config, got "
                              f"{ast.unparse(node.func)}(...)")
        if node.args or any(k.arg is None for k in node.keywords):
            raise ConfigError(f"{_where(path, node)}: dict(...) takes keyword arguments only in a config")
        return {k.arg: _value(k.value, bound, path) for k in node.keywords}
    if isinstance(node, ast.Name):
        if node.id not in bound:
            raise ConfigError(f"{_where(path, node)}: name {node.id!r} is not bound earlier in the config")
        return bound[node.id]
    raise ConfigError(f"{_where(path, node)}: unsupported expression {ast.unparse(node)!r} "
                      f"({type(node).__name__}); a config may only hold literal values")


def read_literal_assignments(path: Path) -> dict[str, Any]:
    """The top-level names of a literal Python config file and their values.

    Args:
        path: the ``.py`` file.

    Returns:
        name -> value, in file order (a later assignment replaces an earlier one).

    Raises:
        ConfigError: unreadable file, a syntax error, or anything that is not a literal assignment.
    """
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read config {path}: {e}") from None
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as e:
        raise ConfigError(f"{path}:{e.lineno}: not valid Python: {e.msg}") from None
    bound: dict[str, Any] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            continue
        if not isinstance(stmt, ast.Assign):
            raise ConfigError(f"{_where(path, stmt)}: only 'name = literal' statements are allowed in a config, got "
                              f"{type(stmt).__name__.lower()}")
        if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
            raise ConfigError(f"{_where(path, stmt)}: assign to one plain name per statement in a config")
        bound[stmt.targets[0].id] = _value(stmt.value, bound, path)
    return bound
