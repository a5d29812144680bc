"""iVMCL-Release Python configs: parsed (never executed), built with every option, bad files refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from an_deploy.models.attentive_norm import AttnBatchNorm2d
from an_deploy.models.config_files import read_config
from an_deploy.models.ivmcl_release.config_py import read_py
from an_deploy.models.model_config import ConfigError, OptionSource

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ivmcl_release"
CONFIGS = FIXTURES / "configs"
KEYED = ["resnet50_an", "resnet101_an", "resnet50_bn", "resnetv1d50_an", "resnet50_an_all", "resnet34_an_bn12",
         "mobilenetv2_an",
         "mobilenetv2_bn", "densenet121_an", "densenet121_bn"]


def _meta_keys(cfg_name: str) -> dict[str, list[int]]:
    config = read_config(CONFIGS / f"{cfg_name}.py")
    with torch.device("meta"):
        model = config.build(config.num_classes or 1000)
    return {k: list(v.shape) for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name", KEYED)
def test_config_builds_the_authors_module(name: str) -> None:
    facts = json.loads((FIXTURES / "keys" / f"{name}.json").read_text())
    assert _meta_keys(name) == facts["keys"]


def test_options_and_sources_are_recorded() -> None:
    config = read_py(CONFIGS / "resnet50_an.py")
    assert config.family == "ivmcl-release" and config.name == "iVMCL-Release ResNetAN-50 (AN)"
    assert config.num_classes == 1000 and config.input_shape == (1, 3, 224, 224)
    src = "config resnet50_an.py"
    assert config.options["depth"] == OptionSource(50, src)
    assert config.options["num_affine_trans"] == OptionSource((10, 10, 20, 20), src)
    assert config.options["norm_cfg2.use_rsd"] == OptionSource(True, src)
    assert config.options["norm_cfg2.attn_mode"] == OptionSource(0, "iVMCL-Release default (AttnBN2d)")
    assert config.options["norm_cfg2.act_cfg"].value == {"type": "HSigmoidv2"}
    assert config.options["input_shape"] == OptionSource((1, 3, 224, 224), src)
    assert read_py(CONFIGS / "densenet121_bn.py").name == "iVMCL-Release DenseNet-121 (BN)"


def test_use_rsd_false_variant_builds_avg_max_branches() -> None:
    config = read_py(CONFIGS / "resnet50_an_avgmax.py")
    assert config.options["norm_cfg2.use_maxpool"] == OptionSource(True, "config resnet50_an_avgmax.py")
    model = config.build(10)
    an = [m for m in model.modules() if isinstance(m, AttnBatchNorm2d)]
    assert len(an) == 16 and all(not m.attn_weights.use_rsd and m.attn_weights.use_maxpool for m in an)
    assert not model.training and model.fc.out_features == 10
    rsd = [m for m in read_py(CONFIGS / "resnet50_an.py").build(10).modules() if isinstance(m, AttnBatchNorm2d)]
    assert all(m.attn_weights.use_rsd and not m.attn_weights.use_maxpool for m in rsd)


def test_literal_names_bound_earlier_are_resolved(tmp_path: Path) -> None:
    path = tmp_path / "named.py"
    path.write_text("k = (2, 2, 4, 4)\nan = dict(type='AttnBN2d', attn_mode=1, eps_var=-1e-2 * 1 if False else 0.01)\n")
    with pytest.raises(ConfigError, match="unsupported expression"):
        read_py(path)
    path.write_text("k = (2, 2, 4, 4)\nan = {'type': 'AttnBN2d', 'attn_mode': 1, 'eps_var': 0.01}\n"
                    "model = dict(type='ResNetAN', depth=18, base_channels=8, norm_cfg1=an, num_affine_trans=k,\n"
                    "             num_classes=5, strides=[1, 2, 2, 2])\n")
    config = read_py(path)
    assert config.input_shape == (1, 3, 224, 224) and config.options["input_shape"].source.startswith("default")
    model = config.build(5)
    assert model.layer4[1].AttnBN2d1.num_affine_trans == 4
    assert model.layer1[0].AttnBN2d1.attn_weights.eps == 0.01
    assert isinstance(model.layer1[0].AttnBN2d1.attn_weights.attention[1], torch.nn.GroupNorm)


SENTINEL = "__import__('pathlib').Path('{marker}').write_text('ran')"
BAD_CONFIGS = {
    "call": ("model = dict(type='ResNetAN', depth=int('50'), num_classes=1000)", "only dict(...) calls"),
    "import": ("import os\nmodel = dict(type='ResNetAN', depth=50, num_classes=1000)", "only 'name = literal'"),
    "attribute": ("import_ = 1\nmodel = dict(type='ResNetAN', depth=os.sep, num_classes=1000)",
                  "unsupported expression 'os.sep'"),
    "dunder_call": (f"x = {SENTINEL}\nmodel = dict(type='ResNetAN', depth=50, num_classes=1000)",
                    "only dict(...) calls"),
    "unbound": ("model = dict(type='ResNetAN', depth=depth, num_classes=1000)", "'depth' is not bound"),
    "unknown_type": ("model = dict(type='AOGNet', num_classes=1000)", "unsupported model type 'AOGNet'"),
    "unknown_option": ("model = dict(type='ResNetAN', depth=50, num_classes=1000, widht=2)", "unknown option 'widht'"),
    "unknown_norm": ("model = dict(type='ResNetAN', depth=50, num_classes=1000, norm_cfg2=dict(type='LN'))",
                     "unsupported norm type 'LN'"),
    "unknown_norm_option": ("model = dict(type='ResNetAN', depth=50, num_classes=1000, "
                            "norm_cfg2=dict(type='AttnBN2d', use_bn=False))", "does not take use_bn"),
    "bad_act": ("model = dict(type='DenseNet', depth=121, num_classes=1000, "
                "norm_cfg2=dict(type='AttnBN2d', act_cfg=dict(type='PReLU')))", "unsupported act_cfg type 'PReLU'"),
    "bad_depth": ("model = dict(type='ResNetAN', depth=42, num_classes=1000)", "invalid depth 42"),
    "wrong_kind": ("model = dict(type='ResNetAN', depth='50', num_classes=1000)", "depth must be int"),
    "too_few_k": ("model = dict(type='MobileNetV2', num_classes=1000, norm_cfg2=dict(type='AttnBN2d'), "
                  "num_affine_trans=(5, 5))", "no entry for stage 2"),
    "plugins": ("model = dict(type='ResNetAN', depth=50, num_classes=1000, plugins=[dict(cfg=dict(type='SELayer'))])",
                "option 'plugins' is not supported"),
    "backbone_only": ("model = dict(type='ResNetAN', depth=50)", "only classifiers"),
    "no_model": ("optimizer = dict(lr=0.1)", "no 'model = dict(...)'"),
    "base": ("_base_ = ['./resnet.py']\nmodel = dict(type='ResNetAN', depth=50, num_classes=1000)", "_base_"),
    "syntax": ("model = dict(type='ResNetAN',", "not valid Python"),
    "star": ("d = dict(depth=50)\nmodel = dict(type='ResNetAN', num_classes=1000, **d)", "keyword arguments only"),
    "lambda": ("model = dict(type='ResNetAN', depth=(lambda: 50)(), num_classes=1000)", "only dict(...) calls"),
    "augassign": ("x = 1\nx += 1\nmodel = dict(type='ResNetAN', depth=50, num_classes=1000)", "augassign"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_configs_give_one_line_errors_without_running_anything(case: str, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    text, expected = BAD_CONFIGS[case]
    path = tmp_path / f"{case}.py"
    path.write_text(text.replace("{marker}", str(marker)) + "\n")
    with pytest.raises(ConfigError) as info:
        read_config(path)
    message = str(info.value)
    assert expected in message and "\n" not in message and str(path) in message
    assert not marker.exists()
