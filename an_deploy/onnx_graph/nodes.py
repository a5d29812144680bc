"""Which nodes and functions of an ONNX model are the ``an_deploy.AttentiveNorm`` op's.

Two different questions, two names:

* :func:`is_attentive_norm_node`: the op itself, ``AttentiveNorm`` in the ``an_deploy`` domain;
* :func:`claims_attentive_norm`: a node that uses the op's name OR its domain -- TensorRT's parser binds a plugin
  by op type alone, so such a node would reach the plugin (or be meant to) even if it is not exactly the op.

The predicates accept an ``onnx.NodeProto``, an ``onnx_ir.Node`` or an ``onnx_graphsurgeon.Node``.
"""

from __future__ import annotations

from typing import TypeAlias

import onnx
import onnx_graphsurgeon as gs
import onnx_ir as ir

from an_deploy import spec

AnyNode: TypeAlias = onnx.NodeProto | ir.Node | gs.Node
AnyFunction: TypeAlias = onnx.FunctionProto | ir.Function | gs.Function


def _op_type(node: AnyNode) -> str:
    return str(node.op if isinstance(node, gs.Node) else node.op_type)


def is_attentive_norm_node(node: AnyNode) -> bool:
    """True for the op itself: op type ``AttentiveNorm`` AND domain ``an_deploy``."""
    return _op_type(node) == spec.OP_NAME and node.domain == spec.DOMAIN


def claims_attentive_norm(node: AnyNode) -> bool:
    """True for a node with the op's type OR the op's domain (what TensorRT's parser could take for the op)."""
    return _op_type(node) == spec.OP_NAME or node.domain == spec.DOMAIN


def is_an_function(function: AnyFunction) -> bool:
    """True for the model-local function that implements ``an_deploy.AttentiveNorm``."""
    return function.name == spec.FUNCTION_NAME and function.domain == spec.DOMAIN


def an_nodes(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    """The ``an_deploy.AttentiveNorm`` nodes of the main graph, in graph order."""
    return [n for n in model.graph.node if is_attentive_norm_node(n)]


def nodes_claiming_attentive_norm(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    """The main-graph nodes that :func:`claims_attentive_norm`, in graph order (exact ones and look-alikes)."""
    return [n for n in model.graph.node if claims_attentive_norm(n)]
