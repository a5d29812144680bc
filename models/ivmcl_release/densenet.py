"""iVMCL-Release's ``DenseNet`` (BC) with the authors' module names.

``stem`` is the authors' ``Stem`` (``conv1`` = mmcv ConvModule: ``conv``, ``bn``, ReLU, then a 3x3/2 max pool)
or ``DeepStem``; ``layer{i+1}`` = (dense block, transition) for every block but the last, which ends with the
final norm and a ReLU. A dense layer's norms are named by the mmcv rule (``bn1``/``AttnBN2d1`` before the 1x1
conv, ``bn2``/``AttnBN2d2`` before the 3x3 conv); the transition's is ``bn``/``AttnBN2d``. An AN config gets
block i's K from ``num_affine_trans[i]`` (the final norm: the last). The published DenseNet-121-AN uses AN at
``norm_cfg2``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from an_deploy.models.ivmcl_release.norms import BN_CFG, NormCfg, build_norm, check_norm_cfg, with_k

# depth -> (growth rate, layers per block, stem width)
ARCH_SETTINGS: dict[int, tuple[int, tuple[int, ...], int]] = {
    121: (32, (6, 12, 24, 16), 64),
    161: (48, (6, 12, 36, 24), 96),
    169: (32, (6, 12, 32, 32), 64),
    201: (32, (6, 12, 48, 32), 64),
}
STEM_TYPES = ("Stem", "DeepStem")


class ConvModule(nn.Module):
    """mmcv's ConvModule as the stems use it: conv (no bias), BatchNorm ``bn``, ReLU."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel_size, stride, (kernel_size - 1) // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.activate = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activate(self.bn(self.conv(x)))


class Stem(nn.Module):
    """``Stem``: 7x7/2 ConvModule + 3x3/2 max pool; ``DeepStem``: three 3x3 ConvModules + 2x2 max pool."""

    def __init__(self, stem_type: str, cin: int, planes: int) -> None:
        super().__init__()
        if stem_type == "Stem":
            self.conv1: nn.Module = ConvModule(cin, planes, 7, 2)
            self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        elif stem_type == "DeepStem":
            mid = planes // 2
            self.conv1 = nn.Sequential(ConvModule(cin, mid, 3, 2), ConvModule(mid, mid, 3, 1),
                                       ConvModule(mid, planes, 3, 1))
            self.maxpool1 = nn.MaxPool2d(2, 2)
        else:
            raise ValueError(f"unsupported stem_type {stem_type!r}; supported: {', '.join(STEM_TYPES)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.maxpool1(self.conv1(x))


class DenseLayer(nn.Module):
    def __init__(self, cin: int, growth_rate: int, bn_size: int, norm_cfg1: NormCfg, norm_cfg2: NormCfg) -> None:
        super().__init__()
        self.norm1_name, norm1 = build_norm(norm_cfg1, cin, 1)
        self.norm2_name, norm2 = build_norm(norm_cfg2, bn_size * growth_rate, 2)
        self.add_module(self.norm1_name, norm1)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(cin, bn_size * growth_rate, 1, 1, bias=False)
        self.add_module(self.norm2_name, norm2)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, 3, 1, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(self.relu1(getattr(self, self.norm1_name)(x)))
        return self.conv2(self.relu2(getattr(self, self.norm2_name)(out)))


class DenseBlock(nn.ModuleDict):
    def __init__(self, num_layers: int, cin: int, bn_size: int, growth_rate: int, norm_cfg1: NormCfg,
                 norm_cfg2: NormCfg) -> None:
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}",
                            DenseLayer(cin + i * growth_rate, growth_rate, bn_size, norm_cfg1, norm_cfg2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.values():
            features.append(layer(torch.cat(features, 1)))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    def __init__(self, cin: int, cout: int, norm_cfg: NormCfg) -> None:
        super().__init__()
        name, norm = build_norm(norm_cfg, cin)
        self.add_module(name, norm)
        self.add_module("relu", nn.ReLU(inplace=True))
        self.add_module("conv", nn.Conv2d(cin, cout, 1, 1, bias=False))
        self.add_module("pool", nn.AvgPool2d(kernel_size=2, stride=2))


class DenseNet(nn.Module):
    """DenseNet-BC classifier as iVMCL-Release builds it.

    Args:
        depth: 121, 161, 169 or 201.
        num_classes: classifier outputs (> 0).
        in_channels: image channels.
        stem_type: ``"Stem"`` or ``"DeepStem"``.
        bn_size: bottleneck width factor.
        norm_cfg_transition, norm_cfg1, norm_cfg2, norm_cfg_final: norm configs (BN when ``None``).
        num_affine_trans: K per dense block for AN configs.

    Raises:
        ValueError: unknown depth or stem, too few K values, or a bad norm config.
    """

    def __init__(self, depth: int, num_classes: int = 1000, in_channels: int = 3, stem_type: str = "Stem",
                 bn_size: int = 4, norm_cfg_transition: NormCfg | None = None, norm_cfg1: NormCfg | None = None,
                 norm_cfg2: NormCfg | None = None, norm_cfg_final: NormCfg | None = None,
                 num_affine_trans: Sequence[int] = (10, 10, 20, 20)) -> None:
        super().__init__()
        if depth not in ARCH_SETTINGS:
            raise ValueError(f"invalid depth {depth} for DenseNet (expected one of {sorted(ARCH_SETTINGS)})")
        if num_classes <= 0:
            raise ValueError(f"num_classes must be > 0 (a classifier), got {num_classes}")
        cfgs = {n: dict(BN_CFG if c is None else c) for n, c in (
            ("norm_cfg_transition", norm_cfg_transition), ("norm_cfg1", norm_cfg1), ("norm_cfg2", norm_cfg2),
            ("norm_cfg_final", norm_cfg_final))}
        for name, cfg in cfgs.items():
            check_norm_cfg(cfg, name)
        growth_rate, block_config, num_features = ARCH_SETTINGS[depth]
        self.stem = Stem(stem_type, in_channels, num_features)
        self.dense_layers: list[str] = []
        for i, num_layers in enumerate(block_config):
            block: list[nn.Module] = [DenseBlock(num_layers, num_features, bn_size, growth_rate,
                                                 with_k(cfgs["norm_cfg1"], num_affine_trans, i),
                                                 with_k(cfgs["norm_cfg2"], num_affine_trans, i))]
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                block.append(Transition(num_features, num_features // 2,
                                        with_k(cfgs["norm_cfg_transition"], num_affine_trans, i)))
                num_features //= 2
            else:
                block += [build_norm(with_k(cfgs["norm_cfg_final"], num_affine_trans, -1), num_features, 5)[1],
                          nn.ReLU(inplace=True)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*block))
            self.dense_layers.append(f"layer{i + 1}")
        self.feat_dim = num_features
        self.classifier = nn.Linear(num_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.stem(x)
        for name in self.dense_layers:
            y = getattr(self, name)(y)
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(y, (1, 1)), 1))
