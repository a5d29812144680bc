"""iVMCL-Release Python training config (``model = dict(type='ResNetAN', ...)``) -> :class:`ModelConfig`.

The file is parsed as literal assignments (:mod:`literal_py`), never executed. ``model`` names the
architecture and every option; options that change the numbers or the keys are passed to the builder,
options that only matter in training (``norm_eval``, ``frozen_stages``, ``with_cp``, ...) are accepted and
recorded, and options this tool cannot build (deformable convs, plugins, HOG input, a backbone without
classifier) are refused with one line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from an_deploy.models.ivmcl_release.densenet import DenseNet
from an_deploy.models.ivmcl_release.literal_py import read_literal_assignments
from an_deploy.models.ivmcl_release.mobilenetv2 import MobileNetV2
from an_deploy.models.ivmcl_release.norms import is_attn
from an_deploy.models.ivmcl_release.resnet_an import ResNetAN, resnet_v1d_an
from an_deploy.models.model_config import ConfigError, ModelConfig, OptionSource

INT, FLOAT, STR, BOOL, INTS, DICT = "int", "float", "str", "bool", "ints", "dict"
_CHECKS: dict[str, Callable[[Any], bool]] = {
    INT: lambda v: isinstance(v, int) and not isinstance(v, bool),
    FLOAT: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    STR: lambda v: isinstance(v, str),
    BOOL: lambda v: isinstance(v, bool),
    INTS: lambda v: isinstance(v, (tuple, list)) and all(_CHECKS[INT](e) for e in v),
    DICT: lambda v: isinstance(v, dict),
}
# accepted everywhere, no effect on an eval-mode classifier's numbers or keys
_TRAINING_ONLY = {"out_indices": INTS, "norm_eval": BOOL, "frozen_stages": INT, "pretrained": STR}
# options this tool cannot build unless they hold the value that turns them off
_OFF_ONLY: dict[str, tuple[Any, ...]] = {"conv_cfg": (None,), "dcn": (None,), "plugins": (None,),
                                        "with_hog": (False,), "block": (None,)}


@dataclass(frozen=True)
class _Arch:
    builder: Callable[..., nn.Module]
    options: dict[str, str]  # option -> kind, passed to the builder
    ignored: dict[str, str]  # option -> kind, accepted and recorded only
    norms: tuple[str, ...]
    label: Callable[[dict[str, Any]], str]


_RESNET_OPTIONS = {
    "depth": INT, "in_channels": INT, "stem_channels": INT, "base_channels": INT, "num_stages": INT,
    "strides": INTS, "dilations": INTS, "style": STR, "norm_cfg_stem": DICT, "norm_cfg_ds": DICT,
    "norm_cfg1": DICT, "norm_cfg2": DICT, "norm_cfg3": DICT, "num_affine_trans": INTS,
}
_RESNET_IGNORED = {"with_cp": BOOL, "zero_init_residual": BOOL, "stage_with_dcn": "any", "stage_with_hog": "any"}
_ARCHS: dict[str, _Arch] = {
    "ResNetAN": _Arch(ResNetAN, {**_RESNET_OPTIONS, "deep_stem": BOOL, "avg_down": BOOL}, _RESNET_IGNORED,
                      ("norm_cfg_stem", "norm_cfg_ds", "norm_cfg1", "norm_cfg2", "norm_cfg3"),
                      lambda o: f"ResNetAN-{o.get('depth')}"),
    "ResNetV1dAN": _Arch(resnet_v1d_an, _RESNET_OPTIONS, _RESNET_IGNORED,
                         ("norm_cfg_stem", "norm_cfg_ds", "norm_cfg1", "norm_cfg2", "norm_cfg3"),
                         lambda o: f"ResNetV1dAN-{o.get('depth')}"),
    "MobileNetV2": _Arch(MobileNetV2, {
        "in_channels": INT, "width_mult": FLOAT, "inverted_residual_setting": "any", "round_nearest": INT,
        "norm_cfg_stem": DICT, "norm_cfg1": DICT, "norm_cfg2": DICT, "norm_cfg3": DICT, "norm_cfg_final": DICT,
        "num_affine_trans": INTS}, {},
        ("norm_cfg_stem", "norm_cfg1", "norm_cfg2", "norm_cfg3", "norm_cfg_final"), lambda o: "MobileNetV2"),
    "DenseNet": _Arch(DenseNet, {
        "depth": INT, "in_channels": INT, "stem_type": STR, "bn_size": INT, "norm_cfg_transition": DICT,
        "norm_cfg1": DICT, "norm_cfg2": DICT, "norm_cfg_final": DICT, "num_affine_trans": INTS},
        {"drop_rate": FLOAT, "memory_efficient": BOOL},
        ("norm_cfg_transition", "norm_cfg1", "norm_cfg2", "norm_cfg_final"), lambda o: f"DenseNet-{o.get('depth')}"),
}
# the AN layer defaults of the authors' code, recorded when a config leaves them out
_AN_DEFAULTS = {"attn_mode": 0, "use_rsd": True, "use_maxpool": False, "eps_var": 1e-3,
                "act_cfg": {"type": "HSigmoidv2"}}
_AN_GN_DEFAULTS = {**_AN_DEFAULTS, "attn_mode": 1, "num_groups_attn": 1}
DEFAULT_CROP = 224


def _frozen(value: Any) -> Any:
    """Lists -> tuples (recursively), so recorded options are immutable and compare like the configs' tuples."""
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value


def _check_model(model: Mapping[str, Any], arch: _Arch, where: str) -> dict[str, Any]:
    """The builder's keyword arguments; raises ConfigError for unknown, mistyped or unbuildable options."""
    kwargs: dict[str, Any] = {}
    for key, value in model.items():
        if key in ("type", "num_classes"):
            continue
        if key in _OFF_ONLY:
            if value not in _OFF_ONLY[key]:
                allowed = " or ".join(map(repr, _OFF_ONLY[key]))
                raise ConfigError(f"{where}: model option {key!r} is not supported by this tool (it must be {allowed})")
            continue
        kind = arch.options.get(key) or arch.ignored.get(key) or _TRAINING_ONLY.get(key)
        if kind is None:
            raise ConfigError(f"{where}: unknown option {key!r} for model type {model['type']!r}")
        if kind != "any" and not _CHECKS[kind](value):
            raise ConfigError(f"{where}: model option {key} must be {kind}, got {value!r}")
        if key in arch.options:
            kwargs[key] = _frozen(value)
    return kwargs


def _record(model: Mapping[str, Any], arch: _Arch, source: str) -> dict[str, OptionSource]:
    options = {key: OptionSource(_frozen(value), source) for key, value in model.items()}
    for norm in arch.norms:
        cfg = model.get(norm)
        if isinstance(cfg, dict) and is_attn(cfg):
            defaults = _AN_GN_DEFAULTS if cfg.get("type") == "AttnGN" else _AN_DEFAULTS
            for opt, default in defaults.items():
                where = source if opt in cfg else f"iVMCL-Release default ({cfg['type']})"
                options[f"{norm}.{opt}"] = OptionSource(_frozen(cfg.get(opt, default)), where)
    return options


def _input_shape(bound: Mapping[str, Any], in_channels: int) -> tuple[tuple[int, int, int, int], str | None]:
    """N x C x crop x crop from ``data_cfg.val_cfg.crop_size`` when the config states it."""
    data_cfg = bound.get("data_cfg")
    val_cfg = data_cfg.get("val_cfg") if isinstance(data_cfg, dict) else None
    crop = val_cfg.get("crop_size") if isinstance(val_cfg, dict) else None
    if isinstance(crop, int) and not isinstance(crop, bool) and crop > 0:
        return (1, in_channels, crop, crop), "data_cfg.val_cfg.crop_size"
    return (1, in_channels, DEFAULT_CROP, DEFAULT_CROP), None


def read_py(path: str | Path) -> ModelConfig:
    """Read an iVMCL-Release classification config (a ``.py`` file) without executing it.

    Args:
        path: the config file.

    Returns:
        The architecture (``build(num_classes)`` makes the module in eval mode), the class count, the input
        shape (``data_cfg.val_cfg.crop_size``, else 224) and every model option with its source.

    Raises:
        ConfigError: anything but literal assignments, no ``model`` dict, an unsupported model type or option,
            or option values the architecture rejects (one line each).
    """
    path = Path(path)
    bound = read_literal_assignments(path)
    source = f"config {path.name}"
    if "_base_" in bound:
        raise ConfigError(f"{path}: '_base_' config inheritance is not supported; write the model dict in one file")
    model = bound.get("model")
    if not isinstance(model, dict):
        raise ConfigError(f"{path}: no 'model = dict(...)' assignment")
    kind = model.get("type")
    if kind not in _ARCHS:
        raise ConfigError(f"{path}: unsupported model type {kind!r}; supported: {', '.join(sorted(_ARCHS))}")
    arch = _ARCHS[kind]
    kwargs = _check_model(model, arch, str(path))
    num_classes = model.get("num_classes", 0)
    if not _CHECKS[INT](num_classes) or num_classes <= 0:
        raise ConfigError(f"{path}: num_classes={num_classes!r}: only classifiers (num_classes > 0) are supported")
    try:
        with torch.device("meta"):
            arch.builder(num_classes=num_classes, **kwargs)
    except ValueError as e:
        raise ConfigError(f"{path}: {e}") from None

    def build(n: int) -> nn.Module:
        return arch.builder(num_classes=n, **kwargs).eval()

    options = _record(model, arch, source)
    input_shape, crop_source = _input_shape(bound, int(kwargs.get("in_channels", 3)))
    options["input_shape"] = OptionSource(input_shape, source if crop_source else "default (224 x 224)")
    has_an = any(isinstance(model.get(n), dict) and is_attn(model[n]) for n in arch.norms)
    return ModelConfig(name=f"iVMCL-Release {arch.label(model)} ({'AN' if has_an else 'BN'})",
                       family="ivmcl-release", build=build, num_classes=num_classes, input_shape=input_shape,
                       options=options, path=path)
