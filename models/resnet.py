"""Bottleneck ResNet / ResNeXt with torchvision's module names and every option of AOGNet-v2's training code.

The published AN-ResNets (Attentive Normalization, ECCV 2020; AOGNet-v2 training code) keep the stem, ``bn1``,
``bn3`` and ``downsample`` as BatchNorm and use AN with K = [10, 10, 20, 20] per stage, attention mode 2, only at
each Bottleneck's ``bn2``.

Two norm factories, both ``(channels, stage index) -> module``: ``norm2`` for the norm after each 3x3 conv and
``norm`` for every other norm (the stem's, ``bn1``, ``bn3``, the downsample's and the extra norm after a stage).
The AOGNet-v2 options (``ResNetOptions``) change the stem, the shortcut and the stage ends; the defaults give
torchvision's ResNet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import torch
from torch import nn

# (channels, stage index) -> a norm layer
NormFactory = Callable[[int, int], nn.Module]

STEMS = ("imagenet", "deep", "small")


def batch_norm(channels: int, stage: int) -> nn.Module:
    """A plain ``nn.BatchNorm2d`` (the stage does not matter)."""
    return nn.BatchNorm2d(channels)


@dataclass(frozen=True)
class ResNetOptions:
    """Architecture options of AOGNet-v2's ResNet (its config's ``stem.*`` and ``resnet.*``).

    Attributes:
        stem: "imagenet" (one k x k conv, stride s, then ``bn1``), "deep" (``conv1`` is three 3x3 convs, the
            first of stride 2, with norms and ReLUs between them, then a 2x2 max pool) or "small" (one 3x3
            conv of stride 1, no pool).
        stem_kernel_size: the "imagenet" stem's kernel size (padding (k - 1) // 2).
        stem_stride: the "imagenet" stem's stride.
        stem_maxpool: the "imagenet" stem's 3x3/2 max pool (the original omits it for non-ImageNet datasets).
        groups: groups of each 3x3 conv (ResNeXt).
        width_per_group: bottleneck width per group (64 for ResNet).
        replace_stride_with_dilation: per stage 2..4, a dilated 3x3 conv instead of a stride of 2.
        replace_stride_with_avgpool: the downsample shortcut pools (2x2 average) before a stride-1 1x1 conv.
        extra_norm_ac: each stage ends with one more norm and ReLU (module ``layer<i>.<blocks>``).
    """

    stem: str = "imagenet"
    stem_kernel_size: int = 7
    stem_stride: int = 2
    stem_maxpool: bool = True
    groups: int = 1
    width_per_group: int = 64
    replace_stride_with_dilation: tuple[bool, bool, bool] = (False, False, False)
    replace_stride_with_avgpool: bool = False
    extra_norm_ac: bool = False


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int, downsample: nn.Module | None,
                 norm2: nn.Module, norm: NormFactory = batch_norm, stage: int = 0, groups: int = 1,
                 width_per_group: int = 64, dilation: int = 1) -> None:
        super().__init__()
        width = int(planes * (width_per_group / 64.0)) * groups
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = norm(width, stage)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=dilation, groups=groups, bias=False,
                               dilation=dilation)
        self.bn2 = norm2
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = norm(planes * self.expansion, stage)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """Bottleneck ResNet with 3 or 4 stages; see the module docstring and ``ResNetOptions``."""

    def __init__(self, layers: Sequence[int], norm2: NormFactory = batch_norm, num_classes: int = 1000,
                 widths: Sequence[int] = (64, 128, 256, 512), in_channels: int = 3, stem: str | None = None,
                 norm: NormFactory = batch_norm, options: ResNetOptions | None = None) -> None:
        super().__init__()
        if options is None:
            options = ResNetOptions()
        if stem is not None:
            options = replace(options, stem=stem)
        if options.stem not in STEMS:
            raise ValueError(f"stem must be one of {STEMS}, got {options.stem!r}")
        self.options = options
        self.inplanes = widths[0]
        self.dilation = 1
        self._make_stem(in_channels, norm, options)
        self.relu = nn.ReLU(inplace=True)
        self.num_stages = len(layers)
        dilate = (False, *options.replace_stride_with_dilation)
        for i, (width, blocks) in enumerate(zip(widths, layers, strict=False)):
            stage = self._make_layer(width, blocks, 1 if i == 0 else 2, dilate[i], i, norm2, norm)
            self.add_module(f"layer{i + 1}", stage)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[len(layers) - 1] * Bottleneck.expansion, num_classes)

    def _make_stem(self, in_channels: int, norm: NormFactory, options: ResNetOptions) -> None:
        planes = self.inplanes
        self.maxpool: nn.Module = nn.Identity()
        if options.stem == "imagenet":
            k = options.stem_kernel_size
            self.conv1: nn.Module = nn.Conv2d(in_channels, planes, k, stride=options.stem_stride,
                                              padding=(k - 1) // 2, bias=False)
            if options.stem_maxpool:
                self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        elif options.stem == "deep":
            half = planes // 2
            self.conv1 = nn.Sequential(
                nn.Conv2d(in_channels, half, 3, stride=2, padding=1, bias=False), norm(half, 0), nn.ReLU(inplace=True),
                nn.Conv2d(half, half, 3, stride=1, padding=1, bias=False), norm(half, 0), nn.ReLU(inplace=True),
                nn.Conv2d(half, planes, 3, stride=1, padding=1, bias=False),
            )
            self.maxpool = nn.MaxPool2d(2, stride=2)
        else:
            self.conv1 = nn.Conv2d(in_channels, planes, 3, stride=1, padding=1, bias=False)
        self.bn1 = norm(planes, 0)

    def _make_layer(self, planes: int, blocks: int, stride: int, dilate: bool, stage: int, norm2: NormFactory,
                    norm: NormFactory) -> nn.Sequential:
        opts = self.options
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        outplanes = planes * Bottleneck.expansion
        downsample = None
        if stride != 1 or self.inplanes != outplanes:
            shortcut: list[nn.Module] = []
            conv_stride = stride
            if opts.replace_stride_with_avgpool and stride > 1:
                shortcut.append(nn.AvgPool2d((stride, stride), stride))
                conv_stride = 1
            shortcut += [nn.Conv2d(self.inplanes, outplanes, 1, stride=conv_stride, bias=False), norm(outplanes, stage)]
            downsample = nn.Sequential(*shortcut)
        common = {"norm": norm, "stage": stage, "groups": opts.groups, "width_per_group": opts.width_per_group}
        width = int(planes * (opts.width_per_group / 64.0)) * opts.groups
        layers: list[nn.Module] = [Bottleneck(self.inplanes, planes, stride, downsample, norm2(width, stage),
                                              dilation=previous_dilation, **common)]
        self.inplanes = outplanes
        layers += [Bottleneck(self.inplanes, planes, 1, None, norm2(width, stage), dilation=self.dilation, **common)
                   for _ in range(1, blocks)]
        if opts.extra_norm_ac:
            layers.append(nn.Sequential(norm(outplanes, stage), nn.ReLU(inplace=True)))
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))
