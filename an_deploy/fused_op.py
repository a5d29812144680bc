"""The fused AttentiveNorm op of ``spec.py`` written in PyTorch: the executable form of the contract.

``fused_op(x, tensors, attrs)`` is what the ONNX function body, the CUDA kernel and the TensorRT
plugin must compute. With ``upcast=True`` (default) it runs in float64 and is the numerical truth;
with ``upcast=False`` it runs in the input dtype and is the low-precision baseline.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from an_deploy import spec


def input_statistics(x: torch.Tensor, eps_var: float, attn_input: int) -> torch.Tensor:
    """Per-(n, c) attention input ``u`` of shape [N, C] (see ``spec`` for the formula)."""
    n, c = x.shape[:2]
    flat = x.reshape(n, c, -1)
    length = flat.shape[-1]
    mu = flat.mean(dim=-1)
    if attn_input == spec.AttnInput.RSD:
        var = ((flat - mu.unsqueeze(-1)) ** 2).sum(dim=-1) / max(length - 1, 1)
        return mu * torch.rsqrt(var + eps_var)
    if attn_input == spec.AttnInput.AVG:
        return mu
    if attn_input == spec.AttnInput.AVG_MAX:
        return mu + flat.amax(dim=-1)
    raise ValueError(f"unknown attn_input {attn_input}")


def activate(z: torch.Tensor, activation: int) -> torch.Tensor:
    """The attention activation over the last axis (K)."""
    if activation == spec.Activation.SIGMOID:
        return torch.sigmoid(z)
    if activation == spec.Activation.HSIGMOID:
        return F.relu6(z + 3.0) / 6.0
    if activation == spec.Activation.SOFTMAX:
        return torch.softmax(z, dim=-1)
    raise ValueError(f"unknown activation {activation}")


def attention_lambda(u: torch.Tensor, t: Mapping[str, torch.Tensor], a: Mapping[str, int | float]) -> torch.Tensor:
    """Mixture weights ``lam`` [N, K] from the attention input ``u`` [N, C]."""
    h = u @ t["attn_w1"].T + t["attn_b1"]
    if a["hidden_activation"] == spec.HiddenActivation.RELU:
        h = torch.relu(h)
    z = h @ t["attn_w2"].T + t["attn_b2"]
    groups = int(a["attn_norm_groups"])
    if groups > 0:
        zg = z.reshape(z.shape[0], groups, -1)
        mean = zg.mean(dim=-1, keepdim=True)
        var = zg.var(dim=-1, unbiased=False, keepdim=True)
        z = ((zg - mean) * torch.rsqrt(var + float(a["attn_norm_eps"]))).reshape(z.shape)
    z = z * t["attn_scale"] + t["attn_shift"]
    return activate(z, int(a["activation"]))


def fused_op(
    x: torch.Tensor,
    tensors: Mapping[str, torch.Tensor],
    attrs: Mapping[str, int | float],
    upcast: bool = True,
) -> torch.Tensor:
    """Compute the AttentiveNorm op.

    Args:
        x: input [N, C, H, W] (any memory format).
        tensors: the parameter inputs of ``spec.PARAM_INPUTS`` by name.
        attrs: attribute values (missing ones take the contract defaults).
        upcast: compute in float64 (the reference); otherwise in x's dtype.

    Returns:
        The output, in x's dtype, contiguous.

    Raises:
        ValueError: the attributes break the contract or x has the wrong rank or channel count.
    """
    a = spec.resolve_attributes(attrs)
    if x.dim() != 4 or x.shape[1] != a["num_channels"]:
        raise ValueError(f"expected x of shape [N, {a['num_channels']}, H, W], got {list(x.shape)}")
    dtype = torch.float64 if upcast else x.dtype
    xc = x.to(dtype).contiguous()
    t = {name: tensors[name].to(device=x.device, dtype=dtype) for name in (s.name for s in spec.PARAM_INPUTS)}
    u = input_statistics(xc, float(a["eps_var"]), int(a["attn_input"]))
    lam = attention_lambda(u, t, a)
    gamma = (lam @ t["mix_weight"])[:, :, None, None]
    beta = (lam @ t["mix_bias"])[:, :, None, None]
    if a["norm_type"] == spec.NormType.GROUP:
        xn = F.group_norm(xc, int(a["num_groups"]), None, None, float(a["epsilon"]))
    else:
        xn = xc
    scale = t["norm_scale"][None, :, None, None]
    shift = t["norm_shift"][None, :, None, None]
    y = gamma * (xn * scale + shift) + beta
    return y.to(x.dtype)
