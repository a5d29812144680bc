"""Read an AOGNet-v2 training config (YAML) into a :class:`ModelConfig` that builds exactly that network.

The training code merges the file over its defaults (``models/config.py``, a yacs ``CfgNode``): a key that is
not a default is an error, a value must have its default's type (a list may stand for a tuple), and a string
value that reads as a Python literal (``1e-4``, which YAML 1.1 leaves a string) is that literal. This reader
applies the same rules to the same defaults, so a file the training code accepted reads here, and a file it
would have refused is one :class:`ConfigError` line.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn

from an_deploy.models.aognet_v2.aognet import aognet_from_config
from an_deploy.models.aognet_v2.builders import (
    BASIC_BLOCK_ARCHS,
    MOBILENET_ARCHS,
    MOBILENET_NUM_CLASSES,
    NORM_NAMES,
    RESNET_ARCHS,
    mobilenet_from_config,
    resnet_from_config,
)
from an_deploy.models.attentive_norm import MODE_LAYOUT
from an_deploy.models.model_config import ConfigError, ModelConfig, OptionSource

FAMILY = "aognet-v2"

# The defaults of the AOGNet-v2 training code (its models/config.py), as facts.
DEFAULTS: dict[str, Any] = {
    "arch": "aognet", "batch_size": 128, "num_epoch": 300, "dataset": "cifar10", "num_classes": 10,
    "crop_size": 224, "crop_interpolation": 2, "optimizer": "SGD", "gamma": 0.1, "use_cosine_lr": False,
    "cosine_lr_min": 0.0, "warmup_epochs": 5, "lr": 0.1, "lr_scale_factor": 256, "lr_milestones": [150, 225],
    "momentum": 0.9, "wd": 5e-4, "nesterov": False, "activation_mode": 0, "init_mode": "kaiming",
    "norm_name": "BatchNorm2d", "norm_groups": 0, "norm_k": [0], "norm_attention_mode": 0,
    "norm_zero_gamma_init": False, "norm_all_mix": False,
    "dataaug": {"imagenet_extra_aug": False, "labelsmoothing_rate": 0.0, "mixup_rate": 0.0},
    "stem": {"imagenet_head7x7": False, "replace_maxpool_with_res_bottleneck": False, "stem_kernel_size": 7,
             "stem_stride": 2},
    "resnet": {"base_inplanes": 16, "replace_stride_with_dilation": [False, False, False],
               "replace_stride_with_avgpool": False, "extra_norm_ac": False},
    "mobilenet": {"rm_se": False, "use_mn_in_se": False},
    "aognet": {
        "filter_list": [16, 64, 128, 256], "out_channels": [0, 0], "blocks": [1, 1, 1], "dims": [4, 4, 4],
        "max_split": [2, 2, 2], "extra_node_hierarchy": [0, 0, 0], "remove_symmetric_children_of_or_node": [0, 0, 0],
        "terminal_node_no_slice": [0, 0, 0], "stride": [1, 2, 2], "drop_rate": [0.0, 0.0, 0.0],
        "bottleneck_ratio": 0.25, "handle_dbl_cnt": True, "handle_tnode_dbl_cnt": False,
        "handle_dbl_cnt_in_param_init": False, "use_group_conv": False, "width_per_group": 0, "when_downsample": 0,
        "replace_stride_with_avgpool": True, "use_elem_max_for_ORNodes": False,
    },
}

# The options that change a ResNet's / MobileNetV2's numbers (dotted keys); AOGNet records its whole config.
_NORM_OPTIONS = ("norm_name", "norm_k", "norm_attention_mode", "norm_groups")
RESNET_OPTIONS = ("arch", *_NORM_OPTIONS, "norm_all_mix", "dataset", "num_classes", "crop_size",
                  "stem.imagenet_head7x7", "stem.stem_kernel_size", "stem.stem_stride", "resnet.base_inplanes",
                  "resnet.replace_stride_with_dilation", "resnet.replace_stride_with_avgpool", "resnet.extra_norm_ac")
MOBILENET_OPTIONS = ("arch", *_NORM_OPTIONS, "crop_size")
AOGNET_OPTIONS = ("arch", *_NORM_OPTIONS, "norm_all_mix", "activation_mode", "dataset", "num_classes", "crop_size",
                  *(f"stem.{key}" for key in DEFAULTS["stem"]), *(f"aognet.{key}" for key in DEFAULTS["aognet"]))


def _decode(value: Any) -> Any:
    """A string that reads as a Python literal becomes that literal (yacs' rule); anything else is kept."""
    if isinstance(value, str):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return value


def _merge(defaults: dict[str, Any], values: dict[str, Any], where: str) -> dict[str, Any]:
    merged = copy.deepcopy(defaults)
    for key, raw in values.items():
        dotted = f"{where}{key}"
        if key not in defaults:
            raise ConfigError(f"unknown key {dotted!r} (not an AOGNet-v2 config option)")
        default, value = defaults[key], _decode(raw)
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{dotted!r} must be a section of keys, got {value!r}")
            merged[key] = _merge(default, value, dotted + ".")
        elif isinstance(default, list) and isinstance(value, (list, tuple)):
            merged[key] = list(value)
        elif type(value) is not type(default):
            raise ConfigError(f"{dotted!r} must be {type(default).__name__} like its default {default!r}, "
                              f"got {value!r}")
        else:
            merged[key] = value
    return merged


def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read the config: {e}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(e, "problem", None) or type(e).__name__
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: an AOGNet-v2 config is a mapping of keys, got {type(data).__name__}")
    return data


def _get(cfg: dict[str, Any], dotted: str) -> Any:
    value: Any = cfg
    for part in dotted.split("."):
        value = value[part]
    return value


def _stated(values: dict[str, Any], dotted: str) -> bool:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _unused(cfg: dict[str, Any]) -> set[str]:
    """The options that do not change this ResNet's / MobileNetV2's numbers (read by no layer it builds)."""
    unused = set()
    if "Mixture" not in cfg["norm_name"]:
        unused |= {"norm_k", "norm_attention_mode"}
    if "GroupNorm" not in cfg["norm_name"]:
        unused.add("norm_groups")
    if not cfg["stem"]["imagenet_head7x7"]:
        unused |= {"stem.stem_kernel_size", "stem.stem_stride", "dataset"}
    return unused


def _options(cfg: dict[str, Any], values: dict[str, Any], keys: tuple[str, ...], name: str,
             unused: set[str] | None = None) -> dict[str, OptionSource]:
    return {
        key: OptionSource(_get(cfg, key), f"config {name}" if _stated(values, key) else f"default (not in {name})")
        for key in keys if key not in (unused or set())
    }


def _check_common(cfg: dict[str, Any]) -> None:
    if cfg["norm_name"] not in NORM_NAMES:
        raise ConfigError(f"norm_name {cfg['norm_name']!r} is not one of {', '.join(NORM_NAMES)}")
    if "Mixture" in cfg["norm_name"] and cfg["norm_attention_mode"] not in MODE_LAYOUT:
        raise ConfigError(f"norm_attention_mode must be one of {sorted(MODE_LAYOUT)}, got {cfg['norm_attention_mode']}")
    if cfg["crop_size"] < 32:
        raise ConfigError(f"crop_size must be at least 32, got {cfg['crop_size']}")


def _describe(cfg: dict[str, Any]) -> str:
    norm = cfg["norm_name"]
    if "Mixture" in norm:
        return f"AOGNet-v2 {cfg['arch']} (AN: {norm}, mode {cfg['norm_attention_mode']}, K={cfg['norm_k']})"
    return f"AOGNet-v2 {cfg['arch']} ({norm})"


def _validated(build: Callable[[int], nn.Module], num_classes: int) -> None:
    """Build once on the meta device (no memory, no compute), so every architecture error shows up now."""
    with torch.device("meta"):
        build(num_classes)


def read_yaml(path: str | Path) -> ModelConfig:
    """Read an AOGNet-v2 training config and describe the network it trains.

    Args:
        path: the YAML file (e.g. ``resnet-50-an-imagenet.yaml``, the ``config.yaml`` saved beside a checkpoint).

    Returns:
        A :class:`ModelConfig` whose ``build(num_classes)`` makes that network (eval mode, float32); its
        ``options`` list every option that changes the numbers and whether the file or a default set it.

    Raises:
        ConfigError: unreadable or invalid YAML, an unknown key, a value of the wrong type, or a network this tool
            cannot build (with the reason, in one line).
    """
    path = Path(path)
    values = _load(path)
    try:
        cfg = _merge(DEFAULTS, values, "")
        _check_common(cfg)
    except ConfigError as e:
        raise ConfigError(f"{path.name}: {e}") from None
    aognet_builder = aognet_from_config if cfg["arch"].startswith("aognet") else None
    try:
        return _model_config(path, cfg, values, aognet_builder)
    except ConfigError as e:
        raise ConfigError(f"{path.name}: {e}") from None


def _model_config(path: Path, cfg: dict[str, Any], values: dict[str, Any],
                  aognet_from_config: Callable[[dict[str, Any], int], nn.Module] | None) -> ModelConfig:
    arch, name = cfg["arch"], path.name
    input_shape = (1, 3, cfg["crop_size"], cfg["crop_size"])
    num_classes: int = cfg["num_classes"]
    if aognet_from_config is not None:
        options = _options(cfg, values, AOGNET_OPTIONS, name)

        def build(n: int) -> nn.Module:
            return aognet_from_config(copy.deepcopy(cfg), n).eval()
    elif arch in RESNET_ARCHS or arch in BASIC_BLOCK_ARCHS:
        options = _options(cfg, values, RESNET_OPTIONS, name, _unused(cfg))

        def build(n: int) -> nn.Module:
            return resnet_from_config(cfg, n).eval()
    elif arch in MOBILENET_ARCHS:
        options = _options(cfg, values, MOBILENET_OPTIONS, name, _unused(cfg))
        options["num_classes"] = OptionSource(MOBILENET_NUM_CLASSES, f"the AOGNet-v2 mobilenet_v2 ignores num_classes "
                                                                     f"(config {name} says {num_classes})")
        num_classes = MOBILENET_NUM_CLASSES

        def build(n: int) -> nn.Module:
            return mobilenet_from_config(cfg, n).eval()
    else:
        known = ", ".join(["aognet", *RESNET_ARCHS, *MOBILENET_ARCHS])
        raise ConfigError(f"arch {arch!r} is not an AOGNet-v2 network this tool builds ({known})")
    _validated(build, num_classes)
    return ModelConfig(name=_describe(cfg), family=FAMILY, build=build, num_classes=num_classes,
                       input_shape=input_shape, options=options, path=path)
