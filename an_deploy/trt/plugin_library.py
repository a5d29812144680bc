"""Find and load the AttentiveNorm plugin library (``libattentive_norm_plugin.so``).

Search order: an explicit path (``--plugin``), then the ``AN_DEPLOY_PLUGIN`` environment variable, then the
CMake build folder (``build/plugins`` of the repository, then of the working directory). An explicit path or
environment variable that names a missing file is an error, never silently skipped.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from an_deploy import spec
from an_deploy.errors import UserError
from an_deploy.trt.availability import Backend, TrtBackend, require_backend

ENV_VAR = "AN_DEPLOY_PLUGIN"
LIBRARY_NAME = "libattentive_norm_plugin.so"
REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SUBDIR = Path("build") / "plugins"
BUILD_COMMAND = "cmake -S plugins -B build/plugins -DCMAKE_BUILD_TYPE=Release && cmake --build build/plugins -j2"
ENTRY_POINTS = ("getCreators", "setLoggerFinder")

_loaded: dict[tuple[Backend, Path], object] = {}  # (backend, resolved path) -> handle: loading twice fails


class PluginLibraryError(UserError):
    """The plugin library is missing, unreadable, or does not provide the AttentiveNorm creator."""


@dataclass(frozen=True)
class PluginLibrary:
    path: Path
    source: str  # "--plugin", "$AN_DEPLOY_PLUGIN" or "build folder"


def build_folders(cwd: Path | None = None) -> list[Path]:
    """Where a CMake build puts the library: the repository's build folder, then the working directory's."""
    folders = [REPO_ROOT / BUILD_SUBDIR, (cwd or Path.cwd()) / BUILD_SUBDIR]
    unique: list[Path] = []
    for folder in folders:
        if folder.resolve() not in {f.resolve() for f in unique}:
            unique.append(folder)
    return unique


def find_plugin_library(
    explicit: Path | None = None, env: Mapping[str, str] | None = None, folders: list[Path] | None = None
) -> PluginLibrary:
    """Locate the plugin library.

    Args:
        explicit: the ``--plugin`` option, if given.
        env: environment to read ``AN_DEPLOY_PLUGIN`` from (``os.environ`` if None).
        folders: build folders to search last (:func:`build_folders` if None).

    Returns:
        The path and where it came from.

    Raises:
        PluginLibraryError: the explicit or environment path is not a file, or nothing was found (the
            message names the build command).
    """
    if explicit is not None:
        return PluginLibrary(_existing(explicit, "--plugin"), "--plugin")
    value = (os.environ if env is None else env).get(ENV_VAR, "")
    if value:
        return PluginLibrary(_existing(Path(value), f"${ENV_VAR}"), f"${ENV_VAR}")
    searched = build_folders() if folders is None else folders
    for folder in searched:
        candidate = folder / LIBRARY_NAME
        if candidate.is_file():
            return PluginLibrary(candidate, "build folder")
    raise PluginLibraryError(
        f"AttentiveNorm plugin library {LIBRARY_NAME} not found (no --plugin, ${ENV_VAR} unset, not in "
        f"{', '.join(str(f) for f in searched)}); build it with `{BUILD_COMMAND}` or pass --plugin PATH"
    )


def _existing(path: Path, origin: str) -> Path:
    if not path.is_file():
        raise PluginLibraryError(f"plugin library from {origin} does not exist or is not a file: {path}")
    return path


def check_entry_points(path: Path) -> None:
    """dlopen the library (it links no TensorRT, so this works anywhere) and check its exported entry points.

    Raises:
        PluginLibraryError: not a loadable shared library, or ``getCreators``/``setLoggerFinder`` missing.
    """
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as e:
        raise PluginLibraryError(f"cannot load plugin library {path}: {e}") from None
    missing = [name for name in ENTRY_POINTS if not hasattr(lib, name)]
    if missing:
        raise PluginLibraryError(f"{path} is not a TensorRT plugin library: it does not export {', '.join(missing)}")


def load_into_tensorrt(path: Path, backend: TrtBackend | None = None) -> None:
    """Register the library's creators in the backend's plugin registry (once per process) and check ours is there.

    Args:
        path: the plugin library.
        backend: the TensorRT to register with (data-centre TensorRT if None).

    Raises:
        TensorRTUnavailable: TensorRT is not installed.
        PluginLibraryError: loading failed or the AttentiveNorm creator is not registered afterwards.
    """
    backend = backend or require_backend(Backend.TENSORRT)
    if TYPE_CHECKING:  # type-check the calls against the data-centre stubs; RTX has the same API
        import tensorrt as trt_mod
    else:
        trt_mod = backend.module
    registry = trt_mod.get_plugin_registry()
    key = (backend.backend, path.resolve())
    if key not in _loaded and registry.get_creator(spec.PLUGIN_NAME, spec.PLUGIN_VERSION, spec.PLUGIN_NAMESPACE):
        _loaded[key] = None  # the creator is already registered (e.g. loaded by the caller)
    if key not in _loaded:
        handle = registry.load_library(str(key[1]))
        if handle is None:
            raise PluginLibraryError(f"{backend.label} could not load plugin library {path} (see its log above)")
        _loaded[key] = handle
    creator = registry.get_creator(spec.PLUGIN_NAME, spec.PLUGIN_VERSION, spec.PLUGIN_NAMESPACE)
    if creator is None:
        raise PluginLibraryError(
            f"{path} loaded but registers no plugin creator {spec.PLUGIN_NAME!r} version {spec.PLUGIN_VERSION!r} "
            f"namespace {spec.PLUGIN_NAMESPACE!r}"
        )


def load_plugin_library(explicit: Path | None = None, backend: TrtBackend | None = None) -> PluginLibrary:
    """Find the library (see :func:`find_plugin_library`) and register it with ``backend`` (see
    :func:`load_into_tensorrt`)."""
    found = find_plugin_library(explicit)
    load_into_tensorrt(found.path, backend)
    return found
