"""Write a parseable copy of the installed ``tensorrt-stubs`` (TensorRT 10.13) for mypy.

The published stub files do not parse: parameters named ``in`` (a keyword) in the IPluginV3 methods and
``add_scale_nd``'s required ``channel_axis`` after defaulted parameters. mypy stops at the first syntax
error, and without a ``py.typed`` marker it would skip the package silently (everything ``Any``). This
script copies the stubs to DEST with only those two spellings repaired and checks that every file
parses, so ``MYPYPATH=DEST mypy an_deploy/trt an_deploy/trt/runner.py`` checks our TensorRT
calls against the real API surface::

    python -m tests.trt.make_tensorrt_stubs build/typings
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path

PACKAGES = ("tensorrt", "tensorrt_bindings")
_KEYWORD_PARAM = re.compile(r"([(,]\s*)in:")
_SCALE_ND = "power: Weights = None, channel_axis: int)"


def installed_stub_dir(package: str) -> Path:
    """The site-packages folder of one stub package (found without importing it)."""
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise SystemExit(f"{package} stubs not installed: pip install --no-deps tensorrt-stubs")
    return Path(next(iter(found.submodule_search_locations)))


def repair(text: str) -> str:
    """The two fixes: ``in`` -> ``in_`` as a parameter name; ``channel_axis`` made keyword-only."""
    text = _KEYWORD_PARAM.sub(r"\1in_:", text)
    return text.replace(_SCALE_ND, "power: Weights = None, *, channel_axis: int)")


def write_stubs(dest: Path) -> list[Path]:
    """Copy and repair every ``.pyi`` of the stub packages under ``dest``; returns the files written."""
    written = []
    for package in PACKAGES:
        src = installed_stub_dir(package)
        for stub in sorted(src.rglob("*.pyi")):
            text = repair(stub.read_text(encoding="utf-8"))
            try:
                ast.parse(text, filename=str(stub))
            except SyntaxError as e:
                raise SystemExit(f"{stub}:{e.lineno}: still unparseable after repair: {e.msg}") from None
            out = dest / package / stub.relative_to(src)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
            written.append(out)
    return written


def main(argv: list[str]) -> int:
    dest = Path(argv[0] if argv else "build/typings")
    files = write_stubs(dest)
    print(f"wrote {len(files)} repaired TensorRT stub files under {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
