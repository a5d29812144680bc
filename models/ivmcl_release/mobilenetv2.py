"""iVMCL-Release's ``MobileNetV2`` with the authors' module names (``stem``, ``layer1`` ... ``layer7``).

Each setting row l is ``layer{l+1}``; the final 1x1 ConvBNReLU sits at the end of the last row's layer. Norms
are chosen per position: ``norm_cfg_stem``, ``norm_cfg1`` (after the expanding 1x1 conv), ``norm_cfg2``
(after the depthwise 3x3 conv, AN in the published model), ``norm_cfg3`` (after the projecting 1x1 conv)
and ``norm_cfg_final``; an AN config gets row l's K from ``num_affine_trans[l]`` (stem: the first, final:
the last).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from an_deploy.models.ivmcl_release.norms import BN_CFG, NormCfg, build_norm, check_norm_cfg, with_k
from an_deploy.models.mobilenetv2 import SETTINGS, make_divisible


class ConvBNReLU(nn.Sequential):
    def __init__(self, cin: int, cout: int, kernel_size: int = 3, stride: int = 1, groups: int = 1,
                 norm_cfg: NormCfg = BN_CFG) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, kernel_size, stride, (kernel_size - 1) // 2, groups=groups, bias=False),
            build_norm(norm_cfg, cout)[1],
            nn.ReLU6(inplace=True),
        )


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand_ratio: float,
                 norm_cfgs: tuple[NormCfg, NormCfg, NormCfg]) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"MobileNetV2 block stride must be 1 or 2, got {stride}")
        hidden = int(round(cin * expand_ratio))
        self.use_res_connect = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvBNReLU(cin, hidden, kernel_size=1, norm_cfg=norm_cfgs[0]))
        layers += [
            ConvBNReLU(hidden, hidden, stride=stride, groups=hidden, norm_cfg=norm_cfgs[1]),
            nn.Conv2d(hidden, cout, 1, 1, 0, bias=False),
            build_norm(norm_cfgs[2], cout)[1],
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2 classifier as iVMCL-Release builds it.

    Args:
        num_classes: classifier outputs (> 0).
        in_channels: image channels.
        width_mult: channel multiplier.
        inverted_residual_setting: rows ``(t, c, n, s)`` (the standard seven when ``None``).
        round_nearest: channel rounding.
        norm_cfg_stem, norm_cfg1, norm_cfg2, norm_cfg3, norm_cfg_final: norm configs (BN when ``None``).
        num_affine_trans: K per setting row for AN configs.

    Raises:
        ValueError: an empty or malformed setting, too few K values, or a bad norm config.
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, width_mult: float = 1.0,
                 inverted_residual_setting: Sequence[Sequence[float]] | None = None, round_nearest: int = 8,
                 norm_cfg_stem: NormCfg | None = None, norm_cfg1: NormCfg | None = None,
                 norm_cfg2: NormCfg | None = None, norm_cfg3: NormCfg | None = None,
                 norm_cfg_final: NormCfg | None = None,
                 num_affine_trans: Sequence[int] = (5, 5, 5, 5, 10, 10, 10)) -> None:
        super().__init__()
        setting = SETTINGS if inverted_residual_setting is None else inverted_residual_setting
        if not setting or any(len(row) != 4 for row in setting):
            raise ValueError(f"inverted_residual_setting must be non-empty rows of 4 (t, c, n, s), got {setting}")
        if num_classes <= 0:
            raise ValueError(f"num_classes must be > 0 (a classifier), got {num_classes}")
        cfgs = {n: dict(BN_CFG if c is None else c) for n, c in (
            ("norm_cfg_stem", norm_cfg_stem), ("norm_cfg1", norm_cfg1), ("norm_cfg2", norm_cfg2),
            ("norm_cfg3", norm_cfg3), ("norm_cfg_final", norm_cfg_final))}
        for name, cfg in cfgs.items():
            check_norm_cfg(cfg, name)
        cin = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
        self.stem = ConvBNReLU(in_channels, cin, stride=2, norm_cfg=with_k(cfgs["norm_cfg_stem"], num_affine_trans, 0))
        self.res_layers: list[str] = []
        for row, (t, c, n, s) in enumerate(setting):
            norm_cfgs = tuple(with_k(cfgs[k], num_affine_trans, row) for k in ("norm_cfg1", "norm_cfg2", "norm_cfg3"))
            cout = make_divisible(c * width_mult, round_nearest)
            features: list[nn.Module] = []
            for i in range(int(n)):
                features.append(InvertedResidual(cin, cout, int(s) if i == 0 else 1, t, norm_cfgs))  # type: ignore[arg-type]
                cin = cout
            if row == len(setting) - 1:
                final = with_k(cfgs["norm_cfg_final"], num_affine_trans, -1)
                features.append(ConvBNReLU(cin, self.last_channel, kernel_size=1, norm_cfg=final))
            self.add_module(f"layer{row + 1}", nn.Sequential(*features))
            self.res_layers.append(f"layer{row + 1}")
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(self.last_channel, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.stem(x)
        for name in self.res_layers:
            y = getattr(self, name)(y)
        y = torch.flatten(nn.functional.adaptive_avg_pool2d(y, (1, 1)), 1)
        return self.classifier(y)
