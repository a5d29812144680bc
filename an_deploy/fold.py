"""Trained AN layer (eval mode) -> the frozen tensors and attributes of the fused op in ``spec.py``.

Folding reads the LIVE module, whatever its class (see :mod:`an_deploy.discover`): the attention branch is
parsed part by part (1x1 conv with or without bias, BatchNorm, GroupNorm, ReLU), its final activation is
identified by applying it to a probe tensor (sigmoid, hsigmoid = relu6(z + 3) / 6, or softmax over K), the
attention input comes from the branch's ``use_rsd``/``use_maxpool`` attributes and its eps from ``eps`` /
``eps_var``. BatchNorms inside the branch go into the preceding conv (docs/attentive_norm.md, section 3:
``W' = diag(s) W``, ``b' = s * (b - running_mean) + beta``, ``s = gamma / sqrt(running_var + eps)``); the
normaliser's running statistics become ``norm_scale = rsqrt(running_var + eps)`` and
``norm_shift = -running_mean * norm_scale``.
Everything is computed in float64, and every fold is checked: the fused op on a float64 probe input must
reproduce the layer's own forward, or the fold is refused.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from an_deploy import spec
from an_deploy.discover import an_layer_parts
from an_deploy.errors import UserError, first_line
from an_deploy.fused_op import fused_op

DEFAULT_EPS_VAR = 1e-3  # the authors' ImageNet code hard-codes it and keeps no attribute
VERIFY_RTOL = 1e-9  # float64 fold vs float64 forward: only summation order differs
_ACTIVATIONS = {
    spec.Activation.SIGMOID: torch.sigmoid,
    spec.Activation.HSIGMOID: lambda z: F.relu6(z + 3.0) / 6.0,
    spec.Activation.SOFTMAX: lambda z: torch.softmax(z, dim=1),
}
_SKIPPED = (nn.Identity, nn.Dropout)


class FoldError(UserError, ValueError):
    """The module is not an AN layer this op can represent, is not in eval mode, or its fold is wrong."""


@dataclass
class FoldedAN:
    """The fused op's constant inputs (``spec.PARAM_INPUTS`` order, float64) and attributes."""

    tensors: dict[str, torch.Tensor]
    attrs: dict[str, int | float]
    source: str = field(default="")  # the layer type it came from
    origin: str = field(default="live module")  # where its options were read

    def to(self, dtype: torch.dtype) -> dict[str, torch.Tensor]:
        """The tensors in contract order, cast to ``dtype`` and made contiguous."""
        return {s.name: self.tensors[s.name].to(dtype).contiguous() for s in spec.PARAM_INPUTS}


def _f64(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to(torch.float64).cpu()


def _number(*candidates: tuple[nn.Module, str]) -> float | None:
    for owner, name in candidates:
        value = getattr(owner, name, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


class _Branch:
    """Accumulates the parsed attention branch: up to two linear layers, a ReLU between, a logit GroupNorm."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.layers: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.relu = False
        self.group_norm: nn.GroupNorm | None = None

    def fail(self, index: int, module: nn.Module, why: str) -> FoldError:
        return FoldError(f"{self.where}: attention part {index} ({type(module).__name__}) {why}")

    def conv(self, index: int, m: nn.Conv2d) -> None:
        if m.kernel_size != (1, 1) or m.groups != 1 or m.padding not in ((0, 0), "valid"):
            raise self.fail(index, m, "is not a plain 1x1 conv (groups 1, no padding)")
        if self.group_norm is not None or len(self.layers) == 2:
            raise self.fail(index, m, "is a third conv or follows the GroupNorm")
        w = _f64(m.weight).reshape(m.weight.shape[0], -1)
        b = _f64(m.bias) if m.bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
        self.layers.append((w, b))

    def batch_norm(self, index: int, m: nn.modules.batchnorm._BatchNorm) -> None:
        if not self.layers or self.group_norm is not None:
            raise self.fail(index, m, "does not follow a conv")
        if m.running_mean is None or m.running_var is None:
            raise self.fail(index, m, "has no running statistics (track_running_stats=False)")
        s = 1.0 / torch.sqrt(_f64(m.running_var) + m.eps)
        if m.weight is not None:
            s = s * _f64(m.weight)
        shift = _f64(m.bias) if m.bias is not None else torch.zeros_like(s)
        w, b = self.layers[-1]
        self.layers[-1] = (w * s[:, None], s * (b - _f64(m.running_mean)) + shift)

    def part(self, index: int, m: nn.Module) -> None:
        if isinstance(m, nn.Conv2d):
            self.conv(index, m)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            self.batch_norm(index, m)
        elif isinstance(m, nn.GroupNorm):
            if not self.layers or self.group_norm is not None:
                raise self.fail(index, m, "does not follow a conv")
            self.group_norm = m
        elif isinstance(m, nn.ReLU):
            if len(self.layers) != 1 or self.relu:
                raise self.fail(index, m, "is not between the first and the second conv")
            self.relu = True
        elif not isinstance(m, _SKIPPED):
            raise self.fail(index, m, "is not a 1x1 conv, BatchNorm, GroupNorm or ReLU")


def _probe_activation(act: nn.Module, k: int, where: str) -> spec.Activation:
    """Identify the branch's final activation by its values on a probe spanning every regime of hsigmoid."""
    g = torch.Generator().manual_seed(0)
    z = (torch.rand(4, k, generator=g, dtype=torch.float64) * 12.0 - 6.0)
    name = type(act).__name__
    try:
        with torch.no_grad():
            out = copy.deepcopy(act).to(torch.float64)(z.clone()[:, :, None, None])
    except (RuntimeError, TypeError, ValueError) as e:
        raise FoldError(f"{where}: attention activation {name} fails on a probe input: {e}") from None
    if isinstance(out, torch.Tensor) and out.numel() == z.numel():
        out = out.reshape(z.shape).to(torch.float64)
        for kind, fn in _ACTIVATIONS.items():
            if torch.allclose(out, fn(z), rtol=0.0, atol=1e-12):
                return kind
    raise FoldError(f"{where}: attention activation {name} is not sigmoid, hsigmoid or softmax")


def _attention(layer: nn.Module, branch: nn.Module, seq: nn.Sequential, k: int,
               where: str) -> tuple[dict[str, torch.Tensor], dict[str, int | float]]:
    """Attention tensors + attributes read from the live branch."""
    parts = list(seq)
    if len(parts) < 2:
        raise FoldError(f"{where}: the attention branch needs a 1x1 conv and an activation, it has {len(parts)} parts")
    parsed = _Branch(where)
    for index, m in enumerate(parts[:-1]):
        parsed.part(index, m)
    if not parsed.layers:
        raise FoldError(f"{where}: the attention branch has no 1x1 conv")
    w1, b1 = parsed.layers[0]
    w2, b2 = parsed.layers[1] if len(parsed.layers) == 2 else (torch.eye(k, dtype=torch.float64),
                                                                torch.zeros(k, dtype=torch.float64))
    if tuple(w2.shape) != (k, w1.shape[0]) or w1.shape[1] != layer.weight_.shape[1]:
        raise FoldError(f"{where}: the attention convs map {w1.shape[1]} -> {w1.shape[0]} -> {w2.shape[0]} "
                        f"channels, expected C={layer.weight_.shape[1]} in and K={k} out")
    tensors = {"attn_w1": w1, "attn_b1": b1, "attn_w2": w2, "attn_b2": b2,
               "attn_scale": torch.ones(k, dtype=torch.float64), "attn_shift": torch.zeros(k, dtype=torch.float64)}
    eps_var = _number((branch, "eps"), (layer, "eps_var"))
    use_rsd = getattr(branch, "use_rsd", getattr(layer, "use_rsd", True))
    if use_rsd:
        attn_input = spec.AttnInput.RSD
    else:
        attn_input = spec.AttnInput.AVG_MAX if getattr(branch, "use_maxpool", False) else spec.AttnInput.AVG
    attrs: dict[str, int | float] = {
        "eps_var": DEFAULT_EPS_VAR if eps_var is None else eps_var,
        "attn_input": int(attn_input),
        "attn_hidden": int(w1.shape[0]),
        "hidden_activation": int(spec.HiddenActivation.RELU if parsed.relu else spec.HiddenActivation.IDENTITY),
        "activation": int(_probe_activation(parts[-1], k, where)),
    }
    gn = parsed.group_norm
    if gn is not None:
        attrs.update(attn_norm_groups=gn.num_groups, attn_norm_eps=float(gn.eps))
        if gn.affine:
            tensors["attn_scale"], tensors["attn_shift"] = _f64(gn.weight), _f64(gn.bias)
    return tensors, attrs


def _normaliser(layer: nn.Module, norm: str, c: int, where: str) -> tuple[dict[str, torch.Tensor], dict]:
    ones, zeros = torch.ones(c, dtype=torch.float64), torch.zeros(c, dtype=torch.float64)
    eps = _number((layer, "eps"))
    if eps is None:
        raise FoldError(f"{where}: the normaliser has no numeric eps attribute")
    if norm == "batch":
        mean, var = getattr(layer, "running_mean", None), getattr(layer, "running_var", None)
        if mean is None or var is None:
            raise FoldError(f"{where}: the BatchNorm normaliser has no running statistics (track_running_stats=False)")
        scale = 1.0 / torch.sqrt(_f64(var) + eps)
        weight, bias = getattr(layer, "weight", None), getattr(layer, "bias", None)
        gain = _f64(weight) if isinstance(weight, torch.Tensor) else ones
        offset = _f64(bias) if isinstance(bias, torch.Tensor) else zeros
        return ({"norm_scale": scale * gain, "norm_shift": offset - _f64(mean) * scale * gain},
                {"norm_type": int(spec.NormType.BATCH)})
    weight, bias = getattr(layer, "weight", None), getattr(layer, "bias", None)
    return ({"norm_scale": _f64(weight) if isinstance(weight, torch.Tensor) else ones,
             "norm_shift": _f64(bias) if isinstance(bias, torch.Tensor) else zeros},
            {"norm_type": int(spec.NormType.GROUP), "num_groups": int(layer.num_groups), "epsilon": eps})


def probe_input(channels: int, seed: int = 0) -> torch.Tensor:
    """A float64 [2, C, 5, 3] input whose channels have offsets and spreads from 0.01 to 3 (so that every eps
    and every term of the layer shows in its output)."""
    g = torch.Generator().manual_seed(seed)
    spread = 10.0 ** (torch.rand(1, channels, 1, 1, generator=g, dtype=torch.float64) * 2.5 - 2.0)
    offset = torch.randn(1, channels, 1, 1, generator=g, dtype=torch.float64)
    return torch.randn(2, channels, 5, 3, generator=g, dtype=torch.float64) * spread + offset


def verify_fold(layer: nn.Module, folded: FoldedAN, where: str) -> float:
    """Check that the fused op reproduces ``layer``'s own forward on a float64 probe input.

    Args:
        layer: the eval-mode AN layer (not modified).
        folded: its fold.
        where: the layer's path, for the message.

    Returns:
        The max abs difference.

    Raises:
        FoldError: the layer fails on the probe or the outputs differ by more than ``VERIFY_RTOL`` (relative to
            the output's magnitude).
    """
    x = probe_input(int(folded.attrs["num_channels"]))
    try:
        with torch.no_grad():
            ref = copy.deepcopy(layer).to(torch.float64)(x)
    except (RuntimeError, TypeError, ValueError) as e:
        first = first_line(e)
        raise FoldError(f"{where}: the layer's own forward fails on a float64 probe input: {first}") from None
    out = fused_op(x, folded.tensors, folded.attrs)
    if not isinstance(ref, torch.Tensor) or ref.shape != out.shape:
        raise FoldError(f"{where}: the layer's own forward does not return one tensor shaped like its input")
    diff = float((out - ref).abs().max())
    if not diff <= VERIFY_RTOL * (1.0 + float(ref.abs().max())):
        raise FoldError(f"{where}: the folded op does not reproduce the layer's own forward "
                        f"(max abs {diff:.2e} on a float64 probe); its structure is not understood")
    return diff


def fold(layer: nn.Module, name: str = "", verify: bool = True) -> FoldedAN:
    """Fold one eval-mode AN layer (any class with the structure of :mod:`an_deploy.discover`) into the fused op.

    Args:
        layer: the AN layer.
        name: its qualified name in the model, for messages (default: its class name).
        verify: check the fold against the layer's own forward in float64 (:func:`verify_fold`).

    Returns:
        The float64 constant tensors and resolved attributes of the op.

    Raises:
        FoldError: not an AN layer, in training mode, a part the op cannot represent, or a fold that does not
            reproduce the layer (the message names the layer path and the part).
    """
    where = name or type(layer).__name__
    parts = an_layer_parts(layer)
    if parts is None:
        raise FoldError(f"{where}: {type(layer).__name__} is not an AttentiveNorm layer")
    if any(m.training for m in layer.modules()):
        raise FoldError(f"{where}: fold needs an eval-mode layer (call model.eval()): training uses batch statistics")
    mix_w = _f64(layer.weight_)
    k, c = mix_w.shape
    tensors, attrs = _attention(layer, parts.branch, parts.attention, k, where)
    norm_tensors, norm_attrs = _normaliser(layer, parts.norm, c, where)
    tensors.update(norm_tensors, mix_weight=mix_w, mix_bias=_f64(layer.bias_))
    attrs.update(norm_attrs, num_channels=c, num_affine=k)
    try:
        resolved = spec.resolve_attributes(attrs)
    except ValueError as e:
        raise FoldError(f"{where}: {e}") from None
    for tensor_name, shape in spec.input_shapes(resolved).items():
        if tuple(tensors[tensor_name].shape) != shape:
            raise FoldError(f"{where}: folded {tensor_name} has shape {tuple(tensors[tensor_name].shape)}, "
                            f"expected {shape}")
    folded = FoldedAN(tensors={s.name: tensors[s.name] for s in spec.PARAM_INPUTS}, attrs=resolved,
                      source=type(layer).__name__)
    if verify:
        verify_fold(layer, folded, where)
    return folded
