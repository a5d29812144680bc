"""The published iVMCL-Release classifiers, as their configs define them (AN only at ``norm_cfg2``, ``use_rsd``).

ResNetAN-50/101 and DenseNet-121 use K = (10, 10, 20, 20) per stage/block, MobileNetV2 K = (5, 5, 5, 5, 10, 10,
10) per setting row; each has a plain BN twin (the same config without ``norm_cfg2``).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from an_deploy.models.ivmcl_release.densenet import DenseNet
from an_deploy.models.ivmcl_release.mobilenetv2 import MobileNetV2
from an_deploy.models.ivmcl_release.resnet_an import ResNetAN

AN_NORM_CFG: dict[str, Any] = {"type": "AttnBN2d", "use_rsd": True, "requires_grad": True}
RESNET_K = (10, 10, 20, 20)
MOBILENET_K = (5, 5, 5, 5, 10, 10, 10)
DENSENET_K = (10, 10, 20, 20)


def _norm2(an: bool) -> dict[str, Any] | None:
    return dict(AN_NORM_CFG) if an else None


def resnet_an(depth: int, num_classes: int = 1000, an: bool = True) -> nn.Module:
    """ResNetAN-``depth`` (50 or 101 published) with AN after every bottleneck's 3x3 conv, or its BN twin."""
    return ResNetAN(depth, num_classes=num_classes, norm_cfg2=_norm2(an), num_affine_trans=RESNET_K)


def mobilenetv2_an(num_classes: int = 1000, an: bool = True) -> nn.Module:
    """MobileNetV2 with AN after every depthwise conv, or its BN twin."""
    return MobileNetV2(num_classes=num_classes, norm_cfg2=_norm2(an), num_affine_trans=MOBILENET_K)


def densenet121_an(num_classes: int = 1000, an: bool = True) -> nn.Module:
    """DenseNet-121 with AN before every dense layer's 3x3 conv, or its BN twin."""
    return DenseNet(121, num_classes=num_classes, norm_cfg2=_norm2(an), num_affine_trans=DENSENET_K)
