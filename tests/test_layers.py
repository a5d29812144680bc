"""AN modules vs the float64 reference of the original layer, and the folded op vs both."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
import torch
from torch import nn

import tests.export.lookalikes as la
from an_deploy import spec
from an_deploy.discover import find_an_layers, is_an_layer
from an_deploy.fold import FoldError, fold, verify_fold
from an_deploy.fused_op import fused_op
from an_deploy.models.attentive_norm import (
    AttnBatchNorm2d,
    AttnGroupNorm,
    AttnWeights,
    ClampHSigmoid,
    HSigmoid,
    MixtureBatchNorm2d,
    MixtureGroupNorm,
    is_attentive_norm,
)
from an_deploy.models.randomize import realistic_
from an_deploy.reference import an_layer_reference
from tests.an_layers import ACT_LAYERS, LAYERS, C, K, make_layer


def _close(out: torch.Tensor, ref: torch.Tensor, rtol: float, atol: float) -> None:
    diff = (out.to(torch.float64) - ref).abs()
    bound = atol + rtol * ref.abs()
    excess = float((diff - bound).max())
    assert bool((diff <= bound).all()), f"max abs {float(diff.max()):.3e}, worst excess {excess:.3e}"


def _input(n: int = 3, h: int = 7, w: int = 5, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    # per-channel offsets and scales so the statistics are far from 0/1
    return torch.randn(n, C, h, w, generator=g) * (0.5 + torch.rand(1, C, 1, 1, generator=g)) + torch.randn(
        1, C, 1, 1, generator=g
    )


@pytest.mark.parametrize("name", sorted(LAYERS) + sorted(ACT_LAYERS))
def test_module_matches_float64_reference(name: str) -> None:
    layer = make_layer(name)
    x = _input()
    with torch.no_grad():
        out = layer(x)
    ref = an_layer_reference(layer, x)
    assert ref.dtype == torch.float64
    _close(out, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_folded_op_matches_module_in_float64(name: str) -> None:
    layer = make_layer(name, seed=3)
    x = _input(seed=4).to(torch.float64)
    with torch.no_grad():
        out64 = copy.deepcopy(layer).double()(x)
    folded = fold(layer)
    op = fused_op(x, folded.tensors, folded.attrs)
    _close(op, out64, rtol=1e-10, atol=1e-10)
    _close(op, an_layer_reference(layer, x), rtol=1e-10, atol=1e-10)


def test_reference_upcast_switch_gives_input_dtype() -> None:
    layer = make_layer("mixture_bn_mode2")
    x = _input()
    low = an_layer_reference(layer, x, upcast=False)
    assert low.dtype == torch.float32
    _close(low, an_layer_reference(layer, x), rtol=1e-4, atol=1e-4)


def test_realistic_weights_are_not_trivial() -> None:
    layer = make_layer("mixture_bn_mode2")
    assert isinstance(layer, MixtureBatchNorm2d)
    assert float(layer.running_mean.abs().mean()) > 0.1
    assert float((layer.running_var - 1).abs().mean()) > 0.1
    assert float(layer.weight_.detach().std(dim=0).mean()) > 0.05  # the K affines differ


@pytest.mark.parametrize("name", ["mixture_bn_mode2", "mixture_gn_mode1", "attn_bn_mode1_gn1", "attn_gn_rsd"])
def test_single_pixel_input_is_finite_and_matches(name: str) -> None:
    """H*W == 1: the original's unbiased variance is NaN; we define it as 0 everywhere."""
    layer = make_layer(name)
    x = _input(n=4, h=1, w=1)
    with torch.no_grad():
        out = layer(x)
    assert torch.isfinite(out).all()
    _close(out, an_layer_reference(layer, x), rtol=1e-5, atol=1e-5)
    folded = fold(layer)
    _close(fused_op(x.double(), folded.tensors, folded.attrs), an_layer_reference(layer, x), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ["mixture_bn_mode2", "mixture_gn_mode0", "attn_bn_avgmax"])
def test_batch_one_noncontiguous_and_channels_last(name: str) -> None:
    layer = make_layer(name)
    x = _input(n=2, h=9, w=8)
    with torch.no_grad():
        base = layer(x)
        single = layer(x[1:2])
        strided_in = _input(n=2, h=18, w=8)[:, :, ::2, :]
        assert not strided_in.is_contiguous()
        strided = layer(strided_in)
        cl = layer(x.to(memory_format=torch.channels_last))
    _close(single, base[1:2].double(), rtol=1e-6, atol=1e-6)
    with torch.no_grad():
        contiguous = layer(strided_in.contiguous())
    _close(strided, contiguous.double(), rtol=1e-6, atol=1e-6)
    _close(cl, base.double(), rtol=1e-6, atol=1e-6)


def test_fold_rejects_training_mode_and_other_layers() -> None:
    layer = make_layer("mixture_bn_mode2").train()
    with pytest.raises(FoldError, match="eval"):
        fold(layer)
    with pytest.raises(FoldError, match="not an AttentiveNorm"):
        fold(torch.nn.BatchNorm2d(4).eval())


def test_family1_groupnorm_rejects_bn_attention_modes() -> None:
    with pytest.raises(ValueError, match="modes"):
        MixtureGroupNorm(8, 2, 3, attention_mode=2)


def test_family2_use_rsd_overrides_maxpool() -> None:
    branch = AttnWeights(0, 8, 3, use_rsd=True, use_maxpool=True)
    assert branch.use_maxpool is False


def _branch_types(layer: torch.nn.Module, branch: str) -> list[type]:
    return [type(m) for m in getattr(layer, branch).attention]


def test_family2_branch_layouts_and_key_names() -> None:
    """attn_mode 0: conv (no bias), BN(K), act; attn_mode 1: conv, GN(groups, K) or BN(K) when groups <= 0."""
    nn = torch.nn
    assert _branch_types(AttnBatchNorm2d(C, K), "attn_weights") == [nn.Conv2d, nn.BatchNorm2d, HSigmoid]
    bn_mode1 = AttnBatchNorm2d(C, K, attn_mode=1)
    assert _branch_types(bn_mode1, "attn_weights") == [nn.Conv2d, nn.GroupNorm, HSigmoid]
    assert bn_mode1.attn_weights.attention[1].num_groups == 1
    gn = AttnGroupNorm(C, 6, 4, num_groups_attn=3)
    assert _branch_types(gn, "attention_weights") == [nn.Conv2d, nn.GroupNorm, HSigmoid]
    assert gn.attention_weights.attention[1].num_groups == 3
    assert _branch_types(AttnGroupNorm(C, K, 4, num_groups_attn=0), "attention_weights") == [
        nn.Conv2d, nn.BatchNorm2d, HSigmoid]
    assert all(m.attention[0].bias is None for m in (bn_mode1.attn_weights, gn.attention_weights))
    assert sorted(gn.state_dict()) == sorted([
        "weight_", "bias_", "attention_weights.attention.0.weight",
        "attention_weights.attention.1.weight", "attention_weights.attention.1.bias"])
    assert {k for k in AttnBatchNorm2d(C, K).state_dict() if not k.startswith("attn_weights.")} == {
        "weight_", "bias_", "running_mean", "running_var", "num_batches_tracked"}


def test_family2_options_the_original_lacks_or_rejects() -> None:
    with pytest.raises(TypeError):
        AttnBatchNorm2d(C, K, use_bn=False)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="attn_mode"):
        AttnWeights(2, C, K)
    with pytest.raises(ValueError, match="num_groups"):
        AttnGroupNorm(C, K, 4, num_groups_attn=2)
    with pytest.raises(ValueError, match="unsupported act_cfg type 'PReLU'"):
        AttnBatchNorm2d(C, K, act_cfg={"type": "PReLU"})
    with pytest.raises(ValueError, match="does not take alpha"):
        AttnBatchNorm2d(C, K, act_cfg={"type": "Sigmoid", "alpha": 1.0})


def test_family2_hsigmoid_variants_differ() -> None:
    """HSigmoidv2 (the default) is relu6(x + 3) / 6; mmcv's HSigmoid is clamp((x + 1) / 2, 0, 1)."""
    z = torch.tensor([-4.0, -1.0, 0.0, 0.5, 2.0])
    layer = AttnBatchNorm2d(C, K)
    assert torch.equal(layer.attn_weights.attention[2](z), torch.tensor([0.0, 2 / 6, 0.5, 3.5 / 6, 5 / 6]))
    assert torch.equal(ClampHSigmoid()(z), torch.tensor([0.0, 0.0, 0.5, 0.75, 1.0]))


# --- structural discovery and fold of classes that are not ours (the authors' look-alikes) ---

LOOKALIKES: dict[str, Callable[[], nn.Module]] = {
    **{f"family1_bn_mode{m}": (lambda m=m: la.MixtureBatchNorm2d(C, 5, m)) for m in range(7)},
    **{f"family1_gn_mode{m}": (lambda m=m: la.MixtureGroupNorm(C, 4, 5, m)) for m in (0, 1, 4)},
    "family2_bn_rsd": lambda: la.AttnBatchNorm2d(C, 5),
    "family2_bn_avg": lambda: la.AttnBatchNorm2d(C, 5, use_rsd=False),
    "family2_bn_avgmax": lambda: la.AttnBatchNorm2d(C, 5, use_rsd=False, use_maxpool=True),
    "family2_bn_rsd_gneps": lambda: la.AttnBatchNorm2d(C, 6, attn_mode=1, eps_var=1e-2),
    "family2_gn_rsd": lambda: la.AttnGroupNorm(C, 6, 3),
    "family2_gn_avgmax": lambda: la.AttnGroupNorm(C, 6, 3, use_rsd=False, use_maxpool=True),
}
EXPECTED_ACTIVATION = {0: spec.Activation.SIGMOID, 1: spec.Activation.SIGMOID, 2: spec.Activation.HSIGMOID,
                       3: spec.Activation.HSIGMOID, 4: spec.Activation.HSIGMOID, 5: spec.Activation.SIGMOID,
                       6: spec.Activation.SOFTMAX}


def _lookalike(name: str, seed: int = 0) -> nn.Module:
    layer = LOOKALIKES[name]()
    realistic_(layer, seed=seed)
    with torch.no_grad():  # realistic_ only knows our classes' mixtures
        layer.weight_.copy_(0.8 + 0.4 * torch.rand(layer.weight_.shape))
        layer.bias_.copy_(0.2 * torch.randn(layer.bias_.shape))
    return layer.eval()


@pytest.mark.parametrize("name", sorted(LOOKALIKES))
def test_lookalike_layers_fold_to_their_own_forward(name: str) -> None:
    layer = _lookalike(name)
    assert not is_attentive_norm(layer) and is_an_layer(layer)
    folded = fold(layer, "block.bn2")
    x = _input(seed=5).to(torch.float64)
    with torch.no_grad():
        ref = copy.deepcopy(layer).double()(x)
    _close(fused_op(x, folded.tensors, folded.attrs), ref, rtol=1e-10, atol=1e-10)
    assert folded.origin == "live module"
    if name.startswith("family1_"):
        assert folded.attrs["activation"] == EXPECTED_ACTIVATION[int(name[-1])]
        assert folded.attrs["attn_input"] == spec.AttnInput.RSD and folded.attrs["eps_var"] == 1e-3
    else:
        expected_input = {"rsd": spec.AttnInput.RSD, "avg": spec.AttnInput.AVG, "avgmax": spec.AttnInput.AVG_MAX}
        assert folded.attrs["attn_input"] == expected_input[name.split("_")[2]]
        assert folded.attrs["activation"] == spec.Activation.HSIGMOID
        assert folded.attrs["eps_var"] == (1e-2 if name.endswith("gneps") else 1e-3)


def test_modes_with_identical_keys_fold_to_different_activations() -> None:
    """Modes 2, 5 and 6 have the same state-dict keys; the live layer types decide the activation."""
    layers = {m: _lookalike(f"family1_bn_mode{m}") for m in (2, 5, 6)}
    assert len({tuple(layer.state_dict()) for layer in layers.values()}) == 1
    acts = {m: fold(layer).attrs["activation"] for m, layer in layers.items()}
    assert acts == {2: spec.Activation.HSIGMOID, 5: spec.Activation.SIGMOID, 6: spec.Activation.SOFTMAX}


def test_find_an_layers_in_a_mixed_tree() -> None:
    model = nn.Sequential(nn.Conv2d(3, C, 1), make_layer("mixture_bn_mode2"),
                          nn.Sequential(nn.ReLU(), la.AttnBatchNorm2d(C, 5)), la.AttnGroupNorm(C, 6, 3),
                          nn.BatchNorm2d(C))
    found = find_an_layers(model)
    assert [name for name, _ in found] == ["1", "2.1", "3"]
    assert find_an_layers(nn.Sequential(nn.BatchNorm2d(4), nn.GroupNorm(2, 4))) == []


def _with_activation(act: nn.Module) -> nn.Module:
    model = nn.Sequential(nn.Sequential(la.AttnBatchNorm2d(C, 5, act=act)))
    return realistic_(model)


@pytest.mark.parametrize("act,name", [(nn.Tanh(), "Tanh"), (la.HSigmoid(), "HSigmoid"), (nn.Softmax(dim=2), "Softmax")])
def test_unknown_activation_is_refused_with_the_layer_path(act: nn.Module, name: str) -> None:
    (path, layer), = find_an_layers(_with_activation(act))
    with pytest.raises(FoldError) as e:
        fold(layer, path)
    assert str(e.value) == f"0.0: attention activation {name} is not sigmoid, hsigmoid or softmax"


@pytest.mark.parametrize("act", [la.hsigmoid(), la.HSigmoidv2(), la.HSigmoid(bias=3.0, divisor=6.0), nn.Hardsigmoid()],
                         ids=["authors-hsigmoid", "HSigmoidv2", "mmcv-HSigmoid-3-6", "torch-Hardsigmoid"])
def test_hsigmoid_variants_are_recognised_by_their_values(act: nn.Module) -> None:
    (path, layer), = find_an_layers(_with_activation(act))
    assert fold(layer, path).attrs["activation"] == spec.Activation.HSIGMOID


def test_unknown_branch_part_is_refused_with_its_position() -> None:
    layer = la.AttnBatchNorm2d(C, 5)
    layer.attn_weights.attention.insert(2, nn.ReLU6())
    with pytest.raises(FoldError, match=r"^layer3.2.bn2: attention part 2 \(ReLU6\) is not a 1x1 conv"):
        fold(realistic_(layer), "layer3.2.bn2")


def test_fold_that_misses_the_forward_is_refused() -> None:
    """A branch whose forward uses another eps than the one it keeps as an attribute: the fold reads the attribute
    and the float64 check against the layer's own forward catches the difference."""
    layer = _lookalike("family2_bn_rsd")
    layer.attn_weights.eps = 1e-1
    folded = fold(layer, verify=False)
    layer.attn_weights.eps = 1e-3
    with pytest.raises(FoldError, match="does not reproduce the layer's own forward"):
        verify_fold(layer, folded, "x")
    without_stats = la.AttnBatchNorm2d(C, 5)
    without_stats.running_mean = None
    with pytest.raises(FoldError, match="no running statistics"):
        fold(without_stats.eval())


@pytest.mark.parametrize("conv", [nn.Conv2d(C, 5, 3, padding=1, bias=False), nn.Conv2d(C, 5, 1, padding=1, bias=False)],
                         ids=["3x3", "padded"])
def test_attention_conv_must_be_a_plain_1x1(conv: nn.Conv2d) -> None:
    layer = la.AttnBatchNorm2d(C, 5)
    layer.attn_weights.attention[0] = conv
    with pytest.raises(FoldError, match=r"^x: attention part 0 \(Conv2d\) is not a plain 1x1 conv"):
        fold(realistic_(layer), "x")
