"""The layers an AOGNet is made of, with the AOGNet-v2 module names (``conv_norm``, ``conv_norm_ac_1``, ...).

* :class:`ConvNorm`: [AvgPool2d when a stride is replaced by pooling] -> Conv2d (no bias) -> norm [-> Dropout2d],
  all in one ``conv_norm`` Sequential (so the conv is ``conv_norm.0`` or, after a pooling, ``conv_norm.1``).
* :class:`ConvNormAct`: a :class:`ConvNorm` named ``conv_norm`` followed by the activation.
* :class:`NodeOp`: the operator of every grammar node, a bottleneck 1x1 -> 3x3 -> 1x1 with a residual input that
  may differ from the main input (And/Or-nodes pass the sum of their lateral inputs there).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

# channels -> the norm layer
NormFactory = Callable[[int], nn.Module]


def activation(mode: int) -> nn.Module:
    """The config's ``activation_mode``: 1 LeakyReLU, 2 ReLU6, anything else ReLU (all in place)."""
    if mode == 1:
        return nn.LeakyReLU(inplace=True)
    if mode == 2:
        return nn.ReLU6(inplace=True)
    return nn.ReLU(inplace=True)


def round_half_up(x: float) -> int:
    """The rounding of the original channel arithmetic (x >= 0): fractions of one half or more round up."""
    return int(x) if x - int(x) < 0.5 else int(x) + 1


class ConvNorm(nn.Module):
    """Conv2d (no bias) and a norm, optionally after an average pooling that replaces the stride."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int, padding: int, norm: NormFactory,
                 drop_rate: float = 0.0, pool_for_stride: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if stride > 1 and pool_for_stride:
            layers.append(nn.AvgPool2d(kernel_size=stride, stride=stride))
            stride = 1
        layers.append(nn.Conv2d(cin, cout, kernel_size, stride=stride, padding=padding, bias=False))
        layers.append(norm(cout))
        if drop_rate > 0.0:
            layers.append(nn.Dropout2d(p=drop_rate, inplace=True))
        self.conv_norm = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_norm(x)


class ConvNormAct(nn.Module):
    """:class:`ConvNorm` then the activation."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int, padding: int, norm: NormFactory,
                 act_mode: int = 0) -> None:
        super().__init__()
        self.conv_norm = ConvNorm(cin, cout, kernel_size, stride, padding, norm)
        self.ac = activation(act_mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ac(self.conv_norm(x))


class NodeOp(nn.Module):
    """Bottleneck node operator: ``act(conv_norm_3(conv_norm_ac_2(conv_norm_ac_1(x))) + shortcut(res))``.

    Only the norm after the 3x3 conv (``mid_norm``) can be AN; the others are ``norm``. The bottleneck width is
    ``max(4, round(cout * bottleneck_ratio))``; a shortcut ConvNorm exists when the width or the stride changes.
    """

    def __init__(self, cin: int, cout: int, stride: int, norm: NormFactory, mid_norm: NormFactory,
                 bottleneck_ratio: float = 0.25, drop_rate: float = 0.0, act_mode: int = 0,
                 pool_for_stride: bool = True) -> None:
        super().__init__()
        mid = max(4, round_half_up(cout * bottleneck_ratio))
        self.conv_norm_ac_1 = ConvNormAct(cin, mid, 1, 1, 0, norm, act_mode)
        self.conv_norm_ac_2 = ConvNormAct(mid, mid, 3, stride, 1, mid_norm, act_mode)
        self.conv_norm_3 = ConvNorm(mid, cout, 1, 1, 0, norm, drop_rate=drop_rate)
        self.shortcut: ConvNorm | None = None
        if cin != cout or stride > 1:
            self.shortcut = ConvNorm(cin, cout, 1, stride, 0, norm, pool_for_stride=pool_for_stride)
        self.ac = activation(act_mode)

    def forward(self, x: torch.Tensor, res: torch.Tensor | None = None) -> torch.Tensor:
        residual = x if res is None else res
        if self.shortcut is not None:
            residual = self.shortcut(residual)
        y = self.conv_norm_3(self.conv_norm_ac_2(self.conv_norm_ac_1(x)))
        return self.ac(y + residual)
