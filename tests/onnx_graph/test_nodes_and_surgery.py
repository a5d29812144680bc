"""The AN node queries on every node representation, and what stripping keeps of a model besides the nodes."""

from __future__ import annotations

from collections.abc import Callable

import onnx
import onnx_graphsurgeon as gs
import onnx_ir as ir
import pytest
from onnx import helper

from an_deploy import spec
from an_deploy.onnx_graph.functions import PLUGIN_ATTRIBUTES, strip_an_functions
from an_deploy.onnx_graph.nodes import (
    AnyNode,
    an_nodes,
    claims_attentive_norm,
    is_attentive_norm_node,
    nodes_claiming_attentive_norm,
)
from tests.trt.onnx_models import function_form_model

# (op type, domain) -> (is the op itself, claims the op's name or domain)
CASES = [
    ((spec.OP_NAME, spec.DOMAIN), (True, True)),
    ((spec.OP_NAME, "com.example"), (False, True)),  # a look-alike TensorRT's parser would bind by type
    (("Other", spec.DOMAIN), (False, True)),
    ((spec.OP_NAME, ""), (False, True)),
    (("Relu", ""), (False, False)),
]


def _as_proto(op_type: str, domain: str) -> onnx.NodeProto:
    return helper.make_node(op_type, ["x"], ["y"], domain=domain)


def _as_ir(op_type: str, domain: str) -> ir.Node:
    return ir.Node(domain, op_type, [])


def _as_gs(op_type: str, domain: str) -> gs.Node:
    return gs.Node(op_type, domain=domain)


@pytest.mark.parametrize("make", [_as_proto, _as_ir, _as_gs], ids=["onnx", "onnx_ir", "graphsurgeon"])
@pytest.mark.parametrize(("node", "expected"), CASES, ids=[f"{t}@{d or 'ai.onnx'}" for (t, d), _ in CASES])
def test_exact_and_claiming_queries_differ(
    make: Callable[[str, str], AnyNode], node: tuple[str, str], expected: tuple[bool, bool]
) -> None:
    n = make(*node)
    assert (is_attentive_norm_node(n), claims_attentive_norm(n)) == expected


def test_model_queries_keep_graph_order() -> None:
    model = function_form_model()
    lookalike = helper.make_node(spec.OP_NAME, ["y"], ["z"], name="lookalike", domain="com.example")
    model.graph.node.insert(0, lookalike)
    assert [n.name for n in an_nodes(model)] == ["layer1/AttentiveNorm"]
    assert [n.name for n in nodes_claiming_attentive_norm(model)] == ["lookalike", "layer1/AttentiveNorm"]


def test_strip_keeps_other_functions_metadata_and_the_input() -> None:
    model = function_form_model()
    other = helper.make_function("com.other", "Twice", ["a"], ["b"], [helper.make_node("Add", ["a", "a"], ["b"])],
                                 [helper.make_opsetid("", 17)])
    model.functions.append(other)
    helper.set_model_props(model, {"an_deploy.source": "test"})
    model.doc_string = "a model"
    before = model.SerializeToString()
    out = strip_an_functions(model)
    assert model.SerializeToString() == before
    assert [(f.domain, f.name) for f in out.functions] == [("com.other", "Twice")]
    assert {p.key: p.value for p in out.metadata_props} == {"an_deploy.source": "test"}
    assert (out.doc_string, out.ir_version) == ("a model", model.ir_version)
    (node,) = an_nodes(out)
    values = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert {k: values[k].decode() for k in PLUGIN_ATTRIBUTES} == PLUGIN_ATTRIBUTES
    assert [a.name for a in node.attribute] == [*spec.ATTRIBUTE_NAMES, *PLUGIN_ATTRIBUTES]


def test_strip_without_plugin_attributes_and_twice() -> None:
    bare = strip_an_functions(function_form_model(), plugin_attributes=False)
    assert [a.name for a in an_nodes(bare)[0].attribute] == list(spec.ATTRIBUTE_NAMES)
    twice = strip_an_functions(strip_an_functions(function_form_model()))
    assert [a.name for a in an_nodes(twice)[0].attribute] == [*spec.ATTRIBUTE_NAMES, *PLUGIN_ATTRIBUTES]
    onnx.checker.check_model(twice, full_check=True)
