"""Specialise an inlined graph: fold attribute-driven selections so each layer keeps only the ops it uses.

After inlining, the attribute references of the AttentiveNorm function body are constants. The
``onnxscript`` optimizer folds constant expressions and ``If`` nodes on constant conditions; it leaves
``Where`` on a constant scalar condition, which this module resolves, then drops the dead branches.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnx_ir as ir
import onnxscript.optimizer

from an_deploy.export.graph_walk import iter_nodes


def _fold_constant_where(graph: ir.Graph) -> int:
    """Replace ``Where(c, a, b)`` with a constant scalar ``c`` by ``a`` or ``b`` when shapes allow it."""
    folded = 0
    for node in list(graph):
        if node.op_type != "Where" or node.domain not in ("", "ai.onnx") or len(node.inputs) != 3:
            continue
        cond, a, b = node.inputs
        if cond is None or a is None or b is None:
            continue
        tensor = ir.convenience.get_const_tensor(cond)
        if tensor is None:
            continue
        values = np.asarray(tensor.numpy())
        if values.size != 1:
            continue
        chosen = a if bool(values.reshape(())) else b
        out = node.outputs[0]
        if out.is_graph_output() or chosen.is_graph_input() or chosen.is_graph_output():
            continue
        ir.convenience.replace_all_uses_with(out, chosen)
        folded += 1
    return folded


def specialise_graph(model: onnx.ModelProto) -> onnx.ModelProto:
    """Constant-fold, fold constant ``If``/``Where`` selections and remove unused nodes.

    Args:
        model: a model whose AN functions were inlined.

    Returns:
        A new, equivalent model.
    """
    m = ir.from_proto(model)
    for _ in range(3):
        onnxscript.optimizer.optimize_ir(m)
        for fn in m.functions.values():
            _fold_constant_where(fn)
        if not _fold_constant_where(m.graph):
            break
    onnxscript.optimizer.remove_unused_nodes(m)
    out = ir.to_proto(m)
    remove_unused_initializers(out)
    return out


def remove_unused_initializers(model: onnx.ModelProto) -> None:
    """Drop initializers no node (including subgraph nodes) and no graph output uses, in place."""
    used: set[str] = {o.name for o in model.graph.output}
    for node in iter_nodes(model.graph):
        used.update(node.input)
    kept = [i for i in model.graph.initializer if i.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
