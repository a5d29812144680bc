"""Minimal look-alikes of the authors' AN classes, written for the tests from the published facts (class and
attribute names, layer types, formulas), not copied: they share no code or class with ``an_deploy.models``, so
export can only find and fold them by structure.

Family 1 (the ImageNet code): ``MixtureBatchNorm2d`` / ``MixtureGroupNorm`` with an ``attention_weights``
child (no eps attribute: 1e-3 is a constant of its forward) and a lower-case ``hsigmoid`` activation class.
Family 2 (the refactored release): ``AttnBatchNorm2d`` (``attn_weights``) / ``AttnGroupNorm``
(``attention_weights``) whose branch keeps ``use_rsd``, ``use_maxpool`` and ``eps`` and ends in ``HSigmoidv2``.
The ``*_resnet*`` builders are importable by ``--model-def tests.export.lookalikes:<name>``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from an_deploy.models.attentive_norm import MixtureBatchNorm2d as OurMixtureBatchNorm2d
from an_deploy.models.randomize import calibrated_
from an_deploy.models.resnet import ResNet

SMALL_INPUT = (1, 3, 32, 32)


class hsigmoid(nn.Module):  # the authors' class name
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(x + 3.0, inplace=True) / 6.0


class HSigmoidv2(nn.Module):
    def __init__(self, inplace: bool = True) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(x + 3.0, inplace=self.inplace) / 6.0


class HSigmoid(nn.Module):
    """mmcv's hard sigmoid, clamp((x + bias) / divisor, 0, 1): the op's hsigmoid with the newer defaults (3, 6),
    NOT with the older ones (1, 2)."""

    def __init__(self, bias: float = 1.0, divisor: float = 2.0) -> None:
        super().__init__()
        self.bias, self.divisor = bias, divisor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x + self.bias) / self.divisor).clamp_(0.0, 1.0)


def _family1_layers(mode: int, c: int, k: int) -> list[nn.Module]:
    hidden = 2 * k
    if mode in (0, 4):
        return [nn.Conv2d(c, k, 1), nn.Sigmoid() if mode == 0 else hsigmoid()]
    if mode == 1:
        return [nn.Conv2d(c, hidden, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, k, 1), nn.Sigmoid()]
    if mode == 3:
        return [nn.Conv2d(c, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
                nn.Conv2d(hidden, k, 1, bias=False), nn.BatchNorm2d(k), hsigmoid()]
    act = {2: hsigmoid(), 5: nn.Sigmoid(), 6: nn.Softmax(dim=1)}[mode]
    return [nn.Conv2d(c, k, 1, bias=False), nn.BatchNorm2d(k), act]


class AttentionWeights(nn.Module):
    """Family 1 branch: keeps ``k`` and an average pool; the mode is not an attribute."""

    def __init__(self, attention_mode: int, num_channels: int, k: int) -> None:
        super().__init__()
        self.k = k
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.attention = nn.Sequential(*_family1_layers(attention_mode, num_channels, k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        spread = torch.var(x, dim=(2, 3)).reshape(n, c, 1, 1)
        return self.attention(self.avgpool(x) / torch.sqrt(spread + 1e-3)).reshape(n, self.k)


def _init_mixture(layer: nn.Module, k: int, c: int) -> None:
    layer.weight_ = nn.Parameter(1.0 + 0.1 * torch.randn(k, c))
    layer.bias_ = nn.Parameter(0.1 * torch.randn(k, c))


def _mix(layer: nn.Module, xhat: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    return (lam @ layer.weight_)[:, :, None, None] * xhat + (lam @ layer.bias_)[:, :, None, None]


class MixtureBatchNorm2d(nn.BatchNorm2d):
    def __init__(self, num_channels: int, k: int, attention_mode: int) -> None:
        super().__init__(num_channels, affine=False)
        self.k = k
        _init_mixture(self, k, num_channels)
        self.attention_weights = AttentionWeights(attention_mode, num_channels, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _mix(self, super().forward(x), self.attention_weights(x))


class MixtureGroupNorm(nn.Module):
    def __init__(self, num_channels: int, num_groups: int, k: int, attention_mode: int) -> None:
        super().__init__()
        self.num_groups, self.num_channels, self.k, self.eps = num_groups, num_channels, k, 1e-5
        self.register_parameter("weight", None)
        self.register_parameter("bias", None)
        _init_mixture(self, k, num_channels)
        self.attention_weights = AttentionWeights(attention_mode, num_channels, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xhat = F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)
        return _mix(self, xhat, self.attention_weights(x))


class AttnWeights(nn.Module):
    """Family 2 branch (attn_mode 0: conv, BN; 1: conv, GroupNorm) with the options as attributes."""

    def __init__(self, attn_mode: int, num_features: int, k: int, num_groups: int = 1, use_rsd: bool = True,
                 use_maxpool: bool = False, eps: float = 1e-3, act: nn.Module | None = None) -> None:
        super().__init__()
        self.num_affine_trans = k
        self.use_rsd = use_rsd
        self.use_maxpool = use_maxpool and not use_rsd
        self.eps = eps
        norm = nn.BatchNorm2d(k) if attn_mode == 0 else nn.GroupNorm(num_groups, k)
        self.attention = nn.Sequential(nn.Conv2d(num_features, k, 1, bias=False), norm, act or HSigmoidv2())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_rsd:
            var, mean = torch.var_mean(x, dim=(2, 3), keepdim=True)
            u = mean * (var + self.eps).rsqrt()
        else:
            u = F.adaptive_avg_pool2d(x, 1)
            if self.use_maxpool:
                u = u + F.adaptive_max_pool2d(x, 1)
        return self.attention(u).reshape(x.shape[0], self.num_affine_trans)


class AttnBatchNorm2d(nn.BatchNorm2d):
    def __init__(self, num_features: int, num_affine_trans: int, attn_mode: int = 0, use_rsd: bool = True,
                 use_maxpool: bool = False, eps_var: float = 1e-3, act: nn.Module | None = None) -> None:
        super().__init__(num_features, affine=False)
        self.num_affine_trans, self.attn_mode = num_affine_trans, attn_mode
        self.use_rsd, self.eps_var = use_rsd, eps_var
        _init_mixture(self, num_affine_trans, num_features)
        self.attn_weights = AttnWeights(attn_mode, num_features, num_affine_trans, use_rsd=use_rsd,
                                        use_maxpool=use_maxpool, eps=eps_var, act=act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _mix(self, super().forward(x), self.attn_weights(x))


class AttnGroupNorm(nn.Module):
    def __init__(self, num_features: int, num_affine_trans: int, num_groups: int, attn_mode: int = 1,
                 use_rsd: bool = True, use_maxpool: bool = False) -> None:
        super().__init__()
        self.num_groups, self.num_features, self.eps = num_groups, num_features, 1e-5
        self.num_affine_trans = num_affine_trans
        self.register_parameter("weight", None)
        self.register_parameter("bias", None)
        _init_mixture(self, num_affine_trans, num_features)
        self.attention_weights = AttnWeights(attn_mode, num_features, num_affine_trans, use_rsd=use_rsd,
                                             use_maxpool=use_maxpool)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xhat = F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)
        return _mix(self, xhat, self.attention_weights(x))


def randomised_(model: nn.Module, seed: int = 0) -> nn.Module:
    """Realistic weights and calibrated statistics (``calibrated_``), and distinct K affines in every AN layer
    whatever its class; eval mode."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # before calibrating, so that the statistics after each AN layer fit its affines
        for m in model.modules():
            if isinstance(getattr(m, "weight_", None), nn.Parameter):
                m.weight_.copy_(0.8 + 0.4 * torch.rand(m.weight_.shape, generator=g))
                m.bias_.copy_(0.2 * torch.randn(m.bias_.shape, generator=g))
    return calibrated_(model, torch.randn(8, *SMALL_INPUT[1:], generator=g) * 0.8 + 0.1, seed=seed)


def lookalike_resnet_mode5() -> nn.Module:
    """A small AN-ResNet whose bn2 layers are the family-1 look-alike in attention mode 5 (BN then sigmoid)."""
    model = ResNet([1, 1, 1], lambda c, stage: MixtureBatchNorm2d(c, (4, 4, 8)[stage], attention_mode=5),
                   num_classes=10, widths=(8, 16, 32), stem="small")
    model.input_shape = SMALL_INPUT
    return model


def ours_resnet_mode5() -> nn.Module:
    """The same network with this project's MixtureBatchNorm2d in attention mode 5."""
    return ResNet([1, 1, 1], lambda c, stage: OurMixtureBatchNorm2d(c, (4, 4, 8)[stage], attention_mode=5),
                  num_classes=10, widths=(8, 16, 32), stem="small")


def not_a_module() -> str:
    return "a string"


def broken_builder() -> nn.Module:
    raise RuntimeError("the builder needs a config file\nsecond line")
