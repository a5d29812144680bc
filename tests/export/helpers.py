"""Shared test helpers: one-layer and every-layer models, closeness check, ORT session."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import helper, numpy_helper

from an_deploy import spec
from an_deploy.export.onnx_function import IR_VERSION, build_function
from an_deploy.fold import FoldedAN
from tests.an_layers import C


def node_attributes(attrs: dict[str, int | float]) -> list[onnx.AttributeProto]:
    """The node attributes in ``spec.ATTRIBUTES`` order with the contract's types (defaults filled in)."""
    resolved = spec.resolve_attributes(attrs)
    return [
        helper.make_attribute(a.name, int(resolved[a.name]) if a.type is spec.AttrType.INT else float(resolved[a.name]))
        for a in spec.ATTRIBUTES
    ]


def make_an_node(x: str, y: str, prefix: str, folded: FoldedAN) -> tuple[onnx.NodeProto, list[onnx.TensorProto]]:
    """One ``AttentiveNorm`` node (inputs in ``spec.INPUTS`` order), its float32 initializers ``{prefix}.{input}``."""
    tensors = folded.to(torch.float32)
    inits = [numpy_helper.from_array(t.numpy(), f"{prefix}.{name}") for name, t in tensors.items()]
    node = helper.make_node(spec.OP_NAME, [x] + [i.name for i in inits], [y], name=f"{prefix}.AttentiveNorm",
                            domain=spec.DOMAIN)
    node.attribute.extend(node_attributes(folded.attrs))
    return node, inits


def single_layer_model(folded: FoldedAN, opset: int = 18) -> onnx.ModelProto:
    """A function-form model holding one AN node: input ``X`` [N, C, H, W] (N, H, W symbolic) -> output ``Y``."""
    dims: list[int | str] = ["N", int(folded.attrs["num_channels"]), "H", "W"]
    node, inits = make_an_node("X", "Y", "an", folded)
    graph = helper.make_graph(
        [node], "attentive_norm", [helper.make_tensor_value_info("X", onnx.TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("Y", onnx.TensorProto.FLOAT, dims)], initializer=inits,
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset), helper.make_opsetid(spec.DOMAIN, spec.OP_VERSION)],
        functions=[build_function(opset)], ir_version=IR_VERSION, producer_name="an_deploy",
    )


def multi_layer_model(folded: dict[str, FoldedAN], opset: int = 18) -> onnx.ModelProto:
    """One model, one AN node per layer config, all reading X [N, C, H, W]; output ``Y_<name>`` each."""
    nodes, inits, outputs = [], [], []
    for name, f in folded.items():
        node, tensors = make_an_node("X", f"Y_{name}", name, f)
        nodes.append(node)
        inits += tensors
        outputs.append(helper.make_tensor_value_info(f"Y_{name}", onnx.TensorProto.FLOAT, ["N", C, "H", "W"]))
    graph = helper.make_graph(nodes, "all_layers",
                              [helper.make_tensor_value_info("X", onnx.TensorProto.FLOAT, ["N", C, "H", "W"])],
                              outputs, initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset),
                                                   helper.make_opsetid(spec.DOMAIN, spec.OP_VERSION)],
                             functions=[build_function(opset)], ir_version=IR_VERSION)


def session(model: onnx.ModelProto) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def assert_close(out: np.ndarray | torch.Tensor, ref: np.ndarray | torch.Tensor, atol: float, rtol: float,
                 what: str = "") -> float:
    """Assert ``|out - ref| <= atol + rtol * |ref|``; returns the max abs difference."""
    a = torch.as_tensor(np.asarray(out)).to(torch.float64)
    b = torch.as_tensor(np.asarray(ref)).to(torch.float64)
    torch.testing.assert_close(a, b, atol=atol, rtol=rtol, msg=lambda m: f"{what}: {m}")
    return float((a - b).abs().max())
