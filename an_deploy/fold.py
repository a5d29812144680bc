"""Trained AN layer (eval mode) -> the frozen tensors and attributes of the fused op in ``spec.py``.

Folding (AN_SPEC.md §3): BatchNorms inside the attention branch go into the preceding 1x1 conv
(``W' = diag(s) W``, ``b' = s * (b - running_mean) + beta``, ``s = gamma / sqrt(running_var + eps)``);
the normaliser's running statistics become ``norm_scale = rsqrt(running_var + eps)`` and
``norm_shift = -running_mean * norm_scale``. Everything is computed in float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from an_deploy import spec
from an_deploy.models.attentive_norm import (
    MODE_LAYOUT,
    AttentionWeights,
    AttnBatchNorm2d,
    AttnGroupNorm,
    AttnWeights,
    MixtureBatchNorm2d,
    MixtureGroupNorm,
    is_attentive_norm,
)

_ACTIVATION = {
    "sigmoid": spec.Activation.SIGMOID,
    "hsigmoid": spec.Activation.HSIGMOID,
    "softmax": spec.Activation.SOFTMAX,
}


class FoldError(ValueError):
    """The module is not an AN layer this op can represent, or is not in eval mode."""


@dataclass
class FoldedAN:
    """The fused op's constant inputs (``spec.PARAM_INPUTS`` order, float64) and attributes."""

    tensors: dict[str, torch.Tensor]
    attrs: dict[str, int | float]
    source: str = field(default="")  # the layer type it came from

    def to(self, dtype: torch.dtype) -> dict[str, torch.Tensor]:
        """The tensors in contract order, cast to ``dtype`` and made contiguous."""
        return {s.name: self.tensors[s.name].to(dtype).contiguous() for s in spec.PARAM_INPUTS}


def _f64(t: torch.Tensor | None) -> torch.Tensor | None:
    return None if t is None else t.detach().to(torch.float64).cpu()


def _conv_matrix(conv: nn.Conv2d) -> tuple[torch.Tensor, torch.Tensor]:
    w = _f64(conv.weight)
    assert w is not None
    w = w.reshape(w.shape[0], -1)
    b = _f64(conv.bias)
    return w, torch.zeros(w.shape[0], dtype=torch.float64) if b is None else b


def _fold_bn(w: torch.Tensor, b: torch.Tensor, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    if bn.running_mean is None or bn.running_var is None:
        raise FoldError("attention-branch BatchNorm without running statistics cannot be folded")
    s = 1.0 / torch.sqrt(_f64(bn.running_var) + bn.eps)  # type: ignore[operator]
    if bn.weight is not None:
        s = s * _f64(bn.weight)
    shift = _f64(bn.bias) if bn.bias is not None else torch.zeros_like(s)
    return w * s[:, None], s * (b - _f64(bn.running_mean)) + shift  # type: ignore[operator]


def _identity_second_layer(k: int) -> dict[str, torch.Tensor]:
    return {"attn_w2": torch.eye(k, dtype=torch.float64), "attn_b2": torch.zeros(k, dtype=torch.float64)}


def _attention(branch: nn.Module, k: int) -> tuple[dict[str, torch.Tensor], dict[str, int | float]]:
    """Attention tensors + attributes for either family's branch."""
    seq = list(branch.attention)  # type: ignore[attr-defined]
    tensors: dict[str, torch.Tensor] = {
        "attn_scale": torch.ones(k, dtype=torch.float64),
        "attn_shift": torch.zeros(k, dtype=torch.float64),
    }
    attrs: dict[str, int | float] = {"eps_var": float(branch.eps)}  # type: ignore[attr-defined]
    layers: list[tuple[torch.Tensor, torch.Tensor]] = []
    for m in seq:
        if isinstance(m, nn.Conv2d):
            layers.append(_conv_matrix(m))
        elif isinstance(m, nn.BatchNorm2d):
            layers[-1] = _fold_bn(*layers[-1], m)
        elif isinstance(m, nn.GroupNorm):
            attrs["attn_norm_groups"] = m.num_groups
            attrs["attn_norm_eps"] = float(m.eps)
            if m.affine:
                tensors["attn_scale"], tensors["attn_shift"] = _f64(m.weight), _f64(m.bias)  # type: ignore[assignment]
    (w1, b1) = layers[0]
    tensors["attn_w1"], tensors["attn_b1"] = w1, b1
    if len(layers) == 2:
        tensors["attn_w2"], tensors["attn_b2"] = layers[1]
        attrs["hidden_activation"] = int(spec.HiddenActivation.RELU)
    else:
        tensors.update(_identity_second_layer(k))
        attrs["hidden_activation"] = int(spec.HiddenActivation.IDENTITY)
    attrs["attn_hidden"] = int(w1.shape[0])
    if isinstance(branch, AttentionWeights):
        attrs["activation"] = int(_ACTIVATION[MODE_LAYOUT[branch.attention_mode][3]])
        attrs["attn_input"] = int(spec.AttnInput.RSD)
    else:
        assert isinstance(branch, AttnWeights)
        attrs["activation"] = int(spec.Activation.HSIGMOID)
        if branch.use_rsd:
            attrs["attn_input"] = int(spec.AttnInput.RSD)
        else:
            attrs["attn_input"] = int(spec.AttnInput.AVG_MAX if branch.use_maxpool else spec.AttnInput.AVG)
    return tensors, attrs


def fold(layer: nn.Module) -> FoldedAN:
    """Fold one eval-mode AN layer into the fused op.

    Args:
        layer: a ``MixtureBatchNorm2d``, ``MixtureGroupNorm``, ``AttnBatchNorm2d`` or ``AttnGroupNorm``.

    Returns:
        The float64 constant tensors and resolved attributes of the op.

    Raises:
        FoldError: not an AN layer, in training mode, or without running statistics.
    """
    if not is_attentive_norm(layer):
        raise FoldError(f"{type(layer).__name__} is not an AttentiveNorm layer")
    if layer.training:
        raise FoldError("fold needs an eval-mode layer (call model.eval()): training uses batch statistics")
    branch = layer.attention_weights if hasattr(layer, "attention_weights") else layer.attn_weights
    mix_w = _f64(layer.weight_)
    assert mix_w is not None
    k, c = mix_w.shape
    tensors, attrs = _attention(branch, k)
    tensors["mix_weight"], tensors["mix_bias"] = mix_w, _f64(layer.bias_)  # type: ignore[assignment]
    attrs.update(num_channels=c, num_affine=k)
    if isinstance(layer, (MixtureBatchNorm2d, AttnBatchNorm2d)):
        if layer.running_var is None or layer.running_mean is None:
            raise FoldError("BatchNorm-variant AN layer without running statistics cannot be folded")
        scale = 1.0 / torch.sqrt(_f64(layer.running_var) + layer.eps)  # type: ignore[operator]
        tensors["norm_scale"], tensors["norm_shift"] = scale, -_f64(layer.running_mean) * scale  # type: ignore[operator]
        attrs["norm_type"] = int(spec.NormType.BATCH)
    else:
        assert isinstance(layer, (MixtureGroupNorm, AttnGroupNorm))
        tensors["norm_scale"] = torch.ones(c, dtype=torch.float64)
        tensors["norm_shift"] = torch.zeros(c, dtype=torch.float64)
        attrs.update(norm_type=int(spec.NormType.GROUP), num_groups=layer.num_groups, epsilon=float(layer.eps))
    resolved = spec.resolve_attributes(attrs)
    shapes = spec.input_shapes(resolved)
    for name, shape in shapes.items():
        if tuple(tensors[name].shape) != shape:
            raise FoldError(f"folded {name} has shape {tuple(tensors[name].shape)}, expected {shape}")
    return FoldedAN(tensors={n: tensors[n] for n in shapes}, attrs=resolved, source=type(layer).__name__)
