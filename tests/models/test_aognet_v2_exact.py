"""Each AOGNet-v2 config builds exactly the network the authors' code builds (keys, shapes, parameter counts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from an_deploy.models.aognet_v2.config_yaml import read_yaml
from an_deploy.models.attentive_norm import HSigmoid, MixtureBatchNorm2d, MixtureGroupNorm
from an_deploy.models.randomize import realistic_
from an_deploy.models.registry import get_arch

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "aognet_v2"
CONFIGS = FIXTURES / "configs"
AUTHORS = FIXTURES / "authors_state_dicts"
KEY_FIXTURES = sorted(p.stem for p in AUTHORS.glob("*.json"))


def _meta_model(name: str) -> nn.Module:
    config = read_yaml(CONFIGS / f"{name}.yaml")
    with torch.device("meta"):
        return config.build(config.num_classes)


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_every_published_resnet_and_mobilenet_config_has_an_authors_key_list() -> None:
    expected = {"resnet-50-an", "resnet-101-an", "resnet-50", "resnet-101", "mobilenetv2-an"}
    assert expected <= set(KEY_FIXTURES)


@pytest.mark.parametrize("name", KEY_FIXTURES)
def test_keys_and_shapes_equal_the_authors_model(name: str) -> None:
    fixture = json.loads((AUTHORS / f"{name}.json").read_text())
    assert fixture["config"] == f"{name}.yaml"
    model = _meta_model(name)
    ours = [(key, list(t.shape)) for key, t in model.state_dict().items()]
    assert ours == [(key, shape) for key, shape in fixture["state_dict"].items()]
    assert _count(model) == fixture["num_parameters"]


@pytest.mark.parametrize("name,millions", [("resnet-50-an", 25.76), ("resnet-101-an", 45.00)])
def test_parameter_counts_equal_the_published_ones(name: str, millions: float) -> None:
    assert round(_count(_meta_model(name)) / 1e6, 2) == millions


@pytest.mark.parametrize("name,arch", [("resnet-50-an", "an_resnet50"), ("resnet-101-an", "an_resnet101"),
                                       ("resnet-50", "resnet50"), ("resnet-101", "resnet101"),
                                       ("mobilenetv2-an", "an_mobilenet_v2"), ("mobilenetv2", "mobilenet_v2")])
def test_registry_entries_are_the_published_configs(name: str, arch: str) -> None:
    from_config = _meta_model(name)
    with torch.device("meta"):
        from_registry = get_arch(arch).builder()
    assert [(k, t.shape) for k, t in from_config.state_dict().items()] == \
        [(k, t.shape) for k, t in from_registry.state_dict().items()]
    assert [type(m) for m in from_config.modules()] == [type(m) for m in from_registry.modules()]


def _attention_activations(model: nn.Module) -> list[nn.Module]:
    return [m.attention_weights.attention[-1] for m in model.modules()
            if isinstance(m, (MixtureBatchNorm2d, MixtureGroupNorm))]


@pytest.mark.slow
def test_mode_5_and_6_configs_change_only_the_attention_activation() -> None:
    models = {mode: read_yaml(CONFIGS / f"resnet-50-an{suffix}.yaml").build(1000)
              for mode, suffix in ((2, ""), (5, "-mode5"), (6, "-mode6"))}
    activations = {mode: _attention_activations(model) for mode, model in models.items()}
    assert len(activations[2]) == 16  # one AN per bottleneck
    assert all(type(a) is HSigmoid for a in activations[2])
    assert all(type(a) is nn.Sigmoid for a in activations[5])
    assert all(isinstance(a, nn.Softmax) and a.dim == 1 for a in activations[6])
    realistic_(models[2], seed=4)
    state = models[2].state_dict()
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    outputs = {}
    for mode, model in models.items():
        model.load_state_dict(state)  # modes 2, 5 and 6 store identical tensors
        with torch.no_grad():
            outputs[mode] = model.double().eval()(x)
    scale = outputs[2].abs().max()
    assert (outputs[5] - outputs[2]).abs().max() > 1e-3 * scale
    assert (outputs[6] - outputs[2]).abs().max() > 1e-3 * scale
    assert (outputs[6] - outputs[5]).abs().max() > 1e-3 * scale


COUNTS = json.loads((FIXTURES / "authors_parameter_counts.json").read_text())


@pytest.mark.parametrize("arch", sorted(COUNTS["counts"]))
@pytest.mark.parametrize("all_mix", [False, True])
def test_other_bottleneck_archs_have_the_authors_parameter_counts(tmp_path: Path, arch: str, all_mix: bool) -> None:
    text = (CONFIGS / COUNTS["config"]).read_text()
    text = text.replace("arch: resnet50", f"arch: {arch}").replace("norm_all_mix: false", f"norm_all_mix: {all_mix}")
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with torch.device("meta"):
        model = read_yaml(path).build(1000)
    assert _count(model) == COUNTS["counts"][arch][f"norm_all_mix={str(all_mix).lower()}"]
