"""``torch.ops.an_deploy.attentive_norm`` on CPU: the schema is the contract, the values match the float64 reference
as closely as PyTorch fp32 itself does, and the op works under opcheck, torch.compile and torch.export."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from an_deploy import spec
from an_deploy.fold import FoldError
from an_deploy.reference import an_layer_reference
from an_deploy.torch_op import AttentiveNormOp, attentive_norm, op_schema, swap_an_layers
from tests.an_layers import LAYERS, C, make_layer


def _input(shape: tuple[int, ...] = (3, C, 7, 5), seed: int = 0) -> torch.Tensor:
    """Activations with per-channel offsets and scales (statistics far from 0/1, as after a conv)."""
    g = torch.Generator().manual_seed(seed)
    n, c = shape[:2]
    return torch.randn(shape, generator=g) * (0.5 + 2 * torch.rand(1, c, 1, 1, generator=g)) + torch.randn(
        1, c, 1, 1, generator=g)


def _swapped(layer: nn.Module) -> nn.Module:
    return swap_an_layers(nn.Sequential(layer))[0]


def _err(out: torch.Tensor, ref: torch.Tensor) -> float:
    return float((out.double() - ref).abs().max())


def test_schema_is_the_contract() -> None:
    schema = attentive_norm._schema
    names = [a.name for a in schema.arguments]
    assert names == [t.name for t in spec.INPUTS] + list(spec.ATTRIBUTE_NAMES)
    for arg, attr in zip(schema.arguments[len(spec.INPUTS):], spec.ATTRIBUTES, strict=True):
        assert str(arg.type) == ("int" if attr.type is spec.AttrType.INT else "float"), arg
        assert (arg.default_value is None) == (attr.default is None), arg
        if attr.default is not None:
            assert arg.default_value == pytest.approx(attr.default)
    assert all(str(a.type) == "Tensor" for a in schema.arguments[: len(spec.INPUTS)])
    assert op_schema().endswith("-> Tensor")


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_op_matches_float64_reference_like_pytorch_fp32(name: str) -> None:
    layer = make_layer(name, seed=3)
    x = _input(seed=7)
    with torch.no_grad():
        ref = an_layer_reference(layer, x)
        torch_err = _err(layer(x), ref)
        out = _swapped(layer)(x)
    assert out.dtype == torch.float32 and out.shape == x.shape
    assert _err(out, ref) <= 3 * torch_err + 1e-6, f"op {_err(out, ref):.3e}, PyTorch fp32 {torch_err:.3e}"


@pytest.mark.parametrize("name", ["mixture_bn_mode2", "mixture_gn_mode1", "attn_bn_avgmax", "attn_gn_rsd"])
def test_float16_input_is_computed_in_float32(name: str) -> None:
    """fp16 X: one rounding of a float32 result, so at least as close to float64 as PyTorch's own fp16 layer."""
    layer = make_layer(name, seed=1)
    x16 = _input(seed=2).half()
    with torch.no_grad():
        ref = an_layer_reference(layer, x16)
        torch16_err = _err(an_layer_reference(layer, x16, upcast=False), ref)
        out = _swapped(layer)(x16)
    assert out.dtype == torch.float16
    err = _err(out, ref)
    assert err <= torch16_err, f"op {err:.3e}, PyTorch fp16 {torch16_err:.3e}"
    assert err <= 2.0**-10 * float(ref.abs().max()), "more than one fp16 rounding away from float64"


def test_channels_last_in_channels_last_out() -> None:
    op = _swapped(make_layer("mixture_bn_mode2"))
    x = _input((2, C, 6, 6))
    with torch.no_grad():
        y = op(x)
        y_cl = op(x.to(memory_format=torch.channels_last))
    assert y.is_contiguous()
    assert y_cl.is_contiguous(memory_format=torch.channels_last) and not y_cl.is_contiguous()
    assert torch.equal(y, y_cl.contiguous())


def test_single_pixel_and_single_sample_are_finite() -> None:
    """H*W == 1: the contract defines the unbiased variance as 0 (the original layer gives NaN)."""
    layer = make_layer("mixture_bn_mode2")
    op = _swapped(layer)
    for shape in ((1, C, 1, 1), (1, C, 3, 3), (4, C, 1, 1)):
        x = _input(shape)
        with torch.no_grad():
            out, ref = op(x), an_layer_reference(layer, x)
        assert torch.isfinite(out).all()
        assert _err(out, ref) <= 1e-4 * float(ref.abs().max()), shape


def test_wrong_channel_count_is_an_error() -> None:
    op = _swapped(make_layer("mixture_bn_mode2"))
    with pytest.raises(ValueError, match="expected x of shape"):
        op(torch.zeros(1, C + 1, 4, 4))


@pytest.mark.parametrize("name", ["mixture_bn_mode3", "mixture_gn_mode0", "attn_bn_avgmax", "attn_gn_avgmax_mode1"])
def test_opcheck(name: str) -> None:
    module = _swapped(make_layer(name))[0]
    assert isinstance(module, AttentiveNormOp)
    params = [getattr(module, t.name) for t in spec.PARAM_INPUTS]
    for x in (_input((2, C, 5, 4)), _input((1, C, 3, 3)).to(memory_format=torch.channels_last)):
        torch.library.opcheck(attentive_norm, (x, *params, *module.attr_values))
    defaults_omitted = tuple(module.attr_values[:3])  # trailing attributes at their defaults may be left out
    torch.library.opcheck(attentive_norm, (_input((2, C, 4, 4)), *params, *defaults_omitted))


class _Block(nn.Module):
    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, C, 3, padding=1)
        self.norm = layer
        self.head = nn.Conv2d(C, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.norm(self.conv(x))))


def _block() -> nn.Module:
    torch.manual_seed(0)
    return _Block(make_layer("mixture_bn_mode2")).eval()


def test_swap_replaces_every_an_layer_and_keeps_the_model() -> None:
    model = _block()
    original = copy.deepcopy(model.state_dict())
    swapped, names = swap_an_layers(model)
    assert names == ["norm"]
    assert isinstance(swapped.norm, AttentiveNormOp) and not isinstance(model.norm, AttentiveNormOp)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in original.items())
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        ref = copy.deepcopy(model).double()(x.double())
        torch_err = _err(model(x), ref)
        assert _err(swapped(x), ref) <= 3 * torch_err + 1e-6


def test_swap_in_place_needs_eval_mode() -> None:
    model = _block().train()
    with pytest.raises(FoldError, match="eval"):
        swap_an_layers(model, inplace=True)
    swapped, _ = swap_an_layers(model.eval(), inplace=True)
    assert swapped is model and isinstance(model.norm, AttentiveNormOp)


@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
def test_torch_compile_fullgraph_on_cpu(dynamic: bool) -> None:
    swapped, _ = swap_an_layers(_block())
    compiled = torch.compile(swapped, fullgraph=True, dynamic=dynamic)
    shapes = [(2, 3, 8, 8), (5, 3, 11, 11)] if dynamic else [(2, 3, 8, 8)]
    with torch.no_grad():
        for shape in shapes:
            x = torch.randn(shape)
            torch.testing.assert_close(compiled(x), swapped(x), rtol=1e-5, atol=1e-5,
                                       msg=lambda m, s=shape: f"{s}: {m}")


def test_backward_is_a_clear_error() -> None:
    """The op is for inference: a gradient through it fails loudly instead of being silently wrong."""
    swapped, _ = swap_an_layers(_block())
    y = swapped(torch.randn(2, 3, 8, 8, requires_grad=True))
    with pytest.raises(RuntimeError, match="no autograd formula"):
        y.sum().backward()


def test_torch_export_keeps_one_opaque_node_per_layer() -> None:
    swapped, _ = swap_an_layers(_block())
    x = torch.randn(3, 3, 8, 8)
    program = torch.export.export(swapped, (x,), dynamic_shapes=({0: torch.export.Dim("batch")},))
    targets = [n.target for n in program.graph.nodes if n.op == "call_function"]
    assert targets.count(attentive_norm) == 1
    assert not [t for t in targets if "var" in str(t) or "mean" in str(t)], targets
    x5 = torch.randn(5, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(program.module()(x5), swapped(x5))
