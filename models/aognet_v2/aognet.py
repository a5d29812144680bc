"""AOGNet (AOGNet-v2 ImageNet classifiers, AN and BN) with the module names of the original checkpoints.

Structure (names as in the state dict):

* ``stem``: three 3x3 ConvNormAct (stride 2, 1, 1; widths w/2, w/2, w) and a 2x2 max pooling.
* ``stage{s}``: per block ``stage_{s}_block_{j}_transition`` (1x1 ConvNormAct + average pooling, only where a
  block downsamples and ``when_downsample`` is 1) and the block ``stage_{s}_block_{j}``.
* a block holds one :class:`NodeOp` per grammar node, ``stage_{s}_block_{j}_node_{id}_op`` in the grammar's
  post-order, and ``extra_norm_ac`` (norm + activation on the root's output).
* ``avgpool`` and ``fc``.

Every norm is a BatchNorm2d except, for ``norm_name`` MixtureBatchNorm2d, the norm after the 3x3 conv of the
nodes that span the whole grid (the root Or-node, its Terminal-node and its And-nodes, and their lateral
neighbours); these are ``MixtureBatchNorm2d(c, norm_k[stage], norm_attention_mode)``.

How a block computes (x: the block input; channels split into ``dims`` equal groups, one per grid cell):

* a Terminal-node applies its op to its span of x;
* an And-node concatenates its two parts along channels; an Or-node sums its Terminal-node and And-nodes;
* with ``handle_dbl_cnt`` the residual input of a node scales each child by ``npaths(node) / npaths(child)``
  (a child reached by several paths would otherwise be counted several times);
* a lateral neighbour is added to the op input, and also to the residual input when the two nodes share no
  parent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch import nn

from an_deploy.models.aognet_v2.aog import Grammar, NodeKind, build_grammar
from an_deploy.models.aognet_v2.aognet_ops import ConvNormAct, NodeOp, NormFactory, activation
from an_deploy.models.aognet_v2.aognet_options import AOGNetOptions, parse_options
from an_deploy.models.attentive_norm import MixtureBatchNorm2d

BN_EPS = 1e-5


def batch_norm(channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


def channel_offsets(groups: int, channels: int) -> list[int]:
    """Start offsets of ``groups`` channel groups (sizes differing by at most one, larger first) and the end."""
    sizes = [channels // groups + (1 if g < channels % groups else 0) for g in range(groups)]
    offsets = [0]
    for size in sizes:
        offsets.append(offsets[-1] + size)
    return offsets


@dataclass(frozen=True)
class _Inputs:
    """How a non-terminal node gathers its inputs: ``parts`` (child, residual scale) are concatenated (And) or
    summed (Or); ``laterals`` (child, shares no parent with the node) are added afterwards."""

    parts: tuple[tuple[int, float], ...]
    laterals: tuple[tuple[int, bool], ...]
    scaled: bool


def _node_inputs(grammar: Grammar, node_id: int, handle_dbl_cnt: bool) -> _Inputs:
    node = grammar.nodes[node_id]
    parts, laterals = [], []
    for c in node.children:
        child = grammar.nodes[c]
        if grammar.is_lateral_edge(node, child):
            laterals.append((c, not (node.parents & child.parents)))
        elif child.width > node.width:
            raise ValueError(f"node {node_id}: a child wider than its parent is not supported")
        else:
            parts.append((c, node.npaths / child.npaths))
    scaled = handle_dbl_cnt and any(f != 1.0 for _, f in parts)
    return _Inputs(tuple(parts), tuple(laterals), scaled)


class AOGBlock(nn.Module):
    """One AOG building block (see the module docstring)."""

    def __init__(self, stage: int, block: int, grammar: Grammar, cin: int, cout: int, stride: int,
                 opts: AOGNetOptions, an_norm: NormFactory) -> None:
        super().__init__()
        self.grammar = grammar
        self.in_offsets = channel_offsets(grammar.width, cin)
        self.out_offsets = channel_offsets(grammar.width, cout)
        self.op_names: dict[int, str] = {}
        self.inputs: dict[int, _Inputs] = {}
        make_op = partial(NodeOp, norm=batch_norm, bottleneck_ratio=opts.bottleneck_ratio,
                          drop_rate=opts.drop_rate[stage], act_mode=opts.activation_mode,
                          pool_for_stride=opts.pool_for_stride)
        for node_id in grammar.dfs:
            node = grammar.nodes[node_id]
            out_width = self.out_offsets[node.x2 + 1] - self.out_offsets[node.x1]
            mid_norm = an_norm if node.width == grammar.width else batch_norm
            if node.kind == NodeKind.TERMINAL:
                in_width = self.in_offsets[node.x2 + 1] - self.in_offsets[node.x1]
                op = make_op(in_width, out_width, stride, mid_norm=mid_norm)
            else:
                op = make_op(out_width, out_width, 1, mid_norm=mid_norm)
                self.inputs[node_id] = _node_inputs(grammar, node_id, opts.handle_dbl_cnt)
            self.op_names[node_id] = f"stage_{stage}_block_{block}_node_{node_id}_op"
            self.add_module(self.op_names[node_id], op)
        self.extra_norm_ac = nn.Sequential(batch_norm(cout), activation(opts.activation_mode))

    def _gather(self, node_id: int, out: dict[int, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """The op input and the residual input of an And/Or-node from its children's outputs."""
        spec = self.inputs[node_id]
        tensors = [out[c] for c, _ in spec.parts]
        scaled = [t if f == 1.0 else t.mul(f) for t, (_, f) in zip(tensors, spec.parts, strict=True)]
        if self.grammar.nodes[node_id].kind == NodeKind.AND:
            op = torch.cat(tensors, 1)
            res = torch.cat(scaled, 1) if spec.scaled else None
        else:
            op = tensors[0]
            res = scaled[0] if spec.scaled else None
            for t, s in zip(tensors[1:], scaled[1:], strict=True):
                op = op + t
                res = None if res is None else res + s
        for c, disjoint in spec.laterals:
            if disjoint:
                op = op + out[c]
                res = None if res is None else res + out[c]
        if res is None:
            res = op
        for c, disjoint in spec.laterals:
            if not disjoint:
                op = op + out[c]
        return op, res

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: dict[int, torch.Tensor] = {}
        for node_id in self.grammar.dfs:
            node = self.grammar.nodes[node_id]
            if node.kind == NodeKind.TERMINAL:
                piece = x[:, self.in_offsets[node.x1]:self.in_offsets[node.x2 + 1]].contiguous()
                out[node_id] = getattr(self, self.op_names[node_id])(piece)
        for node_id in self.grammar.dfs:
            if node_id in self.inputs:
                out[node_id] = getattr(self, self.op_names[node_id])(*self._gather(node_id, out))
        return self.extra_norm_ac(out[self.grammar.bfs[0]])


class AOGNet(nn.Module):
    """AOGNet for ImageNet-size inputs; see the module docstring for the structure and names."""

    def __init__(self, opts: AOGNetOptions, num_classes: int) -> None:
        super().__init__()
        widths = opts.filter_list
        act = opts.activation_mode
        self.grammars = [build_grammar(opts.dims[s], lateral=opts.lateral[s],
                                       remove_symmetric=opts.remove_symmetric[s]) for s in range(opts.num_stages)]
        half = widths[0] // 2
        self.stem = nn.Sequential(ConvNormAct(3, half, 3, 2, 1, batch_norm, act),
                                  ConvNormAct(half, half, 3, 1, 1, batch_norm, act),
                                  ConvNormAct(half, widths[0], 3, 1, 1, batch_norm, act),
                                  nn.MaxPool2d(2, 2))
        for s in range(opts.num_stages):
            self.add_module(f"stage{s}", self._stage(s, opts, self.grammars[s]))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1], num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    @staticmethod
    def _stage(s: int, opts: AOGNetOptions, grammar: Grammar) -> nn.Sequential:
        dims, cin, cout_last = opts.dims[s], opts.filter_list[s], opts.filter_list[s + 1]
        step = (cout_last - cin) // opts.blocks[s]
        if step % dims:  # the nearest multiple of dims, the lower one on a tie
            low = step // dims * dims
            step = low if step - low <= low + dims - step else low + dims
        k = opts.norm_k[s]
        an_norm: NormFactory = (partial(MixtureBatchNorm2d, k=k, attention_mode=opts.attention_mode)
                                if opts.an else batch_norm)
        blocks = nn.Sequential()
        for j in range(opts.blocks[s]):
            name = f"stage_{s}_block_{j}"
            stride = opts.stride[s] if j == 0 else 1
            cout = cin + step if j < opts.blocks[s] - 1 else cout_last
            if stride > 1 and opts.when_downsample == 1:
                blocks.add_module(f"{name}_transition", nn.Sequential(
                    ConvNormAct(cin, cin, 1, 1, 0, batch_norm, opts.activation_mode),
                    nn.AvgPool2d(kernel_size=stride, stride=stride)))
                stride = 1
            blocks.add_module(name, AOGBlock(s, j, grammar, cin, cout, stride, opts, an_norm))
            cin = cout
        return blocks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.stem(x)
        for s in range(len(self.grammars)):
            y = getattr(self, f"stage{s}")(y)
        return self.fc(torch.flatten(self.avgpool(y), 1))


def aognet_from_config(cfg: Mapping[str, Any], num_classes: int) -> nn.Module:
    """Build the AOGNet an AOGNet-v2 training config describes (state-dict keys as in its checkpoints).

    Args:
        cfg: the full config as a nested dict with the original defaults merged (``cfg["norm_name"]``,
            ``cfg["aognet"]["filter_list"]``, ``cfg["stem"][...]``, ...).
        num_classes: the classifier's output width.

    Returns:
        The network in eval mode (float32, fresh initialisation).

    Raises:
        ConfigError: a missing option or one the published AOGNet configs do not use.
    """
    return AOGNet(parse_options(cfg), num_classes).eval()
