"""iVMCL-Release builders vs facts read off the authors' own modules (key -> shape fixtures, parameter counts)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn

from an_deploy.models.attentive_norm import AttnBatchNorm2d
from an_deploy.models.ivmcl_release import published
from an_deploy.models.ivmcl_release.densenet import DenseNet
from an_deploy.models.ivmcl_release.mobilenetv2 import MobileNetV2
from an_deploy.models.ivmcl_release.resnet_an import ResNetAN, resnet_v1d_an
from an_deploy.models.randomize import realistic_
from an_deploy.reference import an_layer_reference

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ivmcl_release"
AN2 = dict(published.AN_NORM_CFG)

# fixture name -> our builder for the same config
BUILDERS: dict[str, Callable[[], nn.Module]] = {
    "resnet50_an": lambda: published.resnet_an(50),
    "resnet101_an": lambda: published.resnet_an(101),
    "resnet50_bn": lambda: published.resnet_an(50, an=False),
    "resnetv1d50_an": lambda: resnet_v1d_an(50, norm_cfg2=AN2),
    "resnet50_an_all": lambda: ResNetAN(50, **{n: AN2 for n in (
        "norm_cfg_stem", "norm_cfg_ds", "norm_cfg1", "norm_cfg2", "norm_cfg3")}),
    "resnet34_an_bn12": lambda: ResNetAN(34, norm_cfg1=AN2, norm_cfg2=AN2),
    "mobilenetv2_an": lambda: published.mobilenetv2_an(),
    "mobilenetv2_bn": lambda: published.mobilenetv2_an(an=False),
    "densenet121_an": lambda: published.densenet121_an(),
    "densenet121_bn": lambda: published.densenet121_an(an=False),
}


def _facts(name: str) -> dict:
    return json.loads((FIXTURES / "keys" / f"{name}.json").read_text())


def _build_meta(builder: Callable[[], nn.Module]) -> nn.Module:
    with torch.device("meta"):
        return builder()


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_keys_and_shapes_match_the_authors_module(name: str) -> None:
    facts = _facts(name)
    ours = {k: list(v.shape) for k, v in _build_meta(BUILDERS[name]).state_dict().items()}
    assert sorted(set(facts["keys"]) - set(ours))[:5] == [] and sorted(set(ours) - set(facts["keys"]))[:5] == []
    assert ours == facts["keys"]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_parameter_count_and_an_positions_match(name: str) -> None:
    facts = _facts(name)
    model = _build_meta(BUILDERS[name])
    assert sum(p.numel() for p in model.parameters()) == facts["num_parameters"]
    an = {n: type(m).__name__ for n, m in model.named_modules() if isinstance(m, AttnBatchNorm2d)}
    assert an == facts["an_layers"]


def test_published_parameter_count_densenet121_an() -> None:
    """The published DenseNet-121-AN has 8.34 M parameters."""
    n = sum(p.numel() for p in _build_meta(published.densenet121_an).parameters())
    assert round(n / 1e6, 2) == 8.34


def test_an_at_the_published_positions_with_per_stage_k() -> None:
    resnet = _build_meta(lambda: published.resnet_an(50))
    assert resnet.layer1[0].AttnBN2d2.num_affine_trans == 10 and resnet.layer4[2].AttnBN2d2.num_affine_trans == 20
    assert isinstance(resnet.layer3[0].bn1, nn.BatchNorm2d) and isinstance(resnet.bn1, nn.BatchNorm2d)
    mobile = _build_meta(published.mobilenetv2_an)
    assert [mobile.get_submodule(f"layer{i + 1}.0.conv.{0 if i == 0 else 1}.1").num_affine_trans
            for i in range(7)] == list(published.MOBILENET_K)
    dense = _build_meta(published.densenet121_an)
    assert dense.layer3[0].denselayer24.AttnBN2d2.num_affine_trans == 20
    assert isinstance(dense.layer1[1].bn, nn.BatchNorm2d) and isinstance(dense.layer4[1], nn.BatchNorm2d)


def _small_models() -> dict[str, Callable[[], nn.Module]]:
    k4 = (2, 3, 4, 5)
    return {
        "resnet_an_all_positions": lambda: ResNetAN(50, num_classes=7, base_channels=4, num_affine_trans=k4, **{
            n: AN2 for n in ("norm_cfg_stem", "norm_cfg_ds", "norm_cfg1", "norm_cfg2", "norm_cfg3")}),
        "resnet_v1d_caffe_avgmax": lambda: resnet_v1d_an(18, num_classes=7, base_channels=4, style="caffe",
                                                         num_affine_trans=k4, norm_cfg2=dict(
                                                             type="AttnBN2d", use_rsd=False, use_maxpool=True)),
        "mobilenet_gn": lambda: MobileNetV2(num_classes=7, width_mult=0.25, norm_cfg2=dict(
            type="AttnGN", num_groups=4, num_groups_attn=1, num_affine_trans=0)),
        "densenet_mode1": lambda: DenseNet(121, num_classes=7, bn_size=1, norm_cfg2=dict(
            type="AttnBN2d", attn_mode=1, act_cfg=dict(type="Sigmoid"))),
    }


@pytest.mark.parametrize("name", sorted(_small_models()))
def test_whole_model_float32_close_to_float64(name: str) -> None:
    """A whole (small) model in fp32 against itself in float64: the builders run every AN option end to end."""
    torch.manual_seed(0)
    model = realistic_(_small_models()[name](), seed=1)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        out32 = model(x)
        out64 = model.double()(x.double())
    assert out32.shape == (2, 7) and torch.isfinite(out64).all()
    scale = float(out64.abs().max())
    assert float((out32.double() - out64).abs().max()) <= 1e-4 * scale
    an = [m for m in model.modules() if hasattr(m, "weight_")]
    assert an, "the model has AN layers"
    xa = torch.randn(2, an[0].weight_.shape[1], 5, 6, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(an[0](xa), an_layer_reference(an[0], xa), rtol=1e-12, atol=1e-12)
