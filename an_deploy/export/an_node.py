"""The ``AttentiveNorm`` node of one folded AN layer, and a one-layer model around it (tests, debugging)."""

from __future__ import annotations

import onnx
import torch
from onnx import helper, numpy_helper

from an_deploy import spec
from an_deploy.export.onnx_function import build_function
from an_deploy.fold import FoldedAN

IR_VERSION = 10  # model-local functions with attribute defaults need IR >= 9; ORT 1.18+ reads IR 10


def node_attributes(attrs: dict[str, int | float]) -> list[onnx.AttributeProto]:
    """The node attributes in ``spec.ATTRIBUTES`` order with the contract's types (INT or FLOAT)."""
    resolved = spec.resolve_attributes(attrs)
    out = []
    for a in spec.ATTRIBUTES:
        value = resolved[a.name]
        out.append(helper.make_attribute(a.name, int(value) if a.type is spec.AttrType.INT else float(value)))
    return out


def make_an_node(x: str, y: str, prefix: str, folded: FoldedAN) -> tuple[onnx.NodeProto, list[onnx.TensorProto]]:
    """One ``AttentiveNorm`` node and its float32 initializers.

    Args:
        x: name of the input tensor.
        y: name of the output tensor.
        prefix: prefix of the initializer names and the node name (for example the module path).
        folded: the layer's folded tensors and attributes.

    Returns:
        The node (inputs in ``spec.INPUTS`` order) and the initializers ``{prefix}.{input name}``.
    """
    tensors = folded.to(torch.float32)
    inits = [numpy_helper.from_array(t.numpy(), f"{prefix}.{name}") for name, t in tensors.items()]
    node = helper.make_node(spec.OP_NAME, [x] + [i.name for i in inits], [y], name=f"{prefix}.AttentiveNorm",
                            domain=spec.DOMAIN)
    node.attribute.extend(node_attributes(folded.attrs))
    return node, inits


def single_layer_model(folded: FoldedAN, opset: int = 18, dynamic: bool = True,
                       shape: tuple[int, int, int, int] | None = None,
                       elem_type: int = onnx.TensorProto.FLOAT) -> onnx.ModelProto:
    """A function-form model holding one AN node: input ``X`` [N, C, H, W] -> output ``Y``.

    Args:
        folded: the layer.
        opset: default-domain opset of the model and the function.
        dynamic: symbolic N, H, W (otherwise ``shape`` must be given).
        shape: static input shape.
        elem_type: ONNX element type of X and Y (FLOAT or FLOAT16).

    Returns:
        The model, with the local ``an_deploy.AttentiveNorm`` function.
    """
    c = int(folded.attrs["num_channels"])
    dims: list[int | str] = ["N", c, "H", "W"] if dynamic or shape is None else list(shape)
    node, inits = make_an_node("X", "Y", "an", folded)
    graph = helper.make_graph(
        [node], "attentive_norm", [helper.make_tensor_value_info("X", elem_type, dims)],
        [helper.make_tensor_value_info("Y", elem_type, dims)], initializer=inits,
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset), helper.make_opsetid(spec.DOMAIN, spec.OP_VERSION)],
        functions=[build_function(opset)], ir_version=IR_VERSION, producer_name="an_deploy",
    )
