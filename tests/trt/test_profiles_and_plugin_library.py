"""Shape profiles and plugin library discovery (no TensorRT needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from an_deploy.plugin.library import (
    BUILD_COMMAND,
    ENV_VAR,
    LIBRARY_NAME,
    TENSORRT_ENTRY_POINTS,
    PluginLibraryError,
    find_plugin_library,
    open_library,
)
from an_deploy.shapes import ShapeError, parse_shape
from an_deploy.trt.profiles import ProfileError, parse_batch, resolve_profile
from tests.trt.onnx_models import function_form_model


def test_parse_shape_and_batch() -> None:
    assert parse_shape("1x3x224x224") == (1, 3, 224, 224)
    assert parse_batch("1:8:32") == (1, 8, 32)
    assert parse_batch("4") == (4, 4, 4)
    for bad in ("1x0x2", "ax3", "", "1x-3"):
        with pytest.raises(ShapeError):
            parse_shape(bad)
    assert parse_shape("2x3", rank=2) == (2, 3)
    with pytest.raises(ShapeError, match="expected 4 positive dims"):
        parse_shape("1x1x16", rank=4)
    for bad in ("8:4:16", "1:2", "0:1:2", "a:b:c"):
        with pytest.raises(ProfileError):
            parse_batch(bad)


def test_profile_from_batch_and_default() -> None:
    model = function_form_model()  # x: [N, 4, 3, 3]
    p = resolve_profile(model, batch=(1, 8, 32))
    assert p is not None and (p.input_name, p.min, p.opt, p.max) == ("x", (1, 4, 3, 3), (8, 4, 3, 3), (32, 4, 3, 3))
    assert p.as_trtexec("max") == "x:32x4x3x3"
    default = resolve_profile(model)
    assert default is not None and default.min == default.opt == default.max == (1, 4, 3, 3)


def test_profile_from_full_shapes_is_checked_against_the_model() -> None:
    model = function_form_model()
    p = resolve_profile(model, (1, 4, 3, 3), (2, 4, 3, 3), (4, 4, 3, 3))
    assert p is not None and p.opt == (2, 4, 3, 3)
    with pytest.raises(ProfileError, match="fixed at 4"):
        resolve_profile(model, (1, 5, 3, 3), (2, 5, 3, 3), (4, 5, 3, 3))
    with pytest.raises(ProfileError, match="rank"):
        resolve_profile(model, (1, 4, 3), (2, 4, 3), (4, 4, 3))
    with pytest.raises(ProfileError, match="min <= opt <= max"):
        resolve_profile(model, (4, 4, 3, 3), (2, 4, 3, 3), (8, 4, 3, 3))
    with pytest.raises(ProfileError, match="all three"):
        resolve_profile(model, (1, 4, 3, 3), None, (4, 4, 3, 3))
    with pytest.raises(ProfileError, match="not both"):
        resolve_profile(model, (1, 4, 3, 3), (1, 4, 3, 3), (1, 4, 3, 3), batch=(1, 1, 1))


def _fake_library(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LIBRARY_NAME
    path.write_bytes(b"not really a library")
    return path


def test_discovery_order_explicit_then_env_then_build_folder(tmp_path: Path) -> None:
    explicit = _fake_library(tmp_path / "explicit")
    env_lib = _fake_library(tmp_path / "env")
    build = tmp_path / "build" / "plugins"
    build_lib = _fake_library(build)
    env = {ENV_VAR: str(env_lib)}
    assert find_plugin_library(explicit, env, [build]).path == explicit
    found = find_plugin_library(None, env, [build])
    assert (found.path, found.source) == (env_lib, f"${ENV_VAR}")
    found = find_plugin_library(None, {}, [build])
    assert (found.path, found.source) == (build_lib, "build folder")


def test_missing_library_errors_name_the_cause(tmp_path: Path) -> None:
    with pytest.raises(PluginLibraryError, match="--plugin does not exist"):
        find_plugin_library(tmp_path / "nope.so", {}, [])
    with pytest.raises(PluginLibraryError, match=f"\\${ENV_VAR} does not exist"):
        find_plugin_library(None, {ENV_VAR: str(tmp_path / "gone.so")}, [])
    with pytest.raises(PluginLibraryError) as info:
        find_plugin_library(None, {}, [tmp_path / "build" / "plugins"])
    assert BUILD_COMMAND in str(info.value) and "\n" not in str(info.value)


def test_entry_point_check_rejects_a_non_library(tmp_path: Path) -> None:
    with pytest.raises(PluginLibraryError, match="cannot load"):
        open_library(_fake_library(tmp_path), TENSORRT_ENTRY_POINTS)


def test_built_plugin_library_exports_the_tensorrt_entry_points(repo_root: Path) -> None:
    path = repo_root / "build" / "plugins" / LIBRARY_NAME
    if not path.is_file():
        pytest.skip(f"plugin not built ({BUILD_COMMAND})")
    open_library(path, TENSORRT_ENTRY_POINTS)
