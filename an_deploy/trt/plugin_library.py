"""Register the AttentiveNorm plugin library with TensorRT (finding the file: :mod:`an_deploy.plugin.library`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from an_deploy import spec
from an_deploy.plugin.library import (
    TENSORRT_ENTRY_POINTS,
    PluginLibrary,
    PluginLibraryError,
    find_plugin_library,
    open_library,
)
from an_deploy.trt.availability import Backend, TrtBackend, require_backend

_loaded: dict[tuple[Backend, Path], object] = {}  # (backend, resolved path) -> handle: loading twice fails


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
        open_library(key[1], TENSORRT_ENTRY_POINTS)  # a clear error for a file that is not our library
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
