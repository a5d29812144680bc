"""The AttentiveNorm ONNX function on every AN layer configuration: function form, decomposed form and
stripped form pass onnx.checker (full) and, where runnable, match the float64 fused op in ONNX Runtime."""

from __future__ import annotations

import onnx
import pytest
import torch

from an_deploy import spec
from an_deploy.export.onnx_function import build_function
from an_deploy.fold import fold
from an_deploy.fused_op import fused_op
from an_deploy.onnx_graph.functions import FunctionSurgeryError, inline_an_functions, strip_an_functions
from an_deploy.onnx_graph.nodes import an_nodes, is_an_function
from tests.an_layers import LAYERS, C, make_layer
from tests.export.helpers import assert_close, multi_layer_model, session

ATOL, RTOL = 2e-5, 1e-5  # float32 arithmetic vs the float64 truth


@pytest.fixture(scope="module")
def folded() -> dict:
    return {name: fold(make_layer(name, seed=i)) for i, name in enumerate(sorted(LAYERS))}


@pytest.fixture(scope="module")
def function_model(folded: dict) -> onnx.ModelProto:
    model = multi_layer_model(folded)
    onnx.checker.check_model(model, full_check=True)
    return model


@pytest.fixture(scope="module")
def decomposed_model(function_model: onnx.ModelProto) -> onnx.ModelProto:
    model = inline_an_functions(function_model)
    onnx.checker.check_model(model, full_check=True)
    return model


def _inputs() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    offsets = torch.randn(1, C, 1, 1, generator=g)
    big = torch.randn(3, C, 7, 5, generator=g) * (0.5 + torch.rand(1, C, 1, 1, generator=g)) + offsets
    single_pixel = torch.randn(2, C, 1, 1, generator=g) + offsets  # H*W == 1: variance 0 by contract
    return [big, single_pixel]


@pytest.mark.parametrize("form", ["function", "decomposed"])
def test_every_layer_config_matches_float64_fused_op(form: str, folded: dict, function_model: onnx.ModelProto,
                                                     decomposed_model: onnx.ModelProto) -> None:
    sess = session(function_model if form == "function" else decomposed_model)
    names = [o.name for o in sess.get_outputs()]
    for x in _inputs():
        outs = dict(zip(names, sess.run(None, {"X": x.numpy()}), strict=True))
        for name, f in folded.items():
            ref = fused_op(x.to(torch.float64), f.tensors, f.attrs)
            assert_close(outs[f"Y_{name}"], ref, ATOL, RTOL, f"{form} {name} {tuple(x.shape)}")


def test_decomposed_form_has_only_standard_ops(decomposed_model: onnx.ModelProto) -> None:
    assert not an_nodes(decomposed_model)
    assert not decomposed_model.functions
    assert all(n.domain in ("", "ai.onnx") for n in decomposed_model.graph.node)
    assert all(o.domain != spec.DOMAIN for o in decomposed_model.opset_import)
    # attribute-driven selections were specialised away: no If/Where left
    assert not {n.op_type for n in decomposed_model.graph.node} & {"If", "Where"}
    # and what only the discarded selections read is gone too: every initializer is read by a node
    read = {name for n in decomposed_model.graph.node for name in n.input}
    assert {t.name for t in decomposed_model.graph.initializer} <= read


def test_strip_keeps_custom_nodes_for_the_plugin(function_model: onnx.ModelProto) -> None:
    stripped = strip_an_functions(function_model)
    onnx.checker.check_model(stripped, full_check=True)
    assert not any(is_an_function(f) for f in stripped.functions)
    assert len(an_nodes(stripped)) == len(an_nodes(function_model))
    for node in an_nodes(stripped):
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        assert attrs["plugin_version"] == spec.PLUGIN_VERSION.encode()
        assert attrs["plugin_namespace"] == spec.PLUGIN_NAMESPACE.encode()
        assert [a.name for a in node.attribute][: len(spec.ATTRIBUTES)] == list(spec.ATTRIBUTE_NAMES)
    assert any(o.domain == spec.DOMAIN and o.version == spec.OP_VERSION for o in stripped.opset_import)
    assert len(function_model.functions) == 1  # the argument is not modified
    with pytest.raises(FunctionSurgeryError, match="stripped"):
        inline_an_functions(stripped)


def test_node_and_function_follow_the_contract(function_model: onnx.ModelProto) -> None:
    fn = build_function(18)
    assert (fn.domain, fn.name) == (spec.DOMAIN, spec.FUNCTION_NAME)
    assert list(fn.input) == [t.name for t in spec.INPUTS]
    assert list(fn.output) == [t.name for t in spec.OUTPUTS]
    declared = list(fn.attribute) + [a.name for a in fn.attribute_proto]
    assert declared == list(spec.ATTRIBUTE_NAMES)  # the required ones first, both parts in contract order
    assert list(fn.attribute) == [a.name for a in spec.ATTRIBUTES if a.default is None]
    for a in fn.attribute_proto:
        assert onnx.helper.get_attribute_value(a) == pytest.approx(spec.attribute(a.name).default, rel=1e-6)
    types = {spec.AttrType.INT: onnx.AttributeProto.INT, spec.AttrType.FLOAT: onnx.AttributeProto.FLOAT}
    for node in an_nodes(function_model):
        assert [a.name for a in node.attribute] == list(spec.ATTRIBUTE_NAMES)
        assert [a.type for a in node.attribute] == [types[a.type] for a in spec.ATTRIBUTES]
        assert len(node.input) == len(spec.INPUTS)
        assert [i.rsplit(".", 1)[1] for i in node.input[1:]] == [t.name for t in spec.PARAM_INPUTS]


def test_unsupported_function_opset_is_rejected() -> None:
    with pytest.raises(ValueError, match="opset"):
        build_function(13)
