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
    "attn_bn_rsd_nobn": lambda: AttnBatchNorm2d(C, K, use_bn=False),
    "attn_bn_avg": lambda: AttnBatchNorm2d(C, K, use_rsd=False),
    "attn_bn_avgmax": lambda: AttnBatchNorm2d(C, K, use_rsd=False, use_maxpool=True),
    "attn_bn_mode1_gn1": lambda: AttnBatchNorm2d(C, K, attn_mode=1),
    "attn_bn_mode1_eps": lambda: AttnBatchNorm2d(C, 6, attn_mode=1, eps_var=1e-2),
    "attn_gn_rsd": lambda: AttnGroupNorm(6, C, K),
    "attn_gn_avgmax_mode1": lambda: AttnGroupNorm(3, C, K, attn_mode=1, use_rsd=False, use_maxpool=True),
}


def make_layer(name: str, seed: int = 0) -> nn.Module:
    """A realistic (random statistics, weights away from init) eval-mode layer."""
    return realistic_(LAYERS[name](), seed=seed)
