"""A hand-made function-form ONNX model with one AttentiveNorm node (no exporter needed).

The function body is a stand-in (``Y = X * 1``): these models test graph surgery and binding checks,
not the op's math (the exporter's real function bodies are tested through :mod:`an_deploy.export`).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from an_deploy import spec

ATTRS: dict[str, int | float] = spec.resolve_attributes({"num_channels": 4, "num_affine": 2, "attn_hidden": 2})
X_SHAPE: list[int | str] = ["N", 4, 3, 3]


def _attribute(name: str, value: int | float) -> onnx.AttributeProto:
    kind = TensorProto.FLOAT if spec.attribute(name).type is spec.AttrType.FLOAT else None
    return helper.make_attribute(name, float(value) if kind else int(value))


def an_function() -> onnx.FunctionProto:
    one = helper.make_node("Constant", [], ["one"], value_float=1.0)
    body = [one, helper.make_node("Mul", ["X", "one"], ["Y"])]
    return helper.make_function(
        spec.DOMAIN,
        spec.FUNCTION_NAME,
        [t.name for t in spec.INPUTS],
        ["Y"],
        body,
        [helper.make_opsetid("", 17)],
        attributes=list(spec.ATTRIBUTE_NAMES),
    )


def function_form_model(attrs: dict[str, int | float] | None = None) -> onnx.ModelProto:
    """X -> AttentiveNorm (function-backed) -> Y, parameters as float32 initializers of the spec's shapes."""
    attrs = dict(ATTRS if attrs is None else attrs)
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), f"layer1.{name}")
        for name, shape in spec.input_shapes(attrs).items()
    ]
    node = helper.make_node(
        spec.OP_NAME,
        ["x", *(t.name for t in inits)],
        ["y"],
        name="layer1/AttentiveNorm",
        domain=spec.DOMAIN,
    )
    node.attribute.extend(_attribute(k, v) for k, v in attrs.items())
    graph = helper.make_graph(
        [node],
        "an_tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, X_SHAPE)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, X_SHAPE)],
        inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(spec.DOMAIN, spec.OP_VERSION)],
        functions=[an_function()],
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def hand_stripped(model: onnx.ModelProto) -> onnx.ModelProto:
    """What the plugin form must look like, built without the exporter: no function, parser attributes added."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    del out.functions[:]
    for node in out.graph.node:
        if node.op_type == spec.OP_NAME:
            node.attribute.append(helper.make_attribute("plugin_version", spec.PLUGIN_VERSION))
            node.attribute.append(
                helper.make_attribute("plugin_namespace", spec.PLUGIN_NAMESPACE, attr_type=onnx.AttributeProto.STRING)
            )
    return out
