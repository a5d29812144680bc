"""Reference of the ORIGINAL AN layer (docs/attentive_norm.md, section 1), written from its formulas, not from our
modules.

``an_layer_reference(layer, x, upcast=True)`` reads the layer's parameters by their original names and
recomputes the layer step by step. With ``upcast=True`` it runs in float64 (the truth every
implementation is judged against); with ``upcast=False`` in x's dtype (the low-precision baseline).
"""

from __future__ import annotations

import torch
from torch import nn


def _run_attention(seq: nn.Sequential, u: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Apply the attention sequence to u [N, C] as the original's 1x1 convs on [N, C, 1, 1] would."""
    z = u
    for m in seq:
        if isinstance(m, nn.Conv2d):
            w = m.weight.detach().to(dtype).reshape(m.weight.shape[0], -1)
            z = z @ w.T
            if m.bias is not None:
                z = z + m.bias.detach().to(dtype)
        elif isinstance(m, nn.BatchNorm2d):
            rm, rv = m.running_mean.to(dtype), m.running_var.to(dtype)  # type: ignore[union-attr]
            z = (z - rm) / torch.sqrt(rv + m.eps)
            if m.affine:
                z = z * m.weight.detach().to(dtype) + m.bias.detach().to(dtype)
        elif isinstance(m, nn.GroupNorm):
            zg = z.reshape(z.shape[0], m.num_groups, -1)
            mean = zg.mean(-1, keepdim=True)
            var = ((zg - mean) ** 2).mean(-1, keepdim=True)
            z = ((zg - mean) / torch.sqrt(var + m.eps)).reshape(z.shape)
            if m.affine:
                z = z * m.weight.detach().to(dtype) + m.bias.detach().to(dtype)
        elif isinstance(m, nn.ReLU):
            z = torch.clamp(z, min=0)
        elif isinstance(m, nn.Sigmoid):
            z = 1.0 / (1.0 + torch.exp(-z))
        elif isinstance(m, nn.Softmax):
            e = torch.exp(z - z.amax(dim=1, keepdim=True))
            z = e / e.sum(dim=1, keepdim=True)
        elif type(m).__name__ == "HSigmoid":
            z = torch.clamp(z + 3.0, 0.0, 6.0) / 6.0
        elif type(m).__name__ == "ClampHSigmoid":
            z = torch.clamp((z + 1.0) / 2.0, 0.0, 1.0)
        elif isinstance(m, nn.ReLU6):
            z = torch.clamp(z, 0.0, 6.0)
        elif isinstance(m, nn.Tanh):
            z = torch.tanh(z)
        elif isinstance(m, nn.Hardswish):
            z = z * torch.clamp(z + 3.0, 0.0, 6.0) / 6.0
        elif isinstance(m, nn.SiLU):
            z = z / (1.0 + torch.exp(-z))
        elif isinstance(m, nn.LeakyReLU):
            z = torch.where(z >= 0, z, m.negative_slope * z)
        elif isinstance(m, nn.ELU):
            z = torch.where(z > 0, z, m.alpha * (torch.exp(z) - 1.0))
        elif isinstance(m, nn.Identity):
            pass
        else:
            raise TypeError(f"unexpected module in the attention branch: {type(m).__name__}")
    return z


def _attention_input(x: torch.Tensor, branch: nn.Module) -> torch.Tensor:
    n, c = x.shape[:2]
    flat = x.reshape(n, c, -1)
    length = flat.shape[-1]
    mean = flat.sum(-1) / length
    if getattr(branch, "use_rsd", True):
        # unbiased variance as torch.var; H*W == 1 is defined as variance 0 (the original gives NaN)
        var = ((flat - mean[..., None]) ** 2).sum(-1) / max(length - 1, 1)
        return mean / torch.sqrt(var + branch.eps)
    if getattr(branch, "use_maxpool", False):
        return mean + flat.amax(-1)
    return mean


def an_layer_reference(layer: nn.Module, x: torch.Tensor, upcast: bool = True) -> torch.Tensor:
    """Recompute an eval-mode AN layer of either family from its parameters.

    Args:
        layer: an AN layer (``MixtureBatchNorm2d``, ``MixtureGroupNorm``, ``AttnBatchNorm2d``, ``AttnGroupNorm``).
        x: input [N, C, H, W].
        upcast: compute in float64; otherwise in x's dtype.

    Returns:
        The layer output in the compute dtype.

    Raises:
        TypeError: the layer is not an AN layer.
    """
    dtype = torch.float64 if upcast else x.dtype
    xd = x.detach().to(dtype)
    branch = getattr(layer, "attention_weights", None) or getattr(layer, "attn_weights", None)
    if branch is None or not hasattr(layer, "weight_"):
        raise TypeError(f"{type(layer).__name__} is not an AttentiveNorm layer")
    lam = _run_attention(branch.attention, _attention_input(xd, branch), dtype)
    gamma = lam @ layer.weight_.detach().to(dtype)
    beta = lam @ layer.bias_.detach().to(dtype)
    if isinstance(layer, nn.BatchNorm2d):
        rm, rv = layer.running_mean.to(dtype), layer.running_var.to(dtype)  # type: ignore[union-attr]
        xhat = (xd - rm[None, :, None, None]) / torch.sqrt(rv[None, :, None, None] + layer.eps)
    else:
        xg = xd.reshape(xd.shape[0], layer.num_groups, -1)
        mean = xg.mean(-1, keepdim=True)
        var = ((xg - mean) ** 2).mean(-1, keepdim=True)
        xhat = ((xg - mean) / torch.sqrt(var + layer.eps)).reshape(xd.shape)
    return gamma[:, :, None, None] * xhat + beta[:, :, None, None]
