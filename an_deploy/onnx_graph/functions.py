"""Strip or inline the model-local ``an_deploy.AttentiveNorm`` function.

A function-form file carries, next to every ``AttentiveNorm`` node, a model-local function of the same
name and domain whose body computes the op with standard ONNX ops. Two consumers need it changed:

* TensorRT (its parser prefers a local function over a plugin): :func:`strip_an_functions` removes the
  function (onnx-graphsurgeon) and the nodes bind the AttentiveNorm plugin.
* Standard-op runtimes: :func:`inline_an_functions` replaces every node by the function body (``onnx_ir``'s
  ``InlinePass``) and specialises it (constant ``If``/``Where`` on attribute values folded away), leaving no
  custom domain.

Both take and return an ``onnx.ModelProto`` and never modify their argument.
"""

from __future__ import annotations

import onnx
import onnx_graphsurgeon as gs
import onnx_ir as ir
import onnx_ir.passes.common as common_passes

from an_deploy import spec
from an_deploy.onnx_graph.nodes import an_nodes, is_an_function, is_attentive_norm_node
from an_deploy.onnx_graph.specialise import fold_selections

# the STRING attributes TensorRT's fallback plugin importer reads to find the plugin creator
PLUGIN_ATTRIBUTES: dict[str, str] = {"plugin_version": spec.PLUGIN_VERSION, "plugin_namespace": spec.PLUGIN_NAMESPACE}
_STANDARD_DOMAINS = ("", "ai.onnx")


class FunctionSurgeryError(ValueError):
    """The model cannot be transformed as asked (for example a custom node is left after inlining)."""


def strip_an_functions(model: onnx.ModelProto, plugin_attributes: bool = True) -> onnx.ModelProto:
    """Remove the local ``an_deploy.AttentiveNorm`` function(s) so the nodes stay custom ops (TensorRT plugin).

    The nodes keep their inputs and the ``spec.ATTRIBUTES``; with ``plugin_attributes`` they also get the
    STRING attributes ``plugin_version`` / ``plugin_namespace`` from ``spec`` that TensorRT's fallback
    plugin importer reads (they are added only here: the function form carries exactly the contract's
    attributes, and a function would otherwise have to declare them). The ``an_deploy`` opset import stays.

    Args:
        model: a function-form (or already stripped) model.
        plugin_attributes: add/overwrite ``plugin_version`` and ``plugin_namespace`` on every AN node, after
            the contract's attributes.

    Returns:
        A new model without the AN functions; other local functions and the model's metadata are kept.
    """
    graph = gs.import_onnx(model)
    graph.functions = [f for f in graph.functions if not is_an_function(f)]
    nodes = [n for n in graph.nodes if is_attentive_norm_node(n)]
    if plugin_attributes:
        for node in nodes:
            for name, value in PLUGIN_ATTRIBUTES.items():
                node.attrs.pop(name, None)  # re-added last: the contract's attributes come first
                node.attrs[name] = value
    imports = list(graph.import_domains or [])
    if nodes and not any(o.domain == spec.DOMAIN for o in imports):
        imports.append(onnx.helper.make_opsetid(spec.DOMAIN, spec.OP_VERSION))
    # no type check: stripping must not refuse a graph whose outputs the producer left untyped
    out = gs.export_onnx(
        graph, do_type_check=False, opset_imports=imports, doc_string=model.doc_string,
        model_version=model.model_version, domain=model.domain,
    )
    onnx.helper.set_model_props(out, {p.key: p.value for p in model.metadata_props})
    return out


def _custom_domain_ops(model: ir.Model) -> list[str]:
    nodes = ir.traversal.RecursiveGraphIterator(model.graph)
    return sorted({f"{n.domain}.{n.op_type}" for n in nodes if n.domain not in _STANDARD_DOMAINS})


def inline_an_functions(model: onnx.ModelProto, specialise: bool = True) -> onnx.ModelProto:
    """Inline the ``an_deploy.AttentiveNorm`` functions: the decomposed, standard-ops-only form.

    Args:
        model: a function-form model (every AN node has its local function).
        specialise: afterwards fold the attribute-driven ``If``/``Where`` selections and drop
            dead nodes, so each layer keeps only the ops its attributes use.

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
    ir_model = ir.from_proto(model)
    common_passes.InlinePass(criteria=is_an_function)(ir_model)
    for key in [k for k, f in ir_model.functions.items() if is_an_function(f)]:
        del ir_model.functions[key]  # the pass drops it once no node calls it; a model may carry it unused
    if specialise:
        fold_selections(ir_model)
    ir_model.opset_imports.pop(spec.DOMAIN, None)
    left = _custom_domain_ops(ir_model)
    if left:
        raise FunctionSurgeryError(f"custom-domain ops left after inlining: {', '.join(left)}")
    return ir.to_proto(ir_model)
