"""The torch.export-based exporter through the op: files equivalent to the TorchScript exporter's (same
AttentiveNorm nodes, attributes and folded tensors; ONNX Runtime as accurate as PyTorch fp32), for the demo model
(real held-out digits) and AN-ResNet-50 (realistic random weights, 64x64 input)."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import onnx
import pytest
import torch
from onnx import helper, numpy_helper
from torch import nn

from an_deploy import spec
from an_deploy.accuracy.inputs import realistic_inputs
from an_deploy.discover import find_an_layers as an_layers
from an_deploy.export.checks import check_model
from an_deploy.export.dynamo_export import (
    DEFAULT_EXPORTER,
    EXPORTERS,
    export_dynamo,
    export_with,
    onnx_op_schema,
    translate_attentive_norm,
)
from an_deploy.export.torch_export import ExportError, export_model
from an_deploy.models.digits import load_heldout
from an_deploy.models.randomize import calibrated_
from an_deploy.models.registry import an_resnet50
from an_deploy.onnx_graph.nodes import an_nodes
from tests.export.helpers import assert_close, session

# ORT, dynamo file vs TorchScript file, on the demo model (the two files fold the plain BatchNorms into the convs
# separately and pool differently, so on the 50-layer network they are each held to PyTorch fp32's own accuracy
# against float64 instead: 3x its error plus 1e-5, as in tests/export).
ATOL, RTOL = 1e-4, 1e-4


def _an_signature(model: onnx.ModelProto) -> list[tuple[list[tuple[str, object]], list[np.ndarray]]]:
    """Per AN node in graph order: its attributes (name, value) in order and its folded parameter tensors."""
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    return [([(a.name, helper.get_attribute_value(a)) for a in node.attribute], [inits[i] for i in node.input[1:]])
            for node in an_nodes(model)]


def _assert_equivalent(model: nn.Module, shape: tuple[int, ...], batches: list[torch.Tensor],
                       dynamo_file: onnx.ModelProto | None = None) -> list[dict[str, torch.Tensor]]:
    """Both exporters: checker, same AN nodes and tensors, each file as accurate as PyTorch fp32 on every batch.

    Returns:
        Per batch, the ORT output of each file.
    """
    dynamo_file = dynamo_file if dynamo_file is not None else export_dynamo(model, shape).model
    files = {"dynamo": dynamo_file, "torchscript": export_model(model, shape).model}
    for proto in files.values():
        check_model(proto)
        assert len(an_nodes(proto)) == len(an_layers(model))
    dyn, ts = (_an_signature(files[k]) for k in ("dynamo", "torchscript"))
    assert [attrs for attrs, _ in dyn] == [attrs for attrs, _ in ts]
    assert [[n for n, _ in attrs] for attrs, _ in dyn] == [list(spec.ATTRIBUTE_NAMES)] * len(dyn)
    for (_, dyn_tensors), (_, ts_tensors) in zip(dyn, ts, strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(dyn_tensors, ts_tensors, strict=True))
    sessions = {k: session(v) for k, v in files.items()}
    model64 = copy.deepcopy(model).double()
    results = []
    for x in batches:
        with torch.no_grad():
            ref64 = model64(x.double())
            torch_err = float((model(x).double() - ref64).abs().max())
        outs = {k: torch.from_numpy(s.run(None, {"input": x.numpy()})[0]) for k, s in sessions.items()}
        for k, out in outs.items():
            err = float((out.double() - ref64).abs().max())
            assert err <= 3 * torch_err + 1e-5, f"{k} batch {len(x)}: {err:.3e} from float64, torch {torch_err:.3e}"
        results.append(outs)
    return results


def test_translation_signature_and_schema_are_the_contract() -> None:
    params = list(translate_attentive_norm.__signature__.parameters)
    assert params == [t.name for t in spec.INPUTS] + list(spec.ATTRIBUTE_NAMES)
    schema = onnx_op_schema()
    assert (schema.domain, schema.name, schema.since_version) == (spec.DOMAIN, spec.OP_NAME, spec.OP_VERSION)
    assert [i.name for i in schema.inputs] == [t.name for t in spec.INPUTS]
    assert set(schema.attributes) == set(spec.ATTRIBUTE_NAMES)
    assert {n for n, a in schema.attributes.items() if a.required} == {
        a.name for a in spec.ATTRIBUTES if a.default is None}


@pytest.fixture(scope="module")
def demo_dynamo(demo_model: nn.Module) -> onnx.ModelProto:
    """The demo model exported with the dynamo exporter (dynamic batch, traced at batch 2 for an example of 1)."""
    return export_dynamo(demo_model, (1, 1, 16, 16)).model


def test_demo_model_equivalent_to_torchscript_export(demo_model: nn.Module, demo_dynamo: onnx.ModelProto) -> None:
    images, _ = load_heldout()
    for outs in _assert_equivalent(demo_model, (1, 1, 16, 16), [images[:1], images], demo_dynamo):
        assert_close(outs["dynamo"], outs["torchscript"], ATOL, RTOL, "dynamo vs torchscript")
    out = session(demo_dynamo).run(None, {"input": images.numpy()})[0]
    with torch.no_grad():
        assert bool((torch.from_numpy(out).argmax(1) == demo_model(images).argmax(1)).all())


@pytest.mark.slow
def test_an_resnet50_equivalent_to_torchscript_export() -> None:
    shape = (1, 3, 64, 64)
    model = calibrated_(an_resnet50(), realistic_inputs((4, 3, 64, 64), 4, seed=1), seed=0)
    _assert_equivalent(model, shape, [realistic_inputs(shape, 1, seed=2), realistic_inputs(shape, 3, seed=3)])


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_no_exporter_warning_or_log_line_reaches_the_caller(exporter: str, demo_model: nn.Module,
                                                            capfd: pytest.CaptureFixture[str]) -> None:
    """Neither exporter passes on its deprecation warnings (TorchScript's removal notice) or log chatter."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = export_with(exporter, demo_model, (1, 1, 16, 16))
    assert [str(w.message) for w in caught] == []
    out, err = capfd.readouterr()
    assert out == "" and err == "", (out[-500:], err[-500:])
    assert len(an_nodes(result.model)) == len(an_layers(demo_model))


def test_unknown_exporter_is_an_export_error(demo_model: nn.Module) -> None:
    assert DEFAULT_EXPORTER in EXPORTERS
    with pytest.raises(ExportError, match="unknown exporter"):
        export_with("jit", demo_model, (1, 1, 16, 16))


def test_static_batch_and_decomposed_form(demo_model: nn.Module) -> None:
    result = export_dynamo(demo_model, (2, 1, 16, 16), dynamic_batch=False, form="decomposed", opset=20)
    check_model(result.model)
    assert result.model.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2
    assert not an_nodes(result.model) and not result.model.functions
    images, _ = load_heldout()
    out = session(result.model).run(None, {"input": images[:2].numpy()})[0]
    with torch.no_grad():
        assert_close(out, demo_model(images[:2]), 1e-4, 1e-4, "decomposed dynamo export vs PyTorch")


def test_dynamic_batch_dimension_is_named(demo_dynamo: onnx.ModelProto) -> None:
    dim = demo_dynamo.graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_param == "batch"


def test_rejected_input_shape_is_an_export_error(demo_model: nn.Module) -> None:
    with pytest.raises(ExportError, match="rejects input shape"):
        export_dynamo(demo_model, (1, 3, 16, 16))
