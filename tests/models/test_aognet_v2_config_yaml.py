"""Reading AOGNet-v2 YAML training configs: defaults, recorded options, the AOGNet hand-off and bad configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from an_deploy.errors import UserError
from an_deploy.models.aognet_v2 import config_yaml
from an_deploy.models.aognet_v2.config_yaml import DEFAULTS, read_yaml
from an_deploy.models.attentive_norm import MixtureBatchNorm2d, MixtureGroupNorm
from an_deploy.models.config_files import read_config
from an_deploy.models.model_config import ConfigError, OptionSource

CONFIGS = Path(__file__).resolve().parents[1] / "fixtures" / "aognet_v2" / "configs"
AOGNET_CONFIGS = ("aognet-12m-an", "aognet-12m", "aognet-40m-an", "aognet-40m")


def _write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _meta_build(path: Path, num_classes: int | None = None) -> nn.Module:
    config = read_yaml(path)
    with torch.device("meta"):
        return config.build(num_classes or config.num_classes or 1000)


def test_read_config_dispatches_yaml_and_records_the_files_options() -> None:
    config = read_config(CONFIGS / "resnet-50-an.yaml")
    assert config.family == "aognet-v2"
    assert config.num_classes == 1000
    assert config.input_shape == (1, 3, 224, 224)
    assert config.path == CONFIGS / "resnet-50-an.yaml"
    for key, value in {"arch": "resnet50", "norm_name": "MixtureBatchNorm2d", "norm_k": [10, 10, 20, 20],
                       "norm_attention_mode": 2, "norm_all_mix": False, "stem.imagenet_head7x7": True,
                       "resnet.base_inplanes": 64, "resnet.replace_stride_with_avgpool": False,
                       "resnet.extra_norm_ac": False}.items():
        assert config.options[key].value == value, key
        assert config.options[key].source == "config resnet-50-an.yaml", key
    assert "lr" not in config.options  # training-only settings do not change the numbers


def test_missing_keys_take_the_training_codes_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, "arch: resnet50\nnorm_name: MixtureBatchNorm2d\nnorm_k: [3, 3, 4, 4]\n"
                            "norm_attention_mode: 2\nstem:\n  imagenet_head7x7: true\n")
    config = read_yaml(path)
    # defaults: 10 classes, cifar10 (no stem max pool), base width 16
    assert config.num_classes == 10
    assert config.options["dataset"] == OptionSource("cifar10", "default (not in config.yaml)")
    assert config.options["resnet.base_inplanes"].value == 16
    model = config.build(10)
    assert isinstance(model.maxpool, nn.Identity)
    assert model.conv1.out_channels == 16 and model.fc.out_features == 10
    assert not model.training
    ks = [m.k for m in model.modules() if isinstance(m, MixtureBatchNorm2d)]
    assert ks == [3] * 3 + [3] * 4 + [4] * 6 + [4] * 3


def test_yaml_strings_read_as_python_literals_like_the_training_code(tmp_path: Path) -> None:
    # YAML 1.1 leaves 1e-4 a string; the training code's yacs reads it as a float
    path = _write(tmp_path, "arch: resnet50\nwd: 1e-4\nnum_classes: '7'\n")
    assert read_yaml(path).num_classes == 7


def test_norm_all_mix_makes_every_resnet_norm_an() -> None:
    model = _meta_build(CONFIGS / "resnet-50-an-allmix.yaml")
    an = [m for m in model.modules() if isinstance(m, MixtureBatchNorm2d)]
    plain = [m for m in model.modules() if type(m) is nn.BatchNorm2d]
    assert isinstance(model.bn1, MixtureBatchNorm2d) and isinstance(model.layer1[0].downsample[1], MixtureBatchNorm2d)
    assert len(an) == 1 + 16 * 3 + 4  # stem, three per bottleneck, four downsamples
    assert len(plain) == len(an)  # only the attention branches' own BatchNorm2d(K) stay plain


def test_mixture_group_norm_config_builds_group_norm_an_everywhere() -> None:
    model = _meta_build(CONFIGS / "resnet-50-an-gn.yaml")
    gn = [m for m in model.modules() if isinstance(m, MixtureGroupNorm)]
    assert len(gn) == 1 + 16 * 3 + 4  # bn1, three per bottleneck, four downsamples
    assert {m.num_groups for m in gn} == {32}
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())  # mode 0: conv + sigmoid


def test_mobilenet_ignores_num_classes_like_the_training_code(tmp_path: Path) -> None:
    text = (CONFIGS / "mobilenetv2-an.yaml").read_text().replace("num_classes: 1000", "num_classes: 10")
    config = read_yaml(_write(tmp_path, text))
    assert config.num_classes == 1000
    assert config.options["num_classes"].value == 1000
    assert "says 10" in config.options["num_classes"].source


@pytest.mark.parametrize("name", AOGNET_CONFIGS)
def test_aognet_config_hands_the_full_config_to_the_builder(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    calls: list[tuple[dict[str, Any], int]] = []

    def aognet_from_config(cfg: dict[str, Any], num_classes: int) -> nn.Module:
        calls.append((cfg, num_classes))
        return nn.Linear(2, num_classes)

    monkeypatch.setattr(config_yaml, "aognet_from_config", aognet_from_config)
    config = read_yaml(CONFIGS / f"{name}.yaml")
    calls.clear()
    config.build(5)
    (cfg, num_classes), = calls
    assert num_classes == 5
    assert cfg["arch"] == "aognet"  # not in the file: the default
    assert set(cfg) == set(DEFAULTS) and set(cfg["aognet"]) == set(DEFAULTS["aognet"])
    assert cfg["aognet"]["filter_list"][0] == (32 if "12m" in name else 56)
    assert cfg["aognet"]["width_per_group"] == 0 and cfg["stem"]["stem_kernel_size"] == 7  # defaults merged
    assert cfg["norm_name"] == ("MixtureBatchNorm2d" if "-an" in name else "BatchNorm2d")
    assert config.options["aognet.blocks"].source == f"config {name}.yaml"


BAD_CONFIGS = [
    ("arch: resnet50\nnorm_mode: 2\n", "unknown key 'norm_mode'"),
    ("arch: resnet50\nresnet:\n  base_planes: 64\n", "unknown key 'resnet.base_planes'"),
    ("arch: resnet50\nnorm_all_mix: 1\n", "'norm_all_mix' must be bool"),
    ("arch: resnet50\nresnet: 64\n", "'resnet' must be a section"),
    ("arch: vgg16\n", "arch 'vgg16' is not an AOGNet-v2 network"),
    ("arch: resnet18\n", "BasicBlock"),
    ("arch: resnet50\nnorm_name: LayerNorm\n", "norm_name 'LayerNorm' is not one of"),
    ("arch: resnet50\nnorm_name: MixtureBatchNorm2d\nnorm_k: [10, 10, 20]\n", "norm_k must list 4 integers > 1"),
    ("arch: resnet50\nnorm_name: MixtureBatchNorm2d\nnorm_k: [10, 1, 20, 20]\n", "norm_k must list 4 integers"),
    ("arch: mobilenet_v2\nnorm_name: MixtureBatchNorm2d\nnorm_k: [5, 5, 5, 5]\n", "norm_k must list 7 integers"),
    ("arch: resnet50\nnorm_name: MixtureBatchNorm2d\nnorm_k: [2, 2, 2, 2]\nnorm_attention_mode: 7\n",
     "norm_attention_mode must be one of"),
    ("arch: resnet50\nnorm_name: GroupNorm\nnorm_groups: 32\n", "plain GroupNorm layer cannot be built"),
    ("arch: resnet50\nnorm_name: MixtureGroupNorm\nnorm_all_mix: true\nnorm_groups: 32\nnorm_k: [2, 2, 2, 2]\n"
     "norm_attention_mode: 2\n", "MixtureGroupNorm supports norm_attention_mode"),
    ("arch: resnet50\nnorm_name: MixtureGroupNorm\nnorm_all_mix: true\nnorm_groups: 48\nnorm_k: [2, 2, 2, 2]\n",
     "norm_groups 48 does not divide"),
    ("arch: resnet50\nresnet:\n  replace_stride_with_dilation: [false, true]\n", "must list 3 booleans"),
    ("arch: resnet50\ncrop_size: 8\n", "crop_size must be at least 32"),
    ("arch: [resnet50\n", "not valid YAML (line 2)"),
    ("- arch\n- resnet50\n", "a mapping of keys, got list"),
    ("", "a mapping of keys, got NoneType"),
]


@pytest.mark.parametrize("text,message", BAD_CONFIGS, ids=[m for _, m in BAD_CONFIGS])
def test_bad_config_is_one_line_config_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        read_yaml(_write(tmp_path, text))
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, UserError)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config not found"):
        read_config(tmp_path / "absent.yaml")


def test_options_that_change_nothing_are_not_recorded() -> None:
    plain = read_yaml(CONFIGS / "resnet-50.yaml").options  # states K and a mode, but has no AN layer
    assert {"norm_k", "norm_attention_mode", "norm_groups"}.isdisjoint(plain)
    assert plain["norm_name"].value == "BatchNorm2d"
    deep = read_yaml(CONFIGS / "resnet-50-an-deepstem.yaml").options  # the deep stem has no kernel/stride option
    assert {"stem.stem_kernel_size", "stem.stem_stride", "dataset"}.isdisjoint(deep)
    assert deep["resnet.extra_norm_ac"] == OptionSource(True, "config resnet-50-an-deepstem.yaml")
    assert read_yaml(CONFIGS / "resnet-50-an-gn.yaml").options["norm_groups"].value == 32


@pytest.mark.parametrize("text", ["arch: resnet50\nnorm_mode: 2\n", "arch: resnet18\n", "arch: vgg16\n"])
def test_config_errors_name_the_file(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="^my-config.yaml: "):
        read_yaml(_write(tmp_path, text, "my-config.yaml"))
