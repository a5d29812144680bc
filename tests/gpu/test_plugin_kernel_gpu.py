"""The plugin's CUDA kernel through its C entry point (ctypes) against an_deploy.fused_op on a GPU.

Needs a CUDA device and the built library (build/plugins/libattentive_norm_plugin.so; see plugins/README.md).
Pass rule: |out - ref| <= atol + rtol * |ref| with both explicit. fp32 against the float64 truth; fp16 against
twice the error that PyTorch itself makes in fp16 (fused_op(x.half(), upcast=False)) plus a small atol.
"""

from __future__ import annotations

import itertools

import pytest
import torch

from an_deploy import spec
from an_deploy.fused_op import fused_op

pytestmark = [pytest.mark.gpu, pytest.mark.plugin]

FP32_RTOL, FP32_ATOL = 1e-4, 1e-5
FP16_FACTOR, FP16_ATOL = 2.0, 1e-3
SPATIAL = {1: (1, 1), 49: (7, 7), 196: (14, 14), 3136: (56, 56)}


def make_case(n: int, c: int, hw: int, k: int, activation: int, norm_type: int, seed: int
              ) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, int | float]]:
    """Input with per-channel offsets/scales and realistic parameters, on the GPU, float32."""
    g = torch.Generator().manual_seed(seed)
    relu = seed % 2 == 1
    hidden = 2 * k if relu else k
    attrs: dict[str, int | float] = {
        "num_channels": c, "num_affine": k, "attn_hidden": hidden, "norm_type": norm_type,
        "num_groups": 32 if norm_type == spec.NormType.GROUP else 1, "attn_input": seed % 3,
        "hidden_activation": int(relu), "attn_norm_groups": 1 if seed % 4 == 3 and activation != 2 else 0,
        "activation": activation,
    }
    h, w = SPATIAL[hw]
    offset = torch.randn(1, c, 1, 1, generator=g) * 0.5
    scale = 1.0 + torch.rand(1, c, 1, 1, generator=g)
    x = offset + scale * torch.randn(n, c, h, w, generator=g)
    shapes = spec.input_shapes(spec.resolve_attributes(attrs))
    t = {name: torch.randn(*shape, generator=g) * 0.1 for name, shape in shapes.items()}
    t["attn_w1"] = torch.randn(hidden, c, generator=g) / c**0.5
    if not relu:
        t["attn_w2"] = torch.eye(k, hidden)
    t["attn_scale"] = 1.0 + 0.1 * torch.randn(k, generator=g)
    t["mix_weight"] = 1.0 + 0.1 * torch.randn(k, c, generator=g)
    if norm_type == spec.NormType.BATCH:
        rv = 0.5 + torch.rand(c, generator=g)
        t["norm_scale"] = torch.rsqrt(rv + 1e-5)
        t["norm_shift"] = -torch.randn(c, generator=g) * t["norm_scale"]
    else:
        t["norm_scale"], t["norm_shift"] = torch.ones(c), torch.zeros(c)
    return x.cuda(), {k_: v.cuda().contiguous() for k_, v in t.items()}, attrs


def run_kernel(kernel, x: torch.Tensor, t: dict[str, torch.Tensor], attrs: dict[str, int | float],
               channels_last: bool) -> torch.Tensor:
    binding, lib = kernel
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
        layout = binding.LAYOUT_NHWC8 if x.dtype == torch.float16 else binding.LAYOUT_NHWC  # C % 8 == 0 here
    else:
        layout = binding.LAYOUT_NCHW
    y = torch.full_like(x, float("nan"))  # poisoned: every element must be written
    a = binding.Attributes.from_mapping(attrs)
    ws = torch.empty(lib.workspace_size(x.shape[0], a), dtype=torch.uint8, device=x.device)
    lib.forward(x, y, t, ws, a, layout)
    torch.cuda.synchronize()
    return y


def check(kernel, x: torch.Tensor, t, attrs, dtype: torch.dtype, channels_last: bool) -> None:
    xin = x.to(dtype)
    truth = fused_op(xin, t, attrs, upcast=True).double() if dtype == torch.float16 else None
    y = run_kernel(kernel, xin, t, attrs, channels_last).double()
    assert not torch.isnan(y).any()
    if dtype == torch.float32:
        ref = fused_op(x, t, attrs, upcast=True).double()
        bound = FP32_ATOL + FP32_RTOL * ref.abs()
        assert ((y - ref).abs() <= bound).all(), f"max abs err {(y - ref).abs().max().item():.3g}"
    else:
        base = fused_op(xin, t, attrs, upcast=False).double()
        base_err = (base - truth).abs().max().item()
        err = (y - truth).abs()
        assert (err <= FP16_ATOL + FP16_FACTOR * base_err).all(), (err.max().item(), base_err)


SHAPES = list(itertools.product([1, 8, 32], [64, 256, 512], [1, 49, 196, 3136]))


@pytest.mark.parametrize(("n", "c", "hw"), SHAPES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=["fp32", "fp16"])
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "nhwc"])
def test_kernel_matches_fused_op_over_shapes(kernel, n: int, c: int, hw: int, dtype: torch.dtype,
                                             channels_last: bool) -> None:
    index = SHAPES.index((n, c, hw))
    k = (5, 10, 20)[index % 3]
    activation = index % 3 if (index // 3) % 2 == 0 else (index + 1) % 3
    x, t, attrs = make_case(n, c, hw, k, activation, norm_type=(index // 2) % 2, seed=index)
    check(kernel, x, t, attrs, dtype, channels_last)


@pytest.mark.parametrize("activation", list(spec.Activation), ids=lambda a: a.name.lower())
@pytest.mark.parametrize("norm_type", list(spec.NormType), ids=lambda n: n.name.lower())
@pytest.mark.parametrize("k", [5, 10, 20])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=["fp32", "fp16"])
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "nhwc"])
def test_kernel_every_option(kernel, activation: int, norm_type: int, k: int, dtype: torch.dtype,
                             channels_last: bool) -> None:
    for seed in range(4):  # covers every attn_input, relu/identity and logit group norm
        x, t, attrs = make_case(8, 64, 49, k, int(activation), int(norm_type), seed=100 + seed)
        check(kernel, x, t, attrs, dtype, channels_last)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=["fp32", "fp16"])
def test_unaligned_pointers_and_odd_sizes_use_the_scalar_path(kernel, dtype: torch.dtype) -> None:
    x, t, attrs = make_case(3, 64, 49, 5, 1, 0, seed=3)
    x = x[:, :, :5, :3].contiguous()  # H*W = 15
    x_storage = torch.empty(x.numel() + 1, device=x.device, dtype=dtype)
    x_odd = x_storage[1:].view_as(x)  # not 16-byte aligned
    x_odd.copy_(x)
    y = run_kernel(kernel, x_odd, t, attrs, channels_last=False).double()
    ref = fused_op(x_odd, t, attrs, upcast=True).double()
    atol, rtol = (FP32_ATOL, FP32_RTOL) if dtype == torch.float32 else (5e-3, 5e-3)
    assert ((y - ref).abs() <= atol + rtol * ref.abs()).all()
