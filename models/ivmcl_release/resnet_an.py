"""iVMCL-Release's ``ResNetAN`` / ``ResNetV1dAN`` with the authors' module names (``layer1.0.AttnBN2d2``...).

Which norms are AN is decided per position by ``norm_cfg_stem``, ``norm_cfg_ds`` (downsample), ``norm_cfg1``,
``norm_cfg2`` and ``norm_cfg3`` (the norms after a block's 1st, 2nd and 3rd conv); an AN config gets stage
i's K from ``num_affine_trans[i]`` (the stem gets stage 0's). The published AN-ResNets use AN only at
``norm_cfg2``. Options that do not change the eval-mode numbers or the keys (``out_indices`` of a classifier,
``norm_eval``, ``frozen_stages``, ``with_cp``, ``zero_init_residual``) are not parameters here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from an_deploy.models.ivmcl_release.norms import BN_CFG, NormCfg, build_norm, check_norm_cfg, with_k

# depth -> (block, blocks per stage)
ARCH_SETTINGS: dict[int, tuple[str, tuple[int, ...]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int, dilation: int, downsample: nn.Module | None,
                 norm_cfgs: tuple[NormCfg, NormCfg, NormCfg], style: str = "pytorch") -> None:
        super().__init__()
        self.norm1_name, norm1 = build_norm(norm_cfgs[0], planes, 1)
        self.norm2_name, norm2 = build_norm(norm_cfgs[1], planes, 2)
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, padding=dilation, dilation=dilation, bias=False)
        self.add_module(self.norm1_name, norm1)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.add_module(self.norm2_name, norm2)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(getattr(self, self.norm1_name)(self.conv1(x)))
        out = getattr(self, self.norm2_name)(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """``style`` "pytorch": the 3x3 conv carries the stride; "caffe": the first 1x1 conv does."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int, dilation: int, downsample: nn.Module | None,
                 norm_cfgs: tuple[NormCfg, NormCfg, NormCfg], style: str = "pytorch") -> None:
        super().__init__()
        stride1, stride2 = (1, stride) if style == "pytorch" else (stride, 1)
        self.norm1_name, norm1 = build_norm(norm_cfgs[0], planes, 1)
        self.norm2_name, norm2 = build_norm(norm_cfgs[1], planes, 2)
        self.norm3_name, norm3 = build_norm(norm_cfgs[2], planes * self.expansion, 3)
        self.conv1 = nn.Conv2d(inplanes, planes, 1, stride1, bias=False)
        self.add_module(self.norm1_name, norm1)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride2, padding=dilation, dilation=dilation, bias=False)
        self.add_module(self.norm2_name, norm2)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.add_module(self.norm3_name, norm3)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(getattr(self, self.norm1_name)(self.conv1(x)))
        out = self.relu(getattr(self, self.norm2_name)(self.conv2(out)))
        out = getattr(self, self.norm3_name)(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNetAN(nn.Module):
    """ResNet classifier with per-position norm configs, built as iVMCL-Release builds it.

    Args:
        depth: 18, 34, 50, 101 or 152.
        num_classes: classifier outputs (> 0).
        in_channels: image channels.
        stem_channels: stem width (``base_channels`` when ``None``).
        base_channels: width of stage 0 (doubles per stage).
        num_stages: 1 to 4.
        strides, dilations: per stage.
        style: ``"pytorch"`` or ``"caffe"``.
        deep_stem: three 3x3 convs (under ``stem``) and a 2x2 max pool instead of the 7x7 conv.
        avg_down: downsample with a 2x2 average pool then a stride-1 conv.
        norm_cfg_stem, norm_cfg_ds, norm_cfg1, norm_cfg2, norm_cfg3: norm configs (BN when ``None``).
        num_affine_trans: K per stage for AN configs.

    Raises:
        ValueError: unknown depth, inconsistent lengths, or a bad norm config.
    """

    def __init__(self, depth: int, num_classes: int = 1000, in_channels: int = 3, stem_channels: int | None = None,
                 base_channels: int = 64, num_stages: int = 4, strides: Sequence[int] = (1, 2, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1, 1), style: str = "pytorch", deep_stem: bool = False,
                 avg_down: bool = False, norm_cfg_stem: NormCfg | None = None, norm_cfg_ds: NormCfg | None = None,
                 norm_cfg1: NormCfg | None = None, norm_cfg2: NormCfg | None = None,
                 norm_cfg3: NormCfg | None = None, num_affine_trans: Sequence[int] = (10, 10, 20, 20)) -> None:
        super().__init__()
        if depth not in ARCH_SETTINGS:
            raise ValueError(f"invalid depth {depth} for ResNetAN (expected one of {sorted(ARCH_SETTINGS)})")
        if not 1 <= num_stages <= 4 or len(strides) != num_stages or len(dilations) != num_stages:
            raise ValueError(f"num_stages {num_stages} needs 1..4 and as many strides and dilations")
        if style not in ("pytorch", "caffe"):
            raise ValueError(f"style must be 'pytorch' or 'caffe', got {style!r}")
        if num_classes <= 0:
            raise ValueError(f"num_classes must be > 0 (a classifier), got {num_classes}")
        cfgs = {n: dict(BN_CFG if c is None else c) for n, c in (
            ("norm_cfg_stem", norm_cfg_stem), ("norm_cfg_ds", norm_cfg_ds), ("norm_cfg1", norm_cfg1),
            ("norm_cfg2", norm_cfg2), ("norm_cfg3", norm_cfg3))}
        for name, cfg in cfgs.items():
            check_norm_cfg(cfg, name)
        kind, stage_blocks = ARCH_SETTINGS[depth]
        block = BasicBlock if kind == "basic" else Bottleneck
        stem_channels = base_channels if stem_channels is None else stem_channels
        self.deep_stem = deep_stem
        self._make_stem(in_channels, stem_channels, with_k(cfgs["norm_cfg_stem"], num_affine_trans, 0))
        self.res_layers: list[str] = []
        inplanes = stem_channels
        for i, num_blocks in enumerate(stage_blocks[:num_stages]):
            planes = base_channels * 2**i
            norm_cfgs = tuple(with_k(cfgs[n], num_affine_trans, i) for n in ("norm_cfg1", "norm_cfg2", "norm_cfg3"))
            downsample = None
            if strides[i] != 1 or inplanes != planes * block.expansion:
                downsample = _downsample(inplanes, planes * block.expansion, strides[i], avg_down,
                                         with_k(cfgs["norm_cfg_ds"], num_affine_trans, i))
            layers = [block(inplanes, planes, strides[i], dilations[i], downsample, norm_cfgs, style)]  # type: ignore[arg-type]
            inplanes = planes * block.expansion
            layers += [block(inplanes, planes, 1, dilations[i], None, norm_cfgs, style)  # type: ignore[arg-type]
                       for _ in range(1, num_blocks)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*layers))
            self.res_layers.append(f"layer{i + 1}")
        self.feat_dim = block.expansion * base_channels * 2 ** (num_stages - 1)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(self.feat_dim, num_classes)

    def _make_stem(self, in_channels: int, stem_channels: int, norm_cfg: dict[str, Any]) -> None:
        if self.deep_stem:
            half = stem_channels // 2
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, half, 3, 2, padding=1, bias=False), build_norm(norm_cfg, half)[1],
                nn.ReLU(inplace=True),
                nn.Conv2d(half, half, 3, 1, padding=1, bias=False), build_norm(norm_cfg, half)[1],
                nn.ReLU(inplace=True),
                nn.Conv2d(half, stem_channels, 3, 1, padding=1, bias=False), build_norm(norm_cfg, stem_channels)[1],
                nn.ReLU(inplace=True))
            self.maxpool = nn.MaxPool2d(kernel_size=2, stride=2)
        else:
            self.conv1 = nn.Conv2d(in_channels, stem_channels, 7, 2, padding=3, bias=False)
            self.norm1_name, norm1 = build_norm(norm_cfg, stem_channels, 1)
            self.add_module(self.norm1_name, norm1)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.deep_stem:
            x = self.stem(x)
        else:
            x = self.relu(getattr(self, self.norm1_name)(self.conv1(x)))
        x = self.maxpool(x)
        for name in self.res_layers:
            x = getattr(self, name)(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _downsample(inplanes: int, outplanes: int, stride: int, avg_down: bool, norm_cfg: NormCfg) -> nn.Sequential:
    layers: list[nn.Module] = []
    conv_stride = stride
    if avg_down and stride != 1:
        conv_stride = 1
        layers.append(nn.AvgPool2d(kernel_size=stride, stride=stride, ceil_mode=True, count_include_pad=False))
    layers += [nn.Conv2d(inplanes, outplanes, 1, conv_stride, bias=False), build_norm(norm_cfg, outplanes)[1]]
    return nn.Sequential(*layers)


def resnet_v1d_an(depth: int, **kwargs: Any) -> ResNetAN:
    """``ResNetV1dAN``: ``ResNetAN`` with ``deep_stem`` and ``avg_down`` on."""
    return ResNetAN(depth, deep_stem=True, avg_down=True, **kwargs)
