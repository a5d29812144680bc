"""AOGNet built from AOGNet-v2 configs: the original's state-dict keys and shapes, grammars, counts, forward.

The fixtures (tests/fixtures/aognet_v2/aognet_*.json) hold facts read off the original code for the four
published AOGNet configs and three variants that exercise the other supported options.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from an_deploy.models.aognet_v2.aog import build_grammar
from an_deploy.models.aognet_v2.aognet import AOGBlock, aognet_from_config
from an_deploy.models.aognet_v2.aognet_published import PUBLISHED, published_config
from an_deploy.models.attentive_norm import MixtureBatchNorm2d
from an_deploy.models.model_config import ConfigError
from an_deploy.models.randomize import realistic_

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "aognet_v2"


def _defaults() -> dict[str, Any]:
    """The model options of the original models/config.py defaults."""
    return {
        "arch": "aognet", "dataset": "cifar10", "num_classes": 10, "activation_mode": 0, "init_mode": "kaiming",
        "norm_name": "BatchNorm2d", "norm_groups": 0, "norm_k": [0], "norm_attention_mode": 0,
        "norm_zero_gamma_init": False, "norm_all_mix": False,
        "stem": {"imagenet_head7x7": False, "replace_maxpool_with_res_bottleneck": False, "stem_kernel_size": 7,
                 "stem_stride": 2},
        "aognet": {"filter_list": [16, 64, 128, 256], "out_channels": [0, 0], "blocks": [1, 1, 1],
                   "dims": [4, 4, 4], "max_split": [2, 2, 2], "extra_node_hierarchy": [0, 0, 0],
                   "remove_symmetric_children_of_or_node": [0, 0, 0], "terminal_node_no_slice": [0, 0, 0],
                   "stride": [1, 2, 2], "drop_rate": [0.0, 0.0, 0.0], "bottleneck_ratio": 0.25,
                   "handle_dbl_cnt": True, "handle_tnode_dbl_cnt": False, "handle_dbl_cnt_in_param_init": False,
                   "use_group_conv": False, "width_per_group": 0, "when_downsample": 0,
                   "replace_stride_with_avgpool": True, "use_elem_max_for_ORNodes": False},
    }


def _merged(cfg: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    cfg = copy.deepcopy(cfg)
    for key, value in overrides.items():
        if isinstance(value, dict):
            cfg[key].update(value)
        else:
            cfg[key] = value
    return cfg


def published(size: str, an: bool) -> dict[str, Any]:
    """configs/aognet-{12m,40m}[-an]-imagenet.yaml merged into the defaults (model options only)."""
    cfg = _merged(_defaults(), {
        "dataset": "imagenet", "num_classes": 1000, "norm_name": "MixtureBatchNorm2d" if an else "BatchNorm2d",
        "norm_k": [10, 10, 20, 20], "norm_attention_mode": 2,
        "aognet": {"max_split": [2, 2, 2, 2], "extra_node_hierarchy": [4, 4, 4, 4],
                   "remove_symmetric_children_of_or_node": [1, 2, 1, 2], "terminal_node_no_slice": [0, 0, 0, 0],
                   "stride": [1, 2, 2, 2], "drop_rate": [0.0, 0.0, 0.1, 0.1], "when_downsample": 1,
                   "filter_list": [32, 128, 256, 512, 824], "blocks": [2, 2, 2, 1], "dims": [2, 2, 4, 4]},
    })
    if size == "40m":
        cfg["aognet"].update(filter_list=[56, 224, 448, 896, 1400], blocks=[2, 2, 3, 1])
        if not an:
            cfg["aognet"]["replace_stride_with_avgpool"] = False
    return cfg


VARIANTS = {
    "aognet_variant_a": {"activation_mode": 2, "aognet": {
        "when_downsample": 0, "extra_node_hierarchy": [0, 4, 0, 4],
        "remove_symmetric_children_of_or_node": [0, 0, 1, 2], "handle_dbl_cnt": False,
        "filter_list": [24, 48, 96, 192, 384], "dims": [2, 4, 3, 4], "blocks": [1, 2, 3, 1]}},
    "aognet_variant_b": {"norm_name": "BatchNorm2d", "aognet": {
        "remove_symmetric_children_of_or_node": [0, 0, 0, 0], "filter_list": [30, 60, 120, 240, 480],
        "dims": [2, 3, 5, 4], "blocks": [1, 1, 2, 1], "replace_stride_with_avgpool": False}},
    "aognet_variant_c": {"norm_attention_mode": 3, "aognet": {
        "when_downsample": 0, "replace_stride_with_avgpool": False, "filter_list": [16, 32, 64, 128, 256]}},
}
CONFIGS = {
    "aognet_12m_an": published("12m", an=True),
    "aognet_12m": published("12m", an=False),
    "aognet_40m_an": published("40m", an=True),
    "aognet_40m": published("40m", an=False),
    **{name: _merged(published("12m", an=True), o) for name, o in VARIANTS.items()},
}


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def _on_meta(cfg: dict[str, Any]) -> nn.Module:
    with torch.device("meta"):
        return aognet_from_config(cfg, 1000)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_state_dict_keys_shapes_and_counts_are_the_originals(name: str) -> None:
    facts = _fixture(name)
    model = _on_meta(CONFIGS[name])
    assert [[k, list(v.shape)] for k, v in model.state_dict().items()] == facts["state_dict"]
    assert sum(p.numel() for p in model.parameters()) == facts["parameters"]
    assert sum(isinstance(m, MixtureBatchNorm2d) for m in model.modules()) == facts["an_layers"]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_grammars_are_the_originals(name: str) -> None:
    facts, aog = _fixture(name), CONFIGS[name]["aognet"]
    for s, expected in enumerate(facts["grammars"]):
        g = build_grammar(aog["dims"][s], aog["max_split"][s], aog["extra_node_hierarchy"][s] == 4,
                          aog["remove_symmetric_children_of_or_node"][s])
        nodes = [[n.id, n.kind.value, n.x1, n.x2, n.children, sorted(n.parents), n.npaths] for n in g.nodes]
        assert nodes == expected["nodes"], f"stage {s}"
        assert (g.dfs, g.bfs) == (expected["dfs"], expected["bfs"]), f"stage {s}"


def test_published_parameter_counts() -> None:
    counts = {name: sum(p.numel() for p in _on_meta(CONFIGS[name]).parameters()) / 1e6
              for name in ("aognet_12m_an", "aognet_12m", "aognet_40m_an", "aognet_40m")}
    assert round(counts["aognet_12m_an"], 2) == 12.37  # the published AOGNet-12M-AN size
    assert [round(counts[n], 2) for n in ("aognet_12m", "aognet_40m_an", "aognet_40m")] == [12.26, 40.39, 40.15]


def test_library_published_configs_are_the_published_values() -> None:
    assert {name: published_config(name) for name in PUBLISHED} == {name: CONFIGS[name] for name in PUBLISHED}
    with pytest.raises(KeyError, match="aognet_12m_an"):
        published_config("aognet_13m")


@pytest.mark.parametrize("name", ["aognet_12m_an", "aognet_40m_an", "aognet_variant_a"])
def test_an_sits_after_the_3x3_conv_of_every_full_width_node(name: str) -> None:
    cfg = CONFIGS[name]
    aog, model = cfg["aognet"], _on_meta(cfg)
    expected = 0
    for s, dims in enumerate(aog["dims"]):
        g = build_grammar(dims, 2, aog["extra_node_hierarchy"][s] == 4, aog["remove_symmetric_children_of_or_node"][s])
        expected += aog["blocks"][s] * sum(n.width == dims for n in g.nodes)
    an = {name for name, m in model.named_modules() if isinstance(m, MixtureBatchNorm2d)}
    assert len(an) == expected
    assert all(n.endswith("_op.conv_norm_ac_2.conv_norm.conv_norm.1") for n in an)
    ks = {m.weight_.shape[0] for n, m in model.named_modules() if n.startswith("stage3.") and n in an}
    assert ks == {cfg["norm_k"][3]}


def _tiny(an: bool = True) -> dict[str, Any]:
    cfg = published("12m", an)
    cfg["aognet"].update(filter_list=[8, 16, 32, 64, 128], blocks=[1, 1, 1, 1], drop_rate=[0.0] * 4)
    cfg["norm_k"] = [3, 3, 4, 4]
    return cfg


def test_forward_small_input_eval_is_per_sample() -> None:
    torch.manual_seed(0)
    model = realistic_(aognet_from_config(_tiny(), 7), seed=1).double()
    x = torch.randn(3, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        y = model(x)
        y0 = model(x[:1])
        y32 = model.float()(x.float()).double()
    assert not model.training
    assert y.shape == (3, 7) and torch.isfinite(y).all()
    # eval mode: every norm uses its running statistics, so a sample's logits do not depend on the batch
    torch.testing.assert_close(y0, y[:1], rtol=0, atol=1e-12 * float(y.abs().max()))
    assert (y32 - y).abs().max() < 1e-3 * y.abs().max()


def deterministic_weights_(model: nn.Module, seed: int = 0) -> nn.Module:
    """Fill every state-dict tensor, in order, from one seeded generator: non-trivial running statistics, AN
    mixtures away from their init, variance-keeping convs. Self-contained so that the stored reference logits of
    the original network stay valid whatever other helpers do."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            u = torch.rand(t.shape, generator=gen, dtype=torch.float64)
            if name.endswith("running_var"):
                v = 0.5 + u
            elif name.endswith(("running_mean", "bias_", "bias")):
                v = 0.4 * (u - 0.5)
            elif name.endswith("weight_"):
                v = 0.8 + 0.4 * u
            elif t.dim() > 1:
                v = (u - 0.5) * (12.0 / t[0].numel()) ** 0.5
            else:
                v = 0.6 + 0.8 * u
            t.copy_(v)
    return model.eval()


def tiny_reference() -> tuple[dict[str, Any], torch.Tensor]:
    """The small AN config and input of the stored reference logits (published 12M-AN options, small widths)."""
    cfg = published("12m", an=True)
    cfg["aognet"].update(filter_list=[8, 16, 32, 64, 128], blocks=[1, 1, 2, 1])
    cfg["norm_k"] = [3, 3, 4, 4]
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    return cfg, x


def test_float64_forward_equals_the_original() -> None:
    facts = _fixture("aognet_tiny_an_logits")
    cfg, x = tiny_reference()
    model = deterministic_weights_(aognet_from_config(cfg, 10).double())
    with torch.no_grad():
        y = model(x)
    ref = torch.tensor(facts["logits"], dtype=torch.float64)
    # the original computes the attention statistic with other float64 roundings (mean and var separately)
    torch.testing.assert_close(y, ref, rtol=0, atol=1e-9 * float(ref.abs().max()))


def test_two_cell_block_wiring() -> None:
    """dims 2 with symmetric cuts removed and lateral links: the block computes what its grammar says."""
    block = aognet_from_config(_tiny(), 7).stage0.stage_0_block_0
    assert isinstance(block, AOGBlock)
    realistic_(block, seed=2).double()
    op = {i: getattr(block, f"stage_0_block_0_node_{i}_op") for i in range(7)}
    # node 0 root Or, 1 its Terminal, 2 And (cut 1|1), 3/4 Or-nodes of the two cells with Terminals 5/6,
    # lateral edge 4 -> 3 (they share parent 2, so the lateral input joins the op input but not the residual)
    assert [n.children for n in block.grammar.nodes] == [[1, 2], [], [3, 4], [5], [6, 3], [], []]
    x = torch.randn(2, 8, 9, 9, dtype=torch.float64)
    with torch.no_grad():
        t5, t6, t1 = op[5](x[:, :4]), op[6](x[:, 4:]), op[1](x)
        o3 = op[3](t5)
        o4 = op[4](t6 + o3, t6)
        o0 = op[0](t1 + op[2](torch.cat([o3, o4], 1)))
        expected = block.extra_norm_ac(o0)
        torch.testing.assert_close(block(x), expected, rtol=0, atol=0)


@pytest.mark.parametrize(("key", "value", "option"), [
    ("dataset", "cifar10", "dataset"),
    ("norm_name", "MixtureGroupNorm", "norm_name"),
    ("aognet.max_split", [3, 2, 2, 2], "aognet.max_split"),
    ("aognet.extra_node_hierarchy", [1, 4, 4, 4], "aognet.extra_node_hierarchy"),
    ("aognet.use_group_conv", True, "aognet.use_group_conv"),
    ("aognet.when_downsample", 2, "aognet.when_downsample"),
    ("aognet.out_channels", [256, 512], "aognet.out_channels"),
    ("aognet.terminal_node_no_slice", [1, 0, 0, 0], "aognet.terminal_node_no_slice"),
    ("stem.imagenet_head7x7", True, "stem.imagenet_head7x7"),
    ("norm_k", [10, 10, 20], "norm_k"),
    ("aognet.dims", [3, 2, 4, 4], "aognet.dims"),
])
def test_unsupported_options_are_one_line_config_errors(key: str, value: Any, option: str) -> None:
    cfg = published("12m", an=True)
    *path, last = key.split(".")
    node = cfg
    for part in path:
        node = node[part]
    node[last] = value
    with pytest.raises(ConfigError, match=option.replace(".", r"\.")) as err:
        _on_meta(cfg)
    assert "\n" not in str(err.value)


def test_missing_option_is_named() -> None:
    cfg = published("12m", an=True)
    del cfg["aognet"]["handle_dbl_cnt"]
    with pytest.raises(ConfigError, match=r"missing option aognet\.handle_dbl_cnt"):
        _on_meta(cfg)
