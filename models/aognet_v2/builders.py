"""Build AOGNet-v2's ResNet / ResNeXt and MobileNetV2 from a resolved training config (a nested dict).

The rules are those of the authors' ``models/resnet.py`` and ``models/mobilenet.py`` (read as facts):

* ``norm_name`` is the norm after each 3x3 conv of a bottleneck (ResNet) or after each depthwise conv
  (MobileNetV2); every other norm is its base ("BatchNorm2d" for the BatchNorm names, "GroupNorm" for the
  GroupNorm names), except that with ``norm_all_mix`` a ResNet uses ``norm_name`` everywhere.
* An AN layer takes the K of its stage (ResNet: the stem uses stage 0's; MobileNetV2: one K per setting row).
* ``norm_zero_gamma_init`` and ``init_mode`` only change the initial weights; ``activation_mode`` is not read
  by these two networks (they use ReLU and ReLU6); ``mobilenet.*`` is read by neither.
* MobileNetV2 is always built with 1000 classes: the original calls ``mobilenet_v2()`` without the config's
  ``num_classes``.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from an_deploy.models.attentive_norm import GROUPNORM_MODES, MixtureBatchNorm2d, MixtureGroupNorm
from an_deploy.models.mobilenetv2 import SETTINGS, MobileNetV2
from an_deploy.models.model_config import ConfigError
from an_deploy.models.resnet import NormFactory, ResNet, ResNetOptions

# arch -> (blocks per stage, groups, width per group); the Bottleneck networks the original can build
RESNET_ARCHS: dict[str, tuple[tuple[int, ...], int, int]] = {
    "resnet50": ((3, 4, 6, 3), 1, 64),
    "resnet101": ((3, 4, 23, 3), 1, 64),
    "resnet152": ((3, 8, 36, 3), 1, 64),
    "resnext50_32x4d": ((3, 4, 6, 3), 32, 4),
    "resnext101_32x8d": ((3, 4, 23, 3), 32, 8),
    "resnext101_64x4d": ((3, 4, 23, 3), 64, 4),
}
# the original's BasicBlock takes no norm_all_mix argument, so its ResNet cannot build these
BASIC_BLOCK_ARCHS = ("resnet18", "resnet34")
MOBILENET_ARCHS = ("mobilenet_v2",)
MOBILENET_NUM_CLASSES = 1000
NORM_NAMES = ("BatchNorm2d", "MixtureBatchNorm2d", "GroupNorm", "MixtureGroupNorm")


def base_norm_name(norm_name: str, all_mix: bool) -> str:
    """The norm used everywhere AN is not: ``norm_name`` itself with ``norm_all_mix``, else its plain base."""
    if all_mix:
        return norm_name
    return "BatchNorm2d" if "BatchNorm2d" in norm_name else "GroupNorm"


def _check_ks(ks: list[Any], count: int, what: str) -> tuple[int, ...]:
    if len(ks) != count or not all(isinstance(k, int) and not isinstance(k, bool) and k > 1 for k in ks):
        raise ConfigError(f"norm_k must list {count} integers > 1 (one K per {what}) for a Mixture norm, got {ks}")
    return tuple(ks)


def norm_factory(name: str, ks: tuple[int, ...], mode: int, groups: int) -> NormFactory:
    """``(channels, stage) -> module`` for one of the authors' norm names.

    Raises:
        ConfigError: a norm the original cannot run (its plain GroupNorm passes channels and groups to
            ``nn.GroupNorm`` in swapped order), an attention mode the norm does not support, or channels that
            the groups do not divide.
    """
    if name == "BatchNorm2d":
        return lambda channels, stage: nn.BatchNorm2d(channels)
    if name == "GroupNorm":
        raise ConfigError("a plain GroupNorm layer cannot be built: the AOGNet-v2 code passes (channels, groups) to "
                          "nn.GroupNorm in swapped order, so no such model was trained")
    if name == "MixtureBatchNorm2d":
        return lambda channels, stage: MixtureBatchNorm2d(channels, ks[stage], attention_mode=mode)
    if mode not in GROUPNORM_MODES:
        raise ConfigError(f"MixtureGroupNorm supports norm_attention_mode {list(GROUPNORM_MODES)}, got {mode}")
    if groups <= 1:
        raise ConfigError(f"MixtureGroupNorm needs norm_groups > 1, got {groups}")

    def make(channels: int, stage: int) -> nn.Module:
        if channels % groups:
            raise ConfigError(f"norm_groups {groups} does not divide a layer's {channels} channels")
        return MixtureGroupNorm(channels, groups, ks[stage], attention_mode=mode)

    return make


def resnet_from_config(cfg: dict[str, Any], num_classes: int) -> nn.Module:
    """AOGNet-v2's ResNet/ResNeXt for a resolved config (all keys present).

    Raises:
        ConfigError: an architecture or norm combination the original cannot build.
    """
    arch = cfg["arch"]
    if arch in BASIC_BLOCK_ARCHS:
        raise ConfigError(f"arch {arch!r} cannot be built: the AOGNet-v2 BasicBlock takes no norm_all_mix argument, "
                          "so no such model was trained")
    layers, groups, width_per_group = RESNET_ARCHS[arch]
    name, all_mix = cfg["norm_name"], cfg["norm_all_mix"]
    mixture = "Mixture" in name
    ks = _check_ks(cfg["norm_k"], len(layers), "stage") if mixture else (0,) * len(layers)
    mode, norm_groups = cfg["norm_attention_mode"], cfg["norm_groups"]
    base = base_norm_name(name, all_mix)
    stem, res = cfg["stem"], cfg["resnet"]
    dilation = res["replace_stride_with_dilation"]
    if len(dilation) != 3 or not all(isinstance(d, bool) for d in dilation):
        raise ConfigError(f"resnet.replace_stride_with_dilation must list 3 booleans, got {dilation}")
    options = ResNetOptions(
        stem="imagenet" if stem["imagenet_head7x7"] else "deep",
        stem_kernel_size=stem["stem_kernel_size"],
        stem_stride=stem["stem_stride"],
        stem_maxpool=cfg["dataset"] == "imagenet",
        groups=groups,
        width_per_group=width_per_group,
        replace_stride_with_dilation=tuple(dilation),
        replace_stride_with_avgpool=res["replace_stride_with_avgpool"],
        extra_norm_ac=res["extra_norm_ac"],
    )
    inplanes = res["base_inplanes"]
    widths = (inplanes, 2 * inplanes, 4 * inplanes, 8 * inplanes)
    return ResNet(layers, norm_factory(name, ks, mode, norm_groups), num_classes, widths=widths,
                  norm=norm_factory(base, ks, mode, norm_groups), options=options)


def mobilenet_from_config(cfg: dict[str, Any], num_classes: int = MOBILENET_NUM_CLASSES) -> nn.Module:
    """AOGNet-v2's MobileNetV2 for a resolved config (all keys present).

    Raises:
        ConfigError: a norm combination the original cannot build (its plain norms are always the base norm,
            whatever ``norm_all_mix`` says).
    """
    name = cfg["norm_name"]
    base = base_norm_name(name, False)
    if base != "BatchNorm2d":
        norm_factory(base, (), 0, cfg["norm_groups"])  # raises: the original's plain GroupNorm cannot run
    if "Mixture" not in name:
        return MobileNetV2(num_classes=num_classes)
    ks = _check_ks(cfg["norm_k"], len(SETTINGS), "inverted-residual setting row")
    return MobileNetV2(norm_factory(name, ks, cfg["norm_attention_mode"], cfg["norm_groups"]), num_classes)
