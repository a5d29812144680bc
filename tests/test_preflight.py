"""An ONNX file that does not fit the checkpoint is found before any runtime runs."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from an_deploy.checkpoint import LoadedModel, load_model
from an_deploy.models.digits import DEMO_CHECKPOINT
from an_deploy.preflight import MismatchError, check_onnx_fits_model, onnx_io_dims


def identity_onnx(input_dims: list[int | str], output_dims: list[int | str]) -> onnx.ModelProto:
    """A one-node graph with the given declared input and output shapes (only the shapes matter here)."""
    node = helper.make_node("Identity", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_dims)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, output_dims)])
    return helper.make_model(graph)


@pytest.fixture(scope="module")
def demo() -> LoadedModel:
    return load_model(DEMO_CHECKPOINT)


def _check(demo: LoadedModel, proto: onnx.ModelProto) -> None:
    check_onnx_fits_model(demo.model, demo.arch, (1, 1, 16, 16), proto, Path("r50.onnx"), Path("demo.pt"))


def test_a_fitting_file_passes(demo: LoadedModel) -> None:
    _check(demo, identity_onnx(["N", 1, 16, 16], ["N", 10]))
    assert onnx_io_dims(identity_onnx(["N", 1, 16, 16], ["N", 10])) == ((None, 1, 16, 16), (None, 10))


def test_an_imagenet_file_for_the_demo_checkpoint_is_refused(demo: LoadedModel) -> None:
    with pytest.raises(MismatchError, match=r"r50.onnx takes 3x224x224 inputs, which demo.pt \(an_resnet_demo, "
                                            r"input 1x16x16\) cannot run; pass the ONNX file exported from this"):
        _check(demo, identity_onnx(["N", 3, 224, 224], ["N", 1000]))
    with pytest.raises(MismatchError) as info:
        _check(demo, identity_onnx(["N", 3, 224, 224], ["N", 1000]))
    assert "--arch" not in str(info.value)  # another architecture name cannot make this file fit


def test_another_class_count_is_refused(demo: LoadedModel) -> None:
    with pytest.raises(MismatchError, match=r"outputs Nx1000 but demo.pt \(an_resnet_demo\) outputs Nx10"):
        _check(demo, identity_onnx(["N", 1, 16, 16], ["N", 1000]))


def test_symbolic_channels_are_refused(demo: LoadedModel) -> None:
    with pytest.raises(MismatchError, match="static C, H, W"):
        _check(demo, identity_onnx(["N", "C", 16, 16], ["N", 10]))
