"""Reusable graph functions over the model-local ``an_deploy.AttentiveNorm`` ONNX function.

A function-form file carries, next to every ``AttentiveNorm`` node, a model-local function of the same
name and domain whose body computes the op with standard ONNX ops. Two consumers need it changed:

* TensorRT (docs/attentive_norm.md, section 4): its parser prefers a local function over a plugin, so
  :func:`strip_an_functions` removes the function and the nodes bind the AttentiveNorm plugin.
* Standard-op runtimes: :func:`inline_an_functions` replaces every node by the function body and
  specialises it (constant ``If``/``Where`` on attribute values folded away), leaving no custom domain.

Both take and return an ``onnx.ModelProto`` and never modify their argument.
"""

from __future__ import annotations

import onnx
import onnx.inliner

from an_deploy import spec
from an_deploy.export.graph_walk import iter_nodes

PLUGIN_ATTRIBUTES: dict[str, str] = {"plugin_version": spec.PLUGIN_VERSION, "plugin_namespace": spec.PLUGIN_NAMESPACE}


class FunctionSurgeryError(ValueError):
    """The model cannot be transformed as asked (for example a custom node is left after inlining)."""


def is_an_node(node: onnx.NodeProto) -> bool:
    """True for an ``AttentiveNorm`` node of the ``an_deploy`` domain."""
    return node.op_type == spec.OP_NAME and node.domain == spec.DOMAIN


def is_an_function(function: onnx.FunctionProto) -> bool:
    """True for the model-local function that implements ``an_deploy.AttentiveNorm``."""
    return function.name == spec.FUNCTION_NAME and function.domain == spec.DOMAIN


def an_nodes(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    """The ``AttentiveNorm`` nodes of the main graph, in graph order."""
    return [n for n in model.graph.node if is_an_node(n)]


def _copy(model: onnx.ModelProto) -> onnx.ModelProto:
    out = onnx.ModelProto()
    out.CopyFrom(model)
    return out


def strip_an_functions(model: onnx.ModelProto, plugin_attributes: bool = True) -> onnx.ModelProto:
    """Remove the local ``an_deploy.AttentiveNorm`` function(s) so the nodes stay custom ops (TensorRT plugin).

    The nodes keep their inputs and the ``spec.ATTRIBUTES``; with ``plugin_attributes`` they also get the
    STRING attributes ``plugin_version`` / ``plugin_namespace`` from ``spec`` that TensorRT's fallback
    plugin importer reads (they are added only here: the function form carries exactly the contract's
    attributes, and a function would otherwise have to declare them). The ``an_deploy`` opset import stays.

    Args:
        model: a function-form (or already stripped) model.
        plugin_attributes: add/overwrite ``plugin_version`` and ``plugin_namespace`` on every AN node.

    Returns:
        A new model without the AN functions; other local functions are kept.
    """
    out = _copy(model)
    kept = [f for f in out.functions if not is_an_function(f)]
    del out.functions[:]
    out.functions.extend(kept)
    if plugin_attributes:
        for node in an_nodes(out):
            others = [a for a in node.attribute if a.name not in PLUGIN_ATTRIBUTES]
            del node.attribute[:]
            node.attribute.extend(others)
            node.attribute.extend(onnx.helper.make_attribute(k, v) for k, v in PLUGIN_ATTRIBUTES.items())
    if not any(o.domain == spec.DOMAIN for o in out.opset_import) and an_nodes(out):
        out.opset_import.append(onnx.helper.make_opsetid(spec.DOMAIN, spec.OP_VERSION))
    return out


def _custom_domain_ops(model: onnx.ModelProto) -> list[str]:
    return sorted({f"{n.domain}.{n.op_type}" for n in iter_nodes(model.graph) if n.domain not in ("", "ai.onnx")})


def inline_an_functions(model: onnx.ModelProto, specialise: bool = True) -> onnx.ModelProto:
    """Inline the ``an_deploy.AttentiveNorm`` functions: the decomposed, standard-ops-only form.

    Args:
        model: a function-form model (every AN node has its local function).
        specialise: afterwards fold the attribute-driven ``If``/``Where`` selections and drop dead
            nodes (``onnxscript`` optimizer), so each layer keeps only the ops its attributes use.

    Returns:
        A new model with no ``an_deploy`` node, function or opset import.

    Raises:
        FunctionSurgeryError: AN nodes without a local function to inline (a stripped model), or a
            custom-domain op left after inlining.
    """
    if an_nodes(model) and not any(is_an_function(f) for f in model.functions):
        raise FunctionSurgeryError(
            "the model has AttentiveNorm nodes but no local an_deploy.AttentiveNorm function to inline "
            "(was it stripped for TensorRT?); re-export it in function form"
        )
    out = onnx.inliner.inline_selected_functions(model, [(spec.DOMAIN, spec.FUNCTION_NAME)], exclude=False)
    kept = [f for f in out.functions if not is_an_function(f)]
    del out.functions[:]
    out.functions.extend(kept)
    if specialise:
        from an_deploy.export.specialise import specialise_graph

        out = specialise_graph(out)
    imports = [o for o in out.opset_import if o.domain != spec.DOMAIN]
    del out.opset_import[:]
    out.opset_import.extend(imports)
    left = _custom_domain_ops(out)
    if left:
        raise FunctionSurgeryError(f"custom-domain ops left after inlining: {', '.join(left)}")
    return out
