"""ResNet with torchvision's module names; AN (when asked) only at each Bottleneck's ``bn2``.

The published AN-ResNets (AN_SPEC.md §2) keep the stem, ``bn1``, ``bn3`` and ``downsample`` as BatchNorm
and use AN with K = [10, 10, 20, 20] per stage, attention mode 2.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

# (channels, stage index) -> the norm after the 3x3 conv of a bottleneck
NormFactory = Callable[[int, int], nn.Module]


def batch_norm(channels: int, stage: int) -> nn.Module:
    return nn.BatchNorm2d(channels)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int, downsample: nn.Module | None,
                 norm2: nn.Module) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = norm2
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """Bottleneck ResNet; ``stem`` "imagenet" (7x7/2 + maxpool) or "small" (3x3/1, for tiny images)."""

    def __init__(self, layers: Sequence[int], norm2: NormFactory = batch_norm, num_classes: int = 1000,
                 widths: Sequence[int] = (64, 128, 256, 512), in_channels: int = 3, stem: str = "imagenet") -> None:
        super().__init__()
        self.inplanes = widths[0]
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, 7, stride=2, padding=3, bias=False)
            self.maxpool: nn.Module = nn.MaxPool2d(3, stride=2, padding=1)
        else:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, 3, stride=1, padding=1, bias=False)
            self.maxpool = nn.Identity()
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        stages = []
        for i, (width, blocks) in enumerate(zip(widths, layers, strict=False)):
            stages.append(self._make_layer(width, blocks, 1 if i == 0 else 2, i, norm2))
        for i, stage in enumerate(stages):
            self.add_module(f"layer{i + 1}", stage)
        self.num_stages = len(stages)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[len(layers) - 1] * Bottleneck.expansion, num_classes)

    def _make_layer(self, planes: int, blocks: int, stride: int, stage: int, norm2: NormFactory) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * Bottleneck.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * Bottleneck.expansion, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * Bottleneck.expansion),
            )
        layers = [Bottleneck(self.inplanes, planes, stride, downsample, norm2(planes, stage))]
        self.inplanes = planes * Bottleneck.expansion
        layers += [Bottleneck(self.inplanes, planes, 1, None, norm2(planes, stage)) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))
