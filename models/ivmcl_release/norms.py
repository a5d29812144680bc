"""mmcv-style norm configs (``dict(type='AttnBN2d', ...)``) -> the layer and the name the authors' code gives it.

iVMCL-Release builds every norm with mmcv's ``build_norm_layer(cfg, num_features, postfix)``, which names the
submodule after the layer type's abbreviation plus the postfix: ``bn2`` for ``BN``, ``gn2`` for ``GN``, and
``AttnBN2d2`` / ``AttnGN2`` for the AN layers. The state-dict keys follow those names, so the builders here
use the same rule. Its backbones give each stage its own K by writing ``num_affine_trans`` into AN configs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import nn

from an_deploy.models.attentive_norm import AttnBatchNorm2d, AttnGroupNorm

NormCfg = Mapping[str, Any]
BN_CFG: dict[str, Any] = {"type": "BN", "requires_grad": True}

# type -> (abbreviation in module names, keyword arguments the layer takes besides the channel count)
_NORM_TYPES: dict[str, tuple[str, frozenset[str]]] = {
    "BN": ("bn", frozenset({"eps", "momentum", "affine", "track_running_stats"})),
    "BN2d": ("bn", frozenset({"eps", "momentum", "affine", "track_running_stats"})),
    "SyncBN": ("bn", frozenset({"eps", "momentum", "affine", "track_running_stats"})),
    "GN": ("gn", frozenset({"num_groups", "eps", "affine"})),
    "AttnBN2d": ("AttnBN2d", frozenset({"num_affine_trans", "attn_mode", "eps", "momentum", "track_running_stats",
                                         "use_rsd", "use_maxpool", "eps_var", "act_cfg"})),
    "AttnGN": ("AttnGN", frozenset({"num_affine_trans", "num_groups", "num_groups_attn", "attn_mode", "eps",
                                     "use_rsd", "use_maxpool", "eps_var", "act_cfg"})),
}
_REQUIRED = {"GN": ("num_groups",), "AttnBN2d": ("num_affine_trans",),
             "AttnGN": ("num_affine_trans", "num_groups", "num_groups_attn")}


def is_attn(cfg: NormCfg) -> bool:
    """Whether a norm config asks for an AN layer (the authors test ``'Attn' in cfg['type']``)."""
    return "Attn" in str(cfg.get("type", ""))


def with_k(cfg: NormCfg, num_affine_trans: Sequence[int], index: int) -> dict[str, Any]:
    """``cfg`` with the stage's K written in when it is an AN config, as the authors' backbones do.

    Raises:
        ValueError: ``num_affine_trans`` has no entry for ``index``.
    """
    out = dict(cfg)
    if is_attn(cfg):
        if not -len(num_affine_trans) <= index < len(num_affine_trans):
            raise ValueError(f"num_affine_trans {tuple(num_affine_trans)} has no entry for stage {index}")
        out["num_affine_trans"] = int(num_affine_trans[index])
    return out


def check_norm_cfg(cfg: object, what: str) -> None:
    """Validate a norm config without building it (type known, required keys present, no unknown keys).

    Raises:
        ValueError: one line naming ``what`` (e.g. ``"norm_cfg2"``) and the problem.
    """
    if not isinstance(cfg, Mapping):
        raise ValueError(f"{what} must be a dict, got {type(cfg).__name__}")
    kind = cfg.get("type")
    if kind not in _NORM_TYPES:
        raise ValueError(f"{what}: unsupported norm type {kind!r}; supported: {', '.join(sorted(_NORM_TYPES))}")
    accepted = _NORM_TYPES[kind][1] | {"type", "requires_grad"}
    unknown = sorted(set(cfg) - accepted)
    if unknown:
        raise ValueError(f"{what}: norm type {kind!r} does not take {', '.join(map(str, unknown))}")


def build_norm(cfg: NormCfg, num_features: int, postfix: int | str = "") -> tuple[str, nn.Module]:
    """Build one norm layer from an mmcv-style config, named as ``build_norm_layer`` names it.

    Args:
        cfg: ``{"type": "BN" | "BN2d" | "SyncBN" | "GN" | "AttnBN2d" | "AttnGN", **layer options}``; ``requires_grad``
            is accepted and ignored (it does not change the numbers); ``eps`` defaults to 1e-5.
        num_features: channels.
        postfix: appended to the abbreviation (``bn`` + ``2`` -> ``bn2``).

    Returns:
        ``(name, layer)``. ``SyncBN`` becomes a ``BatchNorm2d`` (same keys, same eval-mode numbers).

    Raises:
        ValueError: unknown type, unknown or missing option, or an option value the layer rejects.
    """
    check_norm_cfg(cfg, "norm config")
    options = {k: v for k, v in cfg.items() if k not in ("type", "requires_grad")}
    kind = str(cfg["type"])
    missing = [k for k in _REQUIRED.get(kind, ()) if k not in options]
    if missing:
        raise ValueError(f"norm type {kind!r} needs {', '.join(missing)}")
    options.setdefault("eps", 1e-5)
    name = f"{_NORM_TYPES[kind][0]}{postfix}"
    layer: nn.Module
    if kind == "GN":
        layer = nn.GroupNorm(num_channels=num_features, **options)
    elif kind == "AttnBN2d":
        layer = AttnBatchNorm2d(num_features, **options)
    elif kind == "AttnGN":
        layer = AttnGroupNorm(num_features, **options)
    else:
        layer = nn.BatchNorm2d(num_features, **options)
    return name, layer
