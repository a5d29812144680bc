"""Specialise an inlined graph: fold attribute-driven selections so each layer keeps only the ops it uses.

After inlining, the attribute references of the AttentiveNorm function body are constants. The
``onnxscript`` optimizer folds constant expressions and ``If`` nodes on constant conditions; it leaves
``Where`` on a constant scalar condition, which this module resolves; ``onnx_ir``'s
``RemoveUnusedNodesPass`` then drops the dead nodes and the initializers nothing reads any more.
"""

from __future__ import annotations

import numpy as np
import onnx_ir as ir
import onnx_ir.passes.common as common_passes
import onnxscript.optimizer

_MAX_ROUNDS = 3  # a folded Where can make an If constant and vice versa; two rounds suffice for the AN body


def _fold_constant_where(graph: ir.Graph | ir.Function) -> int:
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


def _remove_initializers_read_by_dead_branches(model: ir.Model) -> None:
    """Drop initializers whose only readers sit in the branches of ``If`` nodes the optimizer removed.

    A removed ``If`` keeps its branch graphs, and their nodes still count as uses of the outer values, so
    ``RemoveUnusedNodesPass`` keeps the attribute constants only a discarded branch read.
    """
    live = frozenset(ir.traversal.RecursiveGraphIterator(model.graph))
    for name, value in list(model.graph.initializers.items()):
        if value.is_graph_input() or value.is_graph_output():
            continue
        if not any(use.node in live for use in value.uses()):
            del model.graph.initializers[name]


def fold_selections(model: ir.Model) -> None:
    """Constant-fold, fold constant ``If``/``Where`` selections and remove unused nodes and initializers, in place.

    Args:
        model: a model whose AN functions were inlined.
    """
    for _ in range(_MAX_ROUNDS):
        onnxscript.optimizer.optimize_ir(model)
        for fn in model.functions.values():
            _fold_constant_where(fn)
        if not _fold_constant_where(model.graph):
            break
    common_passes.RemoveUnusedNodesPass()(model)
    _remove_initializers_read_by_dead_branches(model)
