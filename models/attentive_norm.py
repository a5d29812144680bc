"""Attentive Normalization layers with the parameter and buffer names of the authors' two code families.

Family 1 (AOGNet-v2 ImageNet code): ``MixtureBatchNorm2d`` / ``MixtureGroupNorm`` with an
``attention_weights.attention`` branch in one of the modes 0-6.
Family 2 (refactored release, detection code): ``AttnBatchNorm2d`` / ``AttnGroupNorm`` with an
``attn_weights.attention`` branch (``attn_mode`` 0 or 1, ``use_rsd``, ``use_maxpool``, ``use_bn``).

Deviation from the originals, on purpose: for H*W == 1 the unbiased variance of the attention input is
defined as 0 (the originals divide by H*W - 1 = 0 and return NaN). For H*W > 1 the math is identical.
"""

from __future__ import annotations

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


_ACTIVATIONS: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "hsigmoid": HSigmoid, "softmax": Softmax1}


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
        layers.append(_ACTIVATIONS[act]())
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


class AttnWeights(nn.Module):
    """Family 2 attention branch: rsd statistic or avg(+max) pool, conv C->K, BN/GN/identity, hsigmoid."""

    def __init__(self, attn_mode: int, num_features: int, num_affine_trans: int, num_groups: int = 1,
                 use_rsd: bool = True, use_maxpool: bool = False, use_bn: bool = True, eps: float = 1e-3) -> None:
        super().__init__()
        if use_rsd:
            use_maxpool = False
        self.num_affine_trans = num_affine_trans
        self.use_rsd, self.use_maxpool, self.eps = use_rsd, use_maxpool, eps
        k = num_affine_trans
        if attn_mode == 0:
            layers = [nn.Conv2d(num_features, k, 1, bias=not use_bn), nn.BatchNorm2d(k) if use_bn else nn.Identity()]
        elif attn_mode == 1:
            if not 0 < num_groups <= k or k % num_groups:
                raise ValueError(f"num_groups {num_groups} must divide num_affine_trans {k}")
            layers = [nn.Conv2d(num_features, k, 1, bias=False), nn.GroupNorm(num_groups, k)]
        else:
            raise ValueError(f"attn_mode must be 0 or 1, got {attn_mode}")
        self.attention = nn.Sequential(*layers, HSigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_rsd:
            u = rsd_statistic(x, self.eps)
        else:
            u = x.mean(dim=(2, 3), keepdim=True)
            if self.use_maxpool:
                u = u + x.amax(dim=(2, 3), keepdim=True)
        return self.attention(u).view(x.shape[0], self.num_affine_trans)


class AttnBatchNorm2d(nn.BatchNorm2d, _MixtureAffine):
    """AN with a BatchNorm normaliser (family 2, ``attn_weights`` keys)."""

    def __init__(self, num_features: int, num_affine_trans: int, attn_mode: int = 0, eps: float = 1e-5,
                 momentum: float = 0.1, track_running_stats: bool = True, use_rsd: bool = True,
                 use_maxpool: bool = False, use_bn: bool = True, eps_var: float = 1e-3) -> None:
        nn.BatchNorm2d.__init__(self, num_features, eps=eps, momentum=momentum, affine=False,
                                track_running_stats=track_running_stats)
        self.num_affine_trans = num_affine_trans
        self._init_mixture(num_affine_trans, num_features)
        self.attn_weights = AttnWeights(attn_mode, num_features, num_affine_trans, use_rsd=use_rsd,
                                        use_maxpool=use_maxpool, use_bn=use_bn, eps=eps_var)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._mix(nn.BatchNorm2d.forward(self, x), self.attn_weights(x))


class AttnGroupNorm(_MixtureAffine):
    """AN with a GroupNorm normaliser (family 2, ``attn_weights`` keys)."""

    def __init__(self, num_groups: int, num_channels: int, num_affine_trans: int, attn_mode: int = 0,
                 eps: float = 1e-5, use_rsd: bool = True, use_maxpool: bool = False, use_bn: bool = True,
                 eps_var: float = 1e-3) -> None:
        super().__init__()
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, eps
        self.num_affine_trans = num_affine_trans
        self._init_mixture(num_affine_trans, num_channels)
        self.attn_weights = AttnWeights(attn_mode, num_channels, num_affine_trans, use_rsd=use_rsd,
                                        use_maxpool=use_maxpool, use_bn=use_bn, eps=eps_var)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xhat = F.group_norm(x, self.num_groups, None, None, self.eps)
        return self._mix(xhat, self.attn_weights(x))


AN_LAYER_TYPES: tuple[type[nn.Module], ...] = (MixtureBatchNorm2d, MixtureGroupNorm, AttnBatchNorm2d, AttnGroupNorm)


def is_attentive_norm(module: nn.Module) -> bool:
    """True for every AN layer type of either family."""
    return isinstance(module, AN_LAYER_TYPES)
