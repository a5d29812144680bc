"""Attentive Normalization layers with the parameter and buffer names of the authors' two code families.

Family 1 (AOGNet-v2 ImageNet code): ``MixtureBatchNorm2d`` / ``MixtureGroupNorm`` with an
``attention_weights.attention`` branch in one of the modes 0-6.
Family 2 (iVMCL-Release and the detection code, mmcv norm types ``AttnBN2d`` / ``AttnGN``):
``AttnBatchNorm2d`` with an ``attn_weights.attention`` branch and ``AttnGroupNorm`` with an
``attention_weights.attention`` branch (``attn_mode`` 0 or 1, ``num_groups``, ``use_rsd``, ``use_maxpool``,
``eps_var``, ``act_cfg``).

Deviation from the originals, on purpose: for H*W == 1 the unbiased variance of the attention input is
defined as 0 (the originals divide by H*W - 1 = 0 and return NaN). For H*W > 1 the math is identical.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

# attention modes of family 1: (two layers, conv bias, branch norm, activation)
MODE_LAYOUT: dict[int, tuple[bool, bool, bool, str]] = {
    0: (False, True, False, "sigmoid"),
    4: (False, True, False, "hsigmoid"),
    1: (True, True, False, "sigmoid"),
    2: (False, False, True, "hsigmoid"),
    5: (False, False, True, "sigmoid"),
    6: (False, False, True, "softmax"),
    3: (True, False, True, "hsigmoid"),
}
GROUPNORM_MODES = (0, 1, 4)


class HSigmoid(nn.Module):
    """relu6(x + 3) / 6."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(x + 3.0) / 6.0


class Softmax1(nn.Softmax):
    def __init__(self) -> None:
        super().__init__(dim=1)


ACTIVATIONS: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "hsigmoid": HSigmoid, "softmax": Softmax1}


def rsd_statistic(x: torch.Tensor, eps: float) -> torch.Tensor:
    """mean * rsqrt(unbiased var + eps) over H, W, shape [N, C, 1, 1] (variance 0 when H*W == 1)."""
    correction = 1 if x.shape[2] * x.shape[3] > 1 else 0
    var, mean = torch.var_mean(x, dim=(2, 3), keepdim=True, correction=correction)
    return mean * (var + eps).rsqrt()


class AttentionWeights(nn.Module):
    """Family 1 attention branch: u = rsd statistic of x, then ``attention`` (1x1 convs), [N, K]."""

    def __init__(self, attention_mode: int, num_channels: int, k: int, eps: float = 1e-3) -> None:
        super().__init__()
        if attention_mode not in MODE_LAYOUT:
            raise ValueError(f"attention_mode must be one of {sorted(MODE_LAYOUT)}, got {attention_mode}")
        two_layers, bias, norm, act = MODE_LAYOUT[attention_mode]
        self.attention_mode = attention_mode
        self.k = k
        self.eps = eps
        width = 2 * k if two_layers else k
        layers: list[nn.Module] = [nn.Conv2d(num_channels, width, 1, bias=bias)]
        if norm:
            layers.append(nn.BatchNorm2d(width))
        if two_layers:
            layers += [nn.ReLU(inplace=False), nn.Conv2d(width, k, 1, bias=bias)]
            if norm:
                layers.append(nn.BatchNorm2d(k))
        layers.append(ACTIVATIONS[act]())
        self.attention = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attention(rsd_statistic(x, self.eps)).view(x.shape[0], self.k)


class _MixtureAffine(nn.Module):
    """weight_ / bias_ [K, C] and the mixing ``y = (lam @ weight_) * xhat + lam @ bias_``."""

    weight_: nn.Parameter
    bias_: nn.Parameter

    def _init_mixture(self, k: int, num_features: int) -> None:
        self.weight_ = nn.Parameter(torch.empty(k, num_features))
        self.bias_ = nn.Parameter(torch.empty(k, num_features))
        nn.init.normal_(self.weight_, 1.0, 0.1)
        nn.init.normal_(self.bias_, 0.0, 0.1)

    def _mix(self, xhat: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
        gamma = (lam @ self.weight_)[:, :, None, None]
        beta = (lam @ self.bias_)[:, :, None, None]
        return gamma * xhat + beta


class MixtureBatchNorm2d(nn.BatchNorm2d, _MixtureAffine):
    """AN with a BatchNorm normaliser (family 1), the layer of the published ImageNet models."""

    def __init__(self, num_features: int, k: int, attention_mode: int = 2, eps: float = 1e-5,
                 momentum: float = 0.1) -> None:
        nn.BatchNorm2d.__init__(self, num_features, eps=eps, momentum=momentum, affine=False)
        self.k = k
        self._init_mixture(k, num_features)
        self.attention_weights = AttentionWeights(attention_mode, num_features, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._mix(nn.BatchNorm2d.forward(self, x), self.attention_weights(x))


class MixtureGroupNorm(_MixtureAffine):
    """AN with a GroupNorm normaliser (family 1); only attention modes 0, 1 and 4 are usable."""

    def __init__(self, num_features: int, num_groups: int, k: int, attention_mode: int = 0,
                 eps: float = 1e-5) -> None:
        super().__init__()
        if attention_mode not in GROUPNORM_MODES:
            raise ValueError(f"MixtureGroupNorm supports attention modes {GROUPNORM_MODES}, got {attention_mode}")
        self.num_features, self.num_groups, self.k, self.eps = num_features, num_groups, k, eps
        self._init_mixture(k, num_features)
        self.attention_weights = AttentionWeights(attention_mode, num_features, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xhat = F.group_norm(x, self.num_groups, None, None, self.eps)
        return self._mix(xhat, self.attention_weights(x))


class ClampHSigmoid(nn.Module):
    """mmcv's ``HSigmoid``: clamp((x + 1) / 2, 0, 1) (not the relu6(x + 3) / 6 of ``HSigmoid``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x + 1.0) / 2.0).clamp(0.0, 1.0)


# family 2 ``act_cfg`` types (mmcv's activation registry) -> (factory, accepted keyword arguments).
# ``inplace`` is accepted everywhere and ignored: it does not change the numbers.
ACT_CFG_TYPES: dict[str, tuple[Callable[..., nn.Module], frozenset[str]]] = {
    "HSigmoidv2": (HSigmoid, frozenset()),
    "HSigmoid": (ClampHSigmoid, frozenset()),
    "Sigmoid": (nn.Sigmoid, frozenset()),
    "ReLU": (nn.ReLU, frozenset()),
    "ReLU6": (nn.ReLU6, frozenset()),
    "Tanh": (nn.Tanh, frozenset()),
    "HSwish": (nn.Hardswish, frozenset()),
    "Swish": (nn.SiLU, frozenset()),
    "LeakyReLU": (nn.LeakyReLU, frozenset({"negative_slope"})),
    "ELU": (nn.ELU, frozenset({"alpha"})),
}
DEFAULT_ACT_CFG: dict[str, Any] = {"type": "HSigmoidv2"}


def build_attn_activation(act_cfg: Mapping[str, Any] | None) -> nn.Module:
    """The attention activation of a family 2 branch from an mmcv-style ``act_cfg`` dict.

    Args:
        act_cfg: ``{"type": name, **kwargs}``; ``None`` means the authors' default ``HSigmoidv2``
            (relu6(x + 3) / 6).

    Returns:
        The activation module.

    Raises:
        ValueError: an unknown type, or a keyword argument the type does not take.
    """
    cfg = dict(DEFAULT_ACT_CFG if act_cfg is None else act_cfg)
    name = cfg.pop("type", None)
    if name not in ACT_CFG_TYPES:
        raise ValueError(f"unsupported act_cfg type {name!r}; supported: {', '.join(sorted(ACT_CFG_TYPES))}")
    factory, accepted = ACT_CFG_TYPES[name]
    cfg.pop("inplace", None)
    unknown = sorted(set(cfg) - accepted)
    if unknown:
        raise ValueError(f"act_cfg type {name!r} does not take {', '.join(unknown)}")
    return factory(**cfg)


class AttnWeights(nn.Module):
    """Family 2 attention branch: input statistic, conv C->K without bias, BN or GN, activation -> [N, K].

    ``attn_mode`` 0: BatchNorm2d(K); ``attn_mode`` 1: GroupNorm(num_groups, K), or BatchNorm2d(K) when
    ``num_groups <= 0``. The input is ``mean * rsqrt(unbiased var + eps)`` when ``use_rsd`` (which forces
    ``use_maxpool`` off), otherwise the spatial mean, plus the spatial max when ``use_maxpool``.
    """

    def __init__(self, attn_mode: int, num_features: int, num_affine_trans: int, num_groups: int = 1,
                 use_rsd: bool = True, use_maxpool: bool = False, eps: float = 1e-3,
                 act_cfg: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        if use_rsd:
            use_maxpool = False
        self.num_affine_trans = num_affine_trans
        self.use_rsd, self.use_maxpool, self.eps = use_rsd, use_maxpool, eps
        k = num_affine_trans
        norm: nn.Module
        if attn_mode == 0 or (attn_mode == 1 and num_groups <= 0):
            norm = nn.BatchNorm2d(k)
        elif attn_mode == 1:
            if num_groups > k or k % num_groups:
                raise ValueError(f"num_groups {num_groups} must divide num_affine_trans {k}")
            norm = nn.GroupNorm(num_groups, k)
        else:
            raise ValueError(f"attn_mode must be 0 or 1, got {attn_mode}")
        self.attention = nn.Sequential(nn.Conv2d(num_features, k, 1, bias=False), norm, build_attn_activation(act_cfg))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_rsd:
            u = rsd_statistic(x, self.eps)
        else:
            u = x.mean(dim=(2, 3), keepdim=True)
            if self.use_maxpool:
                u = u + x.amax(dim=(2, 3), keepdim=True)
        return self.attention(u).view(x.shape[0], self.num_affine_trans)


class AttnBatchNorm2d(nn.BatchNorm2d, _MixtureAffine):
    """AN with a BatchNorm normaliser (family 2, branch under ``attn_weights``; mmcv norm type ``AttnBN2d``).

    With ``attn_mode`` 1 the branch uses GroupNorm(1, K), as in the original (it passes no group count).
    """

    def __init__(self, num_features: int, num_affine_trans: int, attn_mode: int = 0, eps: float = 1e-5,
                 momentum: float = 0.1, track_running_stats: bool = True, use_rsd: bool = True,
                 use_maxpool: bool = False, eps_var: float = 1e-3, act_cfg: Mapping[str, Any] | None = None) -> None:
        nn.BatchNorm2d.__init__(self, num_features, eps=eps, momentum=momentum, affine=False,
                                track_running_stats=track_running_stats)
        self.num_affine_trans, self.attn_mode, self.eps_var = num_affine_trans, attn_mode, eps_var
        self._init_mixture(num_affine_trans, num_features)
        self.attn_weights = AttnWeights(attn_mode, num_features, num_affine_trans, use_rsd=use_rsd,
                                        use_maxpool=use_maxpool, eps=eps_var, act_cfg=act_cfg)
        self.use_rsd = self.attn_weights.use_rsd

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._mix(nn.BatchNorm2d.forward(self, x), self.attn_weights(x))


class AttnGroupNorm(_MixtureAffine):
    """AN with a GroupNorm normaliser (family 2, branch under ``attention_weights``; mmcv norm type ``AttnGN``).

    The branch's own GroupNorm (``attn_mode`` 1, the default) has ``num_groups_attn`` groups.
    """

    def __init__(self, num_features: int, num_affine_trans: int, num_groups: int, num_groups_attn: int = 1,
                 attn_mode: int = 1, eps: float = 1e-5, use_rsd: bool = True, use_maxpool: bool = False,
                 eps_var: float = 1e-3, act_cfg: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        if num_groups <= 0 or num_features % num_groups:
            raise ValueError(f"num_groups {num_groups} must divide num_features {num_features}")
        self.num_groups, self.num_features, self.eps = num_groups, num_features, eps
        self.num_affine_trans = num_affine_trans
        self._init_mixture(num_affine_trans, num_features)
        self.attention_weights = AttnWeights(attn_mode, num_features, num_affine_trans, num_groups=num_groups_attn,
                                             use_rsd=use_rsd, use_maxpool=use_maxpool, eps=eps_var, act_cfg=act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xhat = F.group_norm(x, self.num_groups, None, None, self.eps)
        return self._mix(xhat, self.attention_weights(x))


AN_LAYER_TYPES: tuple[type[nn.Module], ...] = (MixtureBatchNorm2d, MixtureGroupNorm, AttnBatchNorm2d, AttnGroupNorm)


def is_attentive_norm(module: nn.Module) -> bool:
    """True for every AN layer type of either family."""
    return isinstance(module, AN_LAYER_TYPES)
