"""Every AN layer configuration the tests cover: both families, both normalisers, every attention mode."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from an_deploy.models.attentive_norm import AttnBatchNorm2d, AttnGroupNorm, MixtureBatchNorm2d, MixtureGroupNorm
from an_deploy.models.randomize import realistic_

C, K = 24, 5

LAYERS: dict[str, Callable[[], nn.Module]] = {
    **{f"mixture_bn_mode{m}": (lambda m=m: MixtureBatchNorm2d(C, K, attention_mode=m)) for m in range(7)},
    **{f"mixture_gn_mode{m}": (lambda m=m: MixtureGroupNorm(C, 4, K, attention_mode=m)) for m in (0, 1, 4)},
    "attn_bn_rsd": lambda: AttnBatchNorm2d(C, K),
    "attn_bn_avg": lambda: AttnBatchNorm2d(C, K, use_rsd=False),
    "attn_bn_avgmax": lambda: AttnBatchNorm2d(C, K, use_rsd=False, use_maxpool=True),
    "attn_bn_mode1_gn1": lambda: AttnBatchNorm2d(C, K, attn_mode=1),
    "attn_bn_mode1_eps": lambda: AttnBatchNorm2d(C, 6, attn_mode=1, eps_var=1e-2),
    "attn_gn_rsd": lambda: AttnGroupNorm(C, K, 6),
    "attn_gn_mode0": lambda: AttnGroupNorm(C, K, 4, attn_mode=0),
    "attn_gn_mode1_g2": lambda: AttnGroupNorm(C, 6, 3, num_groups_attn=2),
    "attn_gn_mode1_bn": lambda: AttnGroupNorm(C, K, 4, num_groups_attn=0),
    "attn_gn_avgmax_mode1": lambda: AttnGroupNorm(C, K, 3, use_rsd=False, use_maxpool=True),
}

# family 2 branches with a non-default ``act_cfg`` (the authors' mmcv activation registry)
ACT_CFGS: dict[str, dict[str, object]] = {
    "hsigmoidv2": {"type": "HSigmoidv2", "inplace": True},
    "mmcv_hsigmoid": {"type": "HSigmoid"},
    "sigmoid": {"type": "Sigmoid"},
    "relu": {"type": "ReLU", "inplace": True},
    "relu6": {"type": "ReLU6"},
    "tanh": {"type": "Tanh"},
    "hswish": {"type": "HSwish"},
    "swish": {"type": "Swish"},
    "leaky_relu": {"type": "LeakyReLU", "negative_slope": 0.2},
    "elu": {"type": "ELU", "alpha": 0.5},
}
ACT_LAYERS: dict[str, Callable[[], nn.Module]] = {
    **{f"attn_bn_act_{n}": (lambda cfg=cfg: AttnBatchNorm2d(C, K, act_cfg=cfg)) for n, cfg in ACT_CFGS.items()},
    "attn_gn_act_sigmoid": lambda: AttnGroupNorm(C, K, 4, act_cfg={"type": "Sigmoid"}),
}


def make_layer(name: str, seed: int = 0) -> nn.Module:
    """A realistic (random statistics, weights away from init) eval-mode layer."""
    return realistic_({**LAYERS, **ACT_LAYERS}[name](), seed=seed)
