"""Architecture registry: name -> builder, default input shape and a one-line description."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from an_deploy.models.aognet_v2.aognet_published import aognet_12m, aognet_12m_an, aognet_40m, aognet_40m_an
from an_deploy.models.attentive_norm import AttnBatchNorm2d, MixtureBatchNorm2d
from an_deploy.models.ivmcl_release import published as ivmcl
from an_deploy.models.mobilenetv2 import MobileNetV2
from an_deploy.models.resnet import ResNet

RESNET_K = (10, 10, 20, 20)
MOBILENET_K = (5, 5, 5, 5, 10, 10, 10)
DEMO_K = (4, 4, 8)
DEMO_NUM_CLASSES = 10
DEMO_INPUT_SHAPE = (1, 1, 16, 16)


@dataclass(frozen=True)
class ArchInfo:
    name: str
    builder: Callable[..., nn.Module]
    input_shape: tuple[int, int, int, int]
    description: str


def _an_mode2(ks: tuple[int, ...]) -> Callable[[int, int], nn.Module]:
    return lambda channels, stage: MixtureBatchNorm2d(channels, ks[stage], attention_mode=2)


def _attn_bn(ks: tuple[int, ...]) -> Callable[[int, int], nn.Module]:
    return lambda channels, stage: AttnBatchNorm2d(channels, ks[stage], attn_mode=0)


def an_resnet50(num_classes: int = 1000) -> nn.Module:
    return ResNet([3, 4, 6, 3], _an_mode2(RESNET_K), num_classes)


def an_resnet101(num_classes: int = 1000) -> nn.Module:
    return ResNet([3, 4, 23, 3], _an_mode2(RESNET_K), num_classes)


def attn_resnet50(num_classes: int = 1000) -> nn.Module:
    return ResNet([3, 4, 6, 3], _attn_bn(RESNET_K), num_classes)


def resnet50(num_classes: int = 1000) -> nn.Module:
    return ResNet([3, 4, 6, 3], num_classes=num_classes)


def resnet101(num_classes: int = 1000) -> nn.Module:
    return ResNet([3, 4, 23, 3], num_classes=num_classes)


def an_mobilenet_v2(num_classes: int = 1000) -> nn.Module:
    return MobileNetV2(_an_mode2(MOBILENET_K), num_classes)


def mobilenet_v2(num_classes: int = 1000) -> nn.Module:
    return MobileNetV2(num_classes=num_classes)


def _demo(norm2: Callable[[int, int], nn.Module] | None, num_classes: int) -> nn.Module:
    kwargs = {} if norm2 is None else {"norm2": norm2}
    return ResNet([1, 1, 1], num_classes=num_classes, widths=(8, 16, 32), in_channels=1, stem="small", **kwargs)


def an_resnet_demo(num_classes: int = DEMO_NUM_CLASSES) -> nn.Module:
    return _demo(_an_mode2(DEMO_K), num_classes)


def resnet_demo(num_classes: int = DEMO_NUM_CLASSES) -> nn.Module:
    return _demo(None, num_classes)


_IMAGENET = (1, 3, 224, 224)
ARCHS: dict[str, ArchInfo] = {
    a.name: a
    for a in (
        ArchInfo("an_resnet50", an_resnet50, _IMAGENET, "AN-ResNet-50 (AN at bn2, K=[10,10,20,20], mode 2)"),
        ArchInfo("an_resnet101", an_resnet101, _IMAGENET, "AN-ResNet-101 (AN at bn2, K=[10,10,20,20], mode 2)"),
        ArchInfo("attn_resnet50", attn_resnet50, _IMAGENET, "ResNet-50 with AttnBatchNorm2d at bn2 (detection code)"),
        ArchInfo("an_mobilenet_v2", an_mobilenet_v2, _IMAGENET, "AN-MobileNetV2 (AN after depthwise convs)"),
        ArchInfo("resnet50", resnet50, _IMAGENET, "plain BN ResNet-50"),
        ArchInfo("resnet101", resnet101, _IMAGENET, "plain BN ResNet-101"),
        ArchInfo("mobilenet_v2", mobilenet_v2, _IMAGENET, "plain BN MobileNetV2"),
        ArchInfo("an_resnet_demo", an_resnet_demo, DEMO_INPUT_SHAPE, "small AN-ResNet for 16x16 digits (demo)"),
        ArchInfo("resnet_demo", resnet_demo, DEMO_INPUT_SHAPE, "the demo's plain BN twin"),
        # AOGNet-v2's AOGNets (module names of its checkpoints)
        ArchInfo("aognet_12m_an", aognet_12m_an, _IMAGENET,
                 "AOGNet-12M-AN (AN after the 3x3 conv of full-width nodes, K=[10,10,20,20], mode 2)"),
        ArchInfo("aognet_12m", aognet_12m, _IMAGENET, "plain BN AOGNet-12M"),
        ArchInfo("aognet_40m_an", aognet_40m_an, _IMAGENET,
                 "AOGNet-40M-AN (AN after the 3x3 conv of full-width nodes, mode 2)"),
        ArchInfo("aognet_40m", aognet_40m, _IMAGENET, "plain BN AOGNet-40M"),
        # iVMCL-Release (module names of its mmdet backbones: layer1.0.AttnBN2d2, ...)
        ArchInfo("ivmcl_resnet50_an", lambda num_classes=1000: ivmcl.resnet_an(50, num_classes), _IMAGENET,
                 "iVMCL-Release ResNetAN-50 (AttnBN2d at norm2, K=[10,10,20,20], use_rsd)"),
        ArchInfo("ivmcl_resnet101_an", lambda num_classes=1000: ivmcl.resnet_an(101, num_classes), _IMAGENET,
                 "iVMCL-Release ResNetAN-101 (AttnBN2d at norm2, K=[10,10,20,20], use_rsd)"),
        ArchInfo("ivmcl_resnet50", lambda num_classes=1000: ivmcl.resnet_an(50, num_classes, an=False), _IMAGENET,
                 "iVMCL-Release ResNet-50, plain BN twin"),
        ArchInfo("ivmcl_resnet101", lambda num_classes=1000: ivmcl.resnet_an(101, num_classes, an=False),
                 _IMAGENET, "iVMCL-Release ResNet-101, plain BN twin"),
        ArchInfo("ivmcl_mobilenetv2_an", ivmcl.mobilenetv2_an, _IMAGENET,
                 "iVMCL-Release MobileNetV2 (AttnBN2d after depthwise convs, K=[5,5,5,5,10,10,10])"),
        ArchInfo("ivmcl_mobilenetv2", lambda num_classes=1000: ivmcl.mobilenetv2_an(num_classes, an=False),
                 _IMAGENET, "iVMCL-Release MobileNetV2, plain BN twin"),
        ArchInfo("ivmcl_densenet121_an", ivmcl.densenet121_an, _IMAGENET,
                 "iVMCL-Release DenseNet-121 (AttnBN2d before 3x3 convs, K=[10,10,20,20])"),
        ArchInfo("ivmcl_densenet121", lambda num_classes=1000: ivmcl.densenet121_an(num_classes, an=False),
                 _IMAGENET, "iVMCL-Release DenseNet-121, plain BN twin"),
    )
}


def get_arch(name: str) -> ArchInfo:
    """The registry entry for ``name``.

    Raises:
        KeyError: unknown name (the message lists the known ones).
    """
    try:
        return ARCHS[name]
    except KeyError:
        raise KeyError(f"unknown architecture {name!r}; known: {', '.join(sorted(ARCHS))}") from None
