"""Fixtures of the TensorRT tests: exported demo models (function form, in memory and on disk), the built plugin."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from an_deploy.models.randomize import realistic_
from an_deploy.models.registry import DEMO_INPUT_SHAPE, an_resnet_demo
from an_deploy.plugin.library import BUILD_COMMAND, PluginLibraryError, find_plugin_library


@pytest.fixture(scope="session")
def demo_function_onnx() -> onnx.ModelProto:
    """The demo AN-ResNet (realistic random weights) exported in function form with a dynamic batch."""
    from an_deploy.export.torch_export import export_model

    return export_model(realistic_(an_resnet_demo(), seed=0), DEMO_INPUT_SHAPE, form="function").model


@pytest.fixture(scope="session")
def demo_onnx_path(tmp_path_factory: pytest.TempPathFactory, demo_function_onnx: onnx.ModelProto) -> Path:
    path = tmp_path_factory.mktemp("demo") / "an_resnet_demo.onnx"
    onnx.save(demo_function_onnx, path)
    return path


@pytest.fixture(scope="session")
def plugin_library() -> Path:
    """The plugin library every command would load (skips the test when it is not built)."""
    try:
        return find_plugin_library().path
    except PluginLibraryError:
        pytest.skip(f"plugin library not built: {BUILD_COMMAND}")
