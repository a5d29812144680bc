"""Prepare a function-form ONNX file for TensorRT's ONNX parser, and check how its AN nodes will bind.

TensorRT's parser binds a node by a built-in importer, else a model-local function of that name, else the
plugin registry (onnx-tensorrt's order), so a local function wins over a plugin with the same name:

* ``plugin``: strip the local ``an_deploy.AttentiveNorm`` function (``an_deploy.onnx_graph`` does the surgery
  with onnx-graphsurgeon and adds the ``plugin_version``/``plugin_namespace`` STRING attributes the parser
  reads), then check that each node is exactly what the plugin creator expects (:func:`binding_errors`).
* ``native``: inline the function into standard ops, the baseline the plugin must beat.

The checks look at every node that :func:`~an_deploy.onnx_graph.nodes.claims_attentive_norm` (the op's type OR
its domain), so a look-alike in another domain, which the parser would still bind by type, is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import onnx
from onnx import AttributeProto, TensorProto, helper

from an_deploy import spec
from an_deploy.errors import UserError
from an_deploy.onnx_file import checker_error
from an_deploy.onnx_graph.functions import (
    PLUGIN_ATTRIBUTES,
    FunctionSurgeryError,
    inline_an_functions,
    strip_an_functions,
)
from an_deploy.onnx_graph.nodes import is_attentive_norm_node, nodes_claiming_attentive_norm
from an_deploy.trt import AnImpl

_ONNX_TYPE = {spec.AttrType.INT: AttributeProto.INT, spec.AttrType.FLOAT: AttributeProto.FLOAT}


class OnnxPrepError(UserError):
    """The model cannot be prepared, or its AttentiveNorm nodes would not bind as intended."""


@dataclass(frozen=True)
class PreparedModel:
    model: onnx.ModelProto
    impl: AnImpl
    an_nodes: int  # AttentiveNorm nodes bound to the plugin (plugin) or inlined (native)


def _node_errors(node: onnx.NodeProto, initializers: dict[str, TensorProto]) -> list[str]:
    where = f"node {node.name or '(unnamed)'}"
    if not is_attentive_norm_node(node):
        return [f"{where}: {node.domain or 'ai.onnx'}.{node.op_type} is not {spec.DOMAIN}.{spec.OP_NAME}"]
    errors: list[str] = []
    attrs = {a.name: a for a in node.attribute}
    expected = set(spec.ATTRIBUTE_NAMES) | set(PLUGIN_ATTRIBUTES)
    if set(attrs) != expected:
        missing, extra = sorted(expected - set(attrs)), sorted(set(attrs) - expected)
        errors.append(f"{where}: attributes differ from spec.ATTRIBUTES (missing {missing}, unexpected {extra})")
    for a in spec.ATTRIBUTES:
        if a.name in attrs and attrs[a.name].type != _ONNX_TYPE[a.type]:
            got = AttributeProto.AttributeType.Name(attrs[a.name].type)
            errors.append(f"{where}: attribute {a.name} is {got}, the plugin field is {a.type.value}")
    for name, value in PLUGIN_ATTRIBUTES.items():
        attr = attrs.get(name)
        if attr is not None and (attr.type != AttributeProto.STRING or attr.s.decode() != value):
            errors.append(f"{where}: {name} must be the STRING {value!r}, got {helper.get_attribute_value(attr)!r}")
    if errors:
        return errors
    values = {a.name: helper.get_attribute_value(attrs[a.name]) for a in spec.ATTRIBUTES}
    bad = spec.attribute_errors(values)
    if bad:
        return [f"{where}: {e}" for e in bad]
    if len(node.input) != len(spec.INPUTS) or not all(node.input):
        errors.append(
            f"{where}: needs {len(spec.INPUTS)} non-empty inputs {[t.name for t in spec.INPUTS]}, got "
            f"{list(node.input)}"
        )
    if len(node.output) != len(spec.OUTPUTS) or not all(node.output):
        errors.append(f"{where}: needs exactly one output, got {list(node.output)}")
    if errors:
        return errors
    for tensor, name in zip(spec.PARAM_INPUTS, node.input[1:], strict=True):
        init = initializers.get(name)
        want = spec.input_shapes(values)[tensor.name]
        if init is None:
            continue  # computed in the graph: the parser passes it as a tensor, checked by the plugin at build time
        if init.data_type != TensorProto.FLOAT:
            dtype = TensorProto.DataType.Name(init.data_type)
            errors.append(f"{where}: {tensor.name} ({name}) must be float32, got {dtype}")
        if tuple(init.dims) != want:
            errors.append(f"{where}: {tensor.name} ({name}) has shape {tuple(init.dims)}, expected {want}")
    return errors


def binding_errors(model: onnx.ModelProto) -> list[str]:
    """Every reason an AN node of a stripped model would not bind to the plugin exactly as ``spec.py`` says.

    Checked: no model-local AttentiveNorm function (the parser would inline it), no function left that no
    node calls, each AN node ``an_deploy.AttentiveNorm`` with exactly the spec's attributes and types plus the
    parser's ``plugin_version``/``plugin_namespace``, valid attribute values, all 11 inputs and one output,
    float32 parameter initializers of the spec's shapes, the domain imported, and ``onnx.checker`` clean.
    """
    errors: list[str] = []
    for f in model.functions:
        if f.name == spec.FUNCTION_NAME:  # the parser matches a local function by name alone
            errors.append(f"model-local function {f.domain}.{f.name} is still present: the parser would inline it")
    called = {(n.domain, n.op_type) for n in model.graph.node} | {
        (n.domain, n.op_type) for f in model.functions for n in f.node
    }
    errors += [
        f"function {f.domain}.{f.name} is called by no node"
        for f in model.functions
        if (f.domain, f.name) not in called
    ]
    nodes = nodes_claiming_attentive_norm(model)
    if nodes and spec.DOMAIN not in {o.domain for o in model.opset_import}:
        errors.append(f"the model does not import the {spec.DOMAIN!r} domain")
    initializers = {t.name: t for t in model.graph.initializer}
    for node in nodes:
        errors += _node_errors(node, initializers)
    checker = checker_error(model)
    if checker is not None:
        errors.append(f"onnx.checker: {checker}")
    return errors


def native_errors(model: onnx.ModelProto) -> list[str]:
    """Every reason an inlined model is not a plain standard-op graph (AN nodes or AN functions left)."""
    left = nodes_claiming_attentive_norm(model)
    errors = [f"node {n.name or '(unnamed)'} is still {n.domain}.{n.op_type}" for n in left]
    errors += [f"function {f.domain}.{f.name} is still present" for f in model.functions if f.domain == spec.DOMAIN]
    checker = checker_error(model)
    if checker is not None:
        errors.append(f"onnx.checker: {checker}")
    return errors


def prepare(model: onnx.ModelProto, impl: AnImpl) -> PreparedModel:
    """The graph TensorRT should parse for ``impl`` (the input model is not modified).

    Raises:
        OnnxPrepError: the result would not bind as intended (every reason in one message).
    """
    count = len(nodes_claiming_attentive_norm(model))
    try:
        out = strip_an_functions(model) if impl is AnImpl.PLUGIN else inline_an_functions(model)
    except FunctionSurgeryError as e:
        raise OnnxPrepError(f"cannot prepare the model for --an-impl {impl.value}: {e}") from None
    errors = binding_errors(out) if impl is AnImpl.PLUGIN else native_errors(out)
    if errors:
        raise OnnxPrepError(f"cannot prepare the model for --an-impl {impl.value}: " + "; ".join(errors))
    return PreparedModel(out, impl, count)
