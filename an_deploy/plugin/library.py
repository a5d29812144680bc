"""Find and open the AttentiveNorm plugin library (``libattentive_norm_plugin.so``).

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

from an_deploy.errors import UserError

ENV_VAR = "AN_DEPLOY_PLUGIN"
LIBRARY_NAME = "libattentive_norm_plugin.so"
REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SUBDIR = Path("build") / "plugins"
BUILD_COMMAND = "cmake -S plugins -B build/plugins -DCMAKE_BUILD_TYPE=Release && cmake --build build/plugins -j2"
TENSORRT_ENTRY_POINTS = ("getCreators", "setLoggerFinder")  # what TensorRT's registry calls


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


def open_library(path: Path, entry_points: tuple[str, ...]) -> ctypes.CDLL:
    """dlopen the library (it links neither TensorRT nor libtorch, so this works anywhere) and check that it exports
    ``entry_points``.

    Raises:
        PluginLibraryError: not a loadable shared library, or an entry point missing.
    """
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as e:
        raise PluginLibraryError(f"cannot load plugin library {path}: {e}") from None
    missing = [name for name in entry_points if not hasattr(lib, name)]
    if missing:
        raise PluginLibraryError(f"{path} is not the AttentiveNorm plugin library: it does not export "
                                 f"{', '.join(missing)}")
    return lib
