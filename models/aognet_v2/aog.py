"""The And-Or grammar of an AOGNet building block, on a 1 x W grid of channel groups.

An AOGNet block splits its input channels into W groups (the "primitives" of a 1-D grid) and unfolds every way
of cutting the grid into two parts recursively:

* an Or-node covers a span ``[x1, x2]`` of the grid; its children are one Terminal-node over the same span and
  one And-node per binary cut of the span;
* an And-node cuts its span at ``x1 + left - 1`` into two Or-nodes;
* a Terminal-node reads its span of the block input directly.

Optional extras of the published models: symmetric cuts removed from every Or-node (keep the first or the last
of each mirrored pair) and lateral connections (each And-node and each Or-node gets one neighbour of the same
width as an extra child, ordered along the grid).

Node ids, the order of every child list, the post-order (``dfs``) and topological (``bfs``) orders and the
path counts are exactly those of the original AOGNet-v2 grammar for the supported settings, because the
checkpoint's module names (``stage_0_block_0_node_5_op``) and the module order come from them. In particular
a child list is made the way the original makes it, ``list(set(ids))``, whose order for small ints is
deterministic in CPython.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum


class NodeKind(str, Enum):
    OR = "or"
    AND = "and"
    TERMINAL = "terminal"


@dataclass
class Node:
    """One grammar node.

    Attributes:
        id: position in :attr:`Grammar.nodes`.
        kind: Or, And or Terminal.
        x1, x2: the grid span (inclusive).
        cut: for an And-node, the width of its left part; 0 otherwise.
        children: child ids, in the original order (decomposition first, then lateral ones).
        parents: parent ids (as a set: only intersections are used).
        npaths: the number of root-to-node paths that use no lateral edge.
    """

    id: int
    kind: NodeKind
    x1: int
    x2: int
    cut: int = 0
    children: list[int] = field(default_factory=list)
    parents: frozenset[int] = frozenset()
    npaths: float = 0.0

    @property
    def width(self) -> int:
        return self.x2 - self.x1 + 1


@dataclass
class Grammar:
    """An AOG over a 1 x ``width`` grid with its traversal orders (root id ``bfs[0]``)."""

    width: int
    nodes: list[Node]
    dfs: list[int]
    bfs: list[int]

    @property
    def root(self) -> Node:
        return self.nodes[self.bfs[0]]

    def is_lateral_edge(self, parent: Node, child: Node) -> bool:
        """True for a lateral (same-level) edge: And->And or Or->Or of equal width."""
        same_kind_sideways = parent.kind == child.kind and parent.kind in (NodeKind.OR, NodeKind.AND)
        return same_kind_sideways and parent.width == child.width


def _symmetric_cuts_removed(cuts: list[tuple[int, int]], keep: int) -> list[tuple[int, int]]:
    """Drop mirrored cuts (l, r) ~ (r, l); ``keep`` 1 keeps the first of a pair, 2 the last, 0 keeps all."""
    if keep == 0:
        return cuts
    kept: list[tuple[int, int]] = []
    for left, right in (cuts if keep == 1 else cuts[::-1]):
        if (right, left) not in kept:
            kept.append((left, right))
    return kept


def _unfold(width: int, remove_symmetric: int) -> list[Node]:
    """Breadth-first unfolding from the root Or-node; nodes are shared (an Or-node per span)."""
    nodes = [Node(0, NodeKind.OR, 0, width - 1)]
    index: dict[tuple, int] = {(NodeKind.OR, 0, width - 1): 0}

    def add(kind: NodeKind, x1: int, x2: int, cut: int = 0) -> tuple[bool, int]:
        key = (kind, x1, x2, cut)[: 4 if kind == NodeKind.AND else 3]
        if key in index:
            return False, index[key]
        index[key] = len(nodes)
        nodes.append(Node(len(nodes), kind, x1, x2, cut))
        return True, index[key]

    queue = deque([0])
    while queue:
        node = nodes[queue.popleft()]
        children: list[int] = []
        if node.kind == NodeKind.OR:
            children.append(add(NodeKind.TERMINAL, node.x1, node.x2)[1])
            cuts = [(left, node.width - left) for left in range(1, node.width)]
            for left, _ in _symmetric_cuts_removed(cuts, remove_symmetric):
                created, child = add(NodeKind.AND, node.x1, node.x2, left)
                if created:
                    queue.append(child)
                children.append(child)
        elif node.kind == NodeKind.AND:
            for x1, x2 in ((node.x1, node.x1 + node.cut - 1), (node.x1 + node.cut, node.x2)):
                created, child = add(NodeKind.OR, x1, x2)
                if created:
                    queue.append(child)
                children.append(child)
        node.children = list(set(children))
    return nodes


def _post_order(nodes: list[Node], root: int) -> list[int]:
    order: list[int] = []
    state = [0] * len(nodes)  # 0 new, 1 on the stack, 2 done

    def visit(i: int) -> None:
        state[i] = 1
        for c in nodes[i].children:
            if state[c] == 1:
                raise RuntimeError(f"the grammar has a cycle through node {c}")
            if state[c] == 0:
                visit(c)
        order.append(i)
        state[i] = 2

    visit(root)
    return order


def _topological_order(nodes: list[Node], root: int) -> list[int]:
    """Kahn's order over the nodes reachable from ``root``, children taken in list order."""
    indegree = [0] * len(nodes)
    reached, i = [root], 0
    while i < len(reached):
        for c in nodes[reached[i]].children:
            indegree[c] += 1
            if c not in reached:
                reached.append(c)
        i += 1
    order, i = [root], 0
    while i < len(order):
        for c in nodes[order[i]].children:
            indegree[c] -= 1
            if indegree[c] == 0:
                order.append(c)
        i += 1
    return order


def _add_lateral_chain(nodes: list[Node], kind: NodeKind, direction: int) -> None:
    """Link the nodes of ``kind`` and equal width into a chain along the grid (one extra child each).

    ``direction`` 1 makes each node the parent of the next one along the grid, 0 of the previous one. A width
    that follows a width with fewer than two such nodes takes the other direction (as the original does).
    """
    widths = sorted({n.width for n in nodes if n.kind == kind})
    flip = False
    for width in widths:
        same = [n for n in nodes if n.kind == kind and n.width == width]
        if len(same) < 2:
            flip = True
            continue
        this_direction = 1 - direction if flip else direction
        flip = False
        if kind == NodeKind.AND:
            def left_end(n: Node) -> int:
                first = nodes[n.children[0]]
                return (first if first.x1 == n.x1 else nodes[n.children[1]]).x2

            ordered = sorted(same, key=lambda n: (left_end(n), n.x1))
        else:
            ordered = sorted(same, key=lambda n: n.x1)
        pairs = (zip(ordered[:-1], ordered[1:], strict=True) if this_direction == 1
                 else zip(ordered[:0:-1], ordered[-2::-1], strict=True))
        for parent, child in pairs:
            if child.id not in parent.children:
                parent.children.append(child.id)


def _count_paths(grammar: Grammar) -> None:
    """``npaths`` of every node: root-to-node paths without lateral edges (Or->Terminal edges always count)."""
    for target in grammar.nodes:
        memo: dict[int, float] = {}

        def paths(i: int, target_id: int = target.id, memo: dict[int, float] = memo) -> float:
            if i == target_id:
                return 1.0
            if i not in memo:
                node = grammar.nodes[i]
                memo[i] = sum(paths(c) for c in node.children
                              if not grammar.is_lateral_edge(node, grammar.nodes[c]))
            return memo[i]

        target.npaths = paths(grammar.bfs[0])


def build_grammar(width: int, max_split: int = 2, lateral: bool = False, remove_symmetric: int = 0) -> Grammar:
    """Build the AOG of one AOGNet stage (grid 1 x ``width``, every Or-node with its Terminal-node).

    Args:
        width: number of channel groups (the config's ``aognet.dims[stage]``), >= 1.
        max_split: children of an And-node; only binary cuts (2) are supported.
        lateral: add the lateral And/Or chains (``aognet.extra_node_hierarchy`` 4).
        remove_symmetric: ``aognet.remove_symmetric_children_of_or_node``: 0 keeps every cut, 1 the first and
            2 the last of each mirrored pair.

    Returns:
        The grammar with ids, child lists, parents, ``dfs``/``bfs`` orders and path counts.

    Raises:
        ValueError: an unsupported setting.
    """
    if width < 1:
        raise ValueError(f"grid width must be >= 1, got {width}")
    if max_split != 2:
        raise ValueError(f"only binary splits (max_split 2) are supported, got {max_split}")
    if remove_symmetric not in (0, 1, 2):
        raise ValueError(f"remove_symmetric must be 0, 1 or 2, got {remove_symmetric}")
    nodes = _unfold(width, remove_symmetric)
    if lateral:
        _add_lateral_chain(nodes, NodeKind.AND, direction=1)
        _add_lateral_chain(nodes, NodeKind.OR, direction=0)
    parents: list[set[int]] = [set() for _ in nodes]
    for n in nodes:
        for c in n.children:
            parents[c].add(n.id)
    for n, p in zip(nodes, parents, strict=True):
        n.parents = frozenset(p)
    grammar = Grammar(width, nodes, _post_order(nodes, 0), _topological_order(nodes, 0))
    _count_paths(grammar)
    return grammar
