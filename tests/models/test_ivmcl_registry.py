"""Registry entries of the iVMCL-Release classifiers build the authors' modules (key -> shape fixtures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from an_deploy.models.registry import get_arch

KEYS = Path(__file__).parent.parent / "fixtures" / "ivmcl_release" / "keys"
FIXTURE_OF = {
    "ivmcl_resnet50_an": "resnet50_an", "ivmcl_resnet101_an": "resnet101_an", "ivmcl_resnet50": "resnet50_bn",
    "ivmcl_mobilenetv2_an": "mobilenetv2_an", "ivmcl_mobilenetv2": "mobilenetv2_bn",
    "ivmcl_densenet121_an": "densenet121_an", "ivmcl_densenet121": "densenet121_bn",
}


@pytest.mark.parametrize("name", sorted(FIXTURE_OF))
def test_registry_entries_build_the_published_models(name: str) -> None:
    info = get_arch(name)
    with torch.device("meta"):
        model = info.builder(num_classes=1000)
    facts = json.loads((KEYS / f"{FIXTURE_OF[name]}.json").read_text())
    assert {k: list(v.shape) for k, v in model.state_dict().items()} == facts["keys"]
    assert info.input_shape == (1, 3, 224, 224)


def test_bn_twin_differs_from_the_an_model_only_at_norm2() -> None:
    with torch.device("meta"):
        an = get_arch("ivmcl_resnet101_an").builder()
        bn = get_arch("ivmcl_resnet101").builder()
    an_only = {k.split(".AttnBN2d2.")[0] for k in set(an.state_dict()) - set(bn.state_dict())}
    bn_only = {k.split(".bn2.")[0] for k in set(bn.state_dict()) - set(an.state_dict())}
    assert an_only == bn_only and len(an_only) == 33
