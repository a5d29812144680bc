"""MobileNetV2 with torchvision's module names; AN (when asked) after each depthwise 3x3 conv.

The published AN-MobileNetV2 (AOGNet-v2 training code) uses K = [5, 5, 5, 5, 10, 10, 10] per setting row, attention
mode 2; the stem's, each expansion's, each projection's and the last conv's norms stay BatchNorm. At width 1.0 the
channel counts equal the original's (which rounds with ``int(c * width_mult)`` where this uses ``make_divisible``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

# (channels, setting row index) -> the norm after a depthwise conv
NormFactory = Callable[[int, int], nn.Module]

SETTINGS = (  # expand ratio t, output channels c, repeats n, stride s
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def batch_norm(channels: int, row: int) -> nn.Module:
    return nn.BatchNorm2d(channels)


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to a multiple of ``divisor``, never below 90% of ``v`` (the TF rule)."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class ConvBNReLU(nn.Sequential):
    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1,
                 norm: nn.Module | None = None) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
            norm if norm is not None else nn.BatchNorm2d(cout),
            nn.ReLU6(inplace=True),
        )


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand_ratio: int, dw_norm: nn.Module) -> None:
        super().__init__()
        hidden = int(round(cin * expand_ratio))
        self.use_res_connect = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvBNReLU(cin, hidden, kernel=1))
        layers += [
            ConvBNReLU(hidden, hidden, stride=stride, groups=hidden, norm=dw_norm),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, dw_norm: NormFactory = batch_norm, num_classes: int = 1000, width_mult: float = 1.0) -> None:
        super().__init__()
        cin = make_divisible(32 * width_mult)
        last = make_divisible(1280 * max(1.0, width_mult))
        features: list[nn.Module] = [ConvBNReLU(3, cin, stride=2)]
        for row, (t, c, n, s) in enumerate(SETTINGS):
            cout = make_divisible(c * width_mult)
            for i in range(n):
                hidden = int(round(cin * t))
                features.append(InvertedResidual(cin, cout, s if i == 0 else 1, t, dw_norm(hidden, row)))
                cin = cout
        features.append(ConvBNReLU(cin, last, kernel=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))
