"""The AttentiveNorm op contract: the one place that names the fused op, its inputs and attributes.

Everything that emits or consumes the op reads this module: ``fold`` produces tensors named after
``INPUTS``, the ONNX exporter writes a node with exactly ``ATTRIBUTES``, and the TensorRT plugin's
creator lists the same fields (a test compares the plugin against this file).

The op (all arithmetic in float32 or wider, X may be float32 or float16)::

    x: [N, C, H, W], L = H * W
    mu[n,c]  = mean over (h, w) of x[n,c]
    var[n,c] = sum over (h, w) of (x[n,c] - mu[n,c])^2 / max(L - 1, 1)     # unbiased; 0 when L == 1
    mx[n,c]  = max over (h, w) of x[n,c]
    u = mu * rsqrt(var + eps_var)        if attn_input == RSD
        mu                               if attn_input == AVG
        mu + mx                          if attn_input == AVG_MAX
    h = attn_w1 @ u + attn_b1;  h = relu(h) if hidden_activation == RELU      # [H1]
    z = attn_w2 @ h + attn_b2                                                  # [K]
    if attn_norm_groups > 0: z = group-standardise z over attn_norm_groups groups of K
                                 (biased variance, eps attn_norm_eps)
    z = z * attn_scale + attn_shift
    lam = sigmoid(z) | hsigmoid(z) = relu6(z + 3) / 6 | softmax(z)            # activation
    gamma = lam @ mix_weight;  beta = lam @ mix_bias                           # [C]
    xn = x                                              if norm_type == BATCH
         (x - mean_g) * rsqrt(var_g + epsilon)          if norm_type == GROUP (per sample and group,
                                                           biased variance over C/G * H * W values)
    y = gamma * (xn * norm_scale + norm_shift) + beta

For the BatchNorm variant the running statistics are folded into ``norm_scale``/``norm_shift``
(``y = A x + B`` per (n, c)); for the GroupNorm variant they are ones and zeros. A one-layer attention
branch is expressed with ``hidden_activation == IDENTITY`` and ``attn_w2`` the identity.

The original layer gives NaN for L == 1 (unbiased variance of one value); this op, and every
implementation in this project, defines that variance as 0 instead.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

OP_NAME = "AttentiveNorm"
DOMAIN = "an_deploy"
OP_VERSION = 1
FUNCTION_NAME = OP_NAME  # the model-local ONNX function carries the op's name in the op's domain
PLUGIN_NAME = OP_NAME
PLUGIN_VERSION = "1"
PLUGIN_NAMESPACE = ""


class NormType(enum.IntEnum):
    BATCH = 0
    GROUP = 1


class AttnInput(enum.IntEnum):
    RSD = 0
    AVG = 1
    AVG_MAX = 2


class HiddenActivation(enum.IntEnum):
    IDENTITY = 0
    RELU = 1


class Activation(enum.IntEnum):
    SIGMOID = 0
    HSIGMOID = 1
    SOFTMAX = 2


class AttrType(enum.Enum):
    """ONNX attribute type; the TensorRT parser maps INT -> kINT32 and FLOAT -> kFLOAT32."""

    INT = "INT"
    FLOAT = "FLOAT"


@dataclass(frozen=True)
class Attribute:
    name: str
    type: AttrType
    default: int | float | None  # None: required
    doc: str


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[str, ...]  # symbolic dimensions
    dtype: str  # "T" (float32 or float16, same as X) or "float32"
    doc: str


INPUTS: tuple[TensorSpec, ...] = (
    TensorSpec("X", ("N", "C", "H", "W"), "T", "input activations"),
    TensorSpec("attn_w1", ("H1", "C"), "float32", "first attention layer, branch norms folded in"),
    TensorSpec("attn_b1", ("H1",), "float32", "first attention layer bias"),
    TensorSpec("attn_w2", ("K", "H1"), "float32", "second attention layer (identity if none)"),
    TensorSpec("attn_b2", ("K",), "float32", "second attention layer bias"),
    TensorSpec("attn_scale", ("K",), "float32", "affine after the optional logit group norm"),
    TensorSpec("attn_shift", ("K",), "float32", "affine after the optional logit group norm"),
    TensorSpec("mix_weight", ("K", "C"), "float32", "the K affine weights (weight_)"),
    TensorSpec("mix_bias", ("K", "C"), "float32", "the K affine biases (bias_)"),
    TensorSpec("norm_scale", ("C",), "float32", "BN: rsqrt(running_var + eps); GN: ones"),
    TensorSpec("norm_shift", ("C",), "float32", "BN: -running_mean * norm_scale; GN: zeros"),
)
OUTPUTS: tuple[TensorSpec, ...] = (TensorSpec("Y", ("N", "C", "H", "W"), "T", "output"),)

PARAM_INPUTS: tuple[TensorSpec, ...] = INPUTS[1:]

ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("num_channels", AttrType.INT, None, "C"),
    Attribute("num_affine", AttrType.INT, None, "K, the number of mixed affines"),
    Attribute("attn_hidden", AttrType.INT, None, "H1, rows of attn_w1"),
    Attribute("norm_type", AttrType.INT, int(NormType.BATCH), "0 batch (folded stats), 1 group"),
    Attribute("num_groups", AttrType.INT, 1, "groups of the GROUP normaliser; divides C"),
    Attribute("epsilon", AttrType.FLOAT, 1e-5, "eps of the GROUP normaliser"),
    Attribute("attn_input", AttrType.INT, int(AttnInput.RSD), "0 mean*rsqrt(var+eps_var), 1 mean, 2 mean+max"),
    Attribute("eps_var", AttrType.FLOAT, 1e-3, "eps of the attention input"),
    Attribute("hidden_activation", AttrType.INT, int(HiddenActivation.IDENTITY), "0 identity, 1 relu"),
    Attribute("attn_norm_groups", AttrType.INT, 0, "0: none; G: group norm over the K logits"),
    Attribute("attn_norm_eps", AttrType.FLOAT, 1e-5, "eps of the logit group norm"),
    Attribute("activation", AttrType.INT, int(Activation.HSIGMOID), "0 sigmoid, 1 hsigmoid, 2 softmax"),
)

ATTRIBUTE_NAMES: tuple[str, ...] = tuple(a.name for a in ATTRIBUTES)
_ATTR = {a.name: a for a in ATTRIBUTES}
_ENUMS: dict[str, type[enum.IntEnum]] = {
    "norm_type": NormType,
    "attn_input": AttnInput,
    "hidden_activation": HiddenActivation,
    "activation": Activation,
}


def resolve_attributes(attrs: Mapping[str, int | float]) -> dict[str, int | float]:
    """Fill defaults and coerce types, in contract order.

    Args:
        attrs: attribute values by name; unknown names are an error.

    Returns:
        Every attribute of the contract, in ``ATTRIBUTES`` order.

    Raises:
        ValueError: unknown or missing attribute, or a value that breaks a rule of
            :func:`attribute_errors`.
    """
    unknown = sorted(set(attrs) - set(ATTRIBUTE_NAMES))
    if unknown:
        raise ValueError(f"unknown AttentiveNorm attribute(s): {', '.join(unknown)}")
    out: dict[str, int | float] = {}
    for a in ATTRIBUTES:
        if a.name in attrs:
            value = attrs[a.name]
        elif a.default is not None:
            value = a.default
        else:
            raise ValueError(f"missing required AttentiveNorm attribute: {a.name}")
        out[a.name] = int(value) if a.type is AttrType.INT else float(value)
    errors = attribute_errors(out)
    if errors:
        raise ValueError("invalid AttentiveNorm attributes: " + "; ".join(errors))
    return out


def attribute_errors(attrs: Mapping[str, int | float]) -> list[str]:
    """Every rule the attributes must satisfy (the plugin creator enforces the same list)."""
    errors: list[str] = []
    for name in ("num_channels", "num_affine", "attn_hidden", "num_groups"):
        if int(attrs[name]) < 1:
            errors.append(f"{name} must be >= 1, got {attrs[name]}")
    for name in ("epsilon", "eps_var", "attn_norm_eps"):
        if not float(attrs[name]) > 0.0:
            errors.append(f"{name} must be > 0, got {attrs[name]}")
    for name, kind in _ENUMS.items():
        if int(attrs[name]) not in {int(m) for m in kind}:
            allowed = ", ".join(f"{int(m)} ({m.name.lower()})" for m in kind)
            errors.append(f"{name} must be one of {allowed}, got {attrs[name]}")
    c, k, g = int(attrs["num_channels"]), int(attrs["num_affine"]), int(attrs["num_groups"])
    if int(attrs["norm_type"]) == NormType.GROUP and g >= 1 and c % g:
        errors.append(f"num_groups {g} does not divide num_channels {c}")
    ag = int(attrs["attn_norm_groups"])
    if ag < 0 or (ag > 0 and k % ag):
        errors.append(f"attn_norm_groups {ag} must be 0 or divide num_affine {k}")
    return errors


def input_shapes(attrs: Mapping[str, int | float]) -> dict[str, tuple[int, ...]]:
    """Concrete shapes of the parameter inputs for resolved attributes."""
    dims = {"C": int(attrs["num_channels"]), "K": int(attrs["num_affine"]), "H1": int(attrs["attn_hidden"])}
    return {t.name: tuple(dims[d] for d in t.shape) for t in PARAM_INPUTS}


def attribute(name: str) -> Attribute:
    """The contract entry for one attribute name."""
    return _ATTR[name]
