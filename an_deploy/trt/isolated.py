"""Build TensorRT-RTX plugin networks in a child process that can find ``libtensorrt_rtx.so``.

TensorRT-RTX's ONNX parser adds an IPluginV3 layer through a private entry point (``getPrivateApi_INTERNAL``)
that it looks up by ``dlopen("libtensorrt_rtx.so")``: the unversioned development name, which the PyPI wheel
does not ship (it has ``libtensorrt_rtx.so.1``). The failed lookup throws inside a ``noexcept`` function, and
the process ends in ``std::terminate`` (plugins/README.md has the evidence). The loader's search path is fixed
when a process starts, so the build runs in a child whose ``LD_LIBRARY_PATH`` starts with a private folder
holding that one symbolic link to the wheel's own library; glibc then hands the parser the library already
loaded. If the name is already findable (a TensorRT-RTX SDK install), the build runs in this process.
A child that dies anyway becomes one :class:`~an_deploy.trt.network.BuildError` line, never an abort.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import onnx

from an_deploy.errors import UserError
from an_deploy.trt.availability import Backend, require_backend
from an_deploy.trt.network import BuildError, Serialized, build_serialized
from an_deploy.trt.plugin_library import load_into_tensorrt
from an_deploy.trt.profiles import ShapeProfile

CORE_NAME = "libtensorrt_rtx.so"
LIBS_PACKAGE = "tensorrt_rtx_libs"


def rtx_libs_dir() -> Path | None:
    """The folder of the wheel's shared libraries (``tensorrt_rtx_libs``), or None without the wheel."""
    found = importlib.util.find_spec(LIBS_PACKAGE)
    if found is None or not found.submodule_search_locations:
        return None
    return Path(next(iter(found.submodule_search_locations)))


def parser_finds_core() -> bool:
    """Whether the parser's ``dlopen("libtensorrt_rtx.so")`` succeeds here (next to the parser or on the path)."""
    libs = rtx_libs_dir()
    if libs is not None and (libs / CORE_NAME).exists():
        return True
    try:
        ctypes.CDLL(CORE_NAME)
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class ChildRequest:
    plugin: str
    profile: dict[str, Any] | None
    workspace_mib: int | None
    version_compatible: bool
    has_timing_cache: bool


def _core_library(libs: Path) -> Path:
    versioned = sorted(libs.glob(CORE_NAME + ".*"))
    if not versioned:
        raise BuildError(f"the TensorRT-RTX wheel in {libs} has no {CORE_NAME}.* library")
    return versioned[0]


def provide_core(folder: Path, libs: Path) -> None:
    """Put the one link the parser looks for, ``libtensorrt_rtx.so`` -> the wheel's versioned library, in ``folder``."""
    (folder / CORE_NAME).symlink_to(_core_library(libs))


def build_rtx_plugin_network(
    model: onnx.ModelProto,
    *,
    plugin: Path,
    profile: ShapeProfile | None,
    workspace_mib: int | None,
    timing_cache: bytes | None,
    version_compatible: bool,
) -> Serialized:
    """Build ``model`` (stripped, plugin nodes) with TensorRT-RTX in a child process (see the module docstring).

    Raises:
        BuildError: the child reported parser/builder errors, or died (the signal is named).
    """
    libs = rtx_libs_dir()
    if libs is None:
        raise BuildError(f"TensorRT-RTX's libraries ({LIBS_PACKAGE}) are not installed")
    with tempfile.TemporaryDirectory(prefix="an-deploy-rtx-") as tmp:
        work = Path(tmp)
        (work / "lib").mkdir()
        provide_core(work / "lib", libs)
        onnx.save(model, work / "model.onnx")
        if timing_cache:
            (work / "timing_cache.in").write_bytes(timing_cache)
        request = ChildRequest(
            plugin=str(plugin.resolve()),
            profile=asdict(profile) if profile is not None else None,
            workspace_mib=workspace_mib,
            version_compatible=version_compatible,
            has_timing_cache=bool(timing_cache),
        )
        (work / "request.json").write_text(json.dumps(asdict(request)))
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (str(work / "lib"), env.get("LD_LIBRARY_PATH")) if p)
        done = subprocess.run([sys.executable, "-m", __name__, str(work)], env=env, check=False)
        result_path = work / "result.json"
        if done.returncode < 0 or not result_path.is_file():
            code = done.returncode
            how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit {code}"
            raise BuildError(
                f"TensorRT-RTX ended the process building the plugin network ({how}); build with --an-impl native"
            )
        result = json.loads(result_path.read_text())
        if result.get("error"):
            raise BuildError(str(result["error"]))
        cache_out = work / "timing_cache.out"
        return Serialized(
            engine=(work / "engine.bin").read_bytes(),
            network_layers=int(result["network_layers"]),
            network_plugin_layers=int(result["network_plugin_layers"]),
            timing_cache=cache_out.read_bytes() if cache_out.is_file() else None,
        )


def _child(work: Path) -> int:
    """The child's side: load the plugin, build, write ``engine.bin`` and ``result.json``."""
    request = ChildRequest(**json.loads((work / "request.json").read_text()))
    try:
        backend = require_backend(Backend.TENSORRT_RTX)
        load_into_tensorrt(Path(request.plugin), backend)
        profile = None
        if request.profile is not None:
            p = request.profile
            profile = ShapeProfile(str(p["input_name"]), tuple(p["min"]), tuple(p["opt"]), tuple(p["max"]))
        cache_in = (work / "timing_cache.in").read_bytes() if request.has_timing_cache else None
        built = build_serialized(
            backend,
            onnx.load(work / "model.onnx"),
            profile=profile,
            workspace_mib=request.workspace_mib,
            timing_cache=cache_in,
            plugin=Path(request.plugin),
            version_compatible=request.version_compatible,
        )
    except UserError as e:
        (work / "result.json").write_text(json.dumps({"error": str(e)}))
        return 1
    (work / "engine.bin").write_bytes(built.engine)
    if built.timing_cache:
        (work / "timing_cache.out").write_bytes(built.timing_cache)
    result = {"network_layers": built.network_layers, "network_plugin_layers": built.network_plugin_layers}
    (work / "result.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(_child(Path(sys.argv[1])))
