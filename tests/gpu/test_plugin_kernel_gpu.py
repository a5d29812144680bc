"""The plugin's CUDA kernel through its C entry point (ctypes) against an_deploy.fused_op on a GPU.

Needs a CUDA device and the built library (build/plugins/libattentive_norm_plugin.so; see plugins/README.md).
Pass rule: |out - ref| <= atol + rtol * |ref| with both explicit (torch.testing.assert_close). fp32 against the
float64 truth; fp16 against twice the error that PyTorch itself makes in fp16 (fused_op(x.half(), upcast=False))
plus a small atol.

Every case id reads layout-dtype-norm-attn_input-activation[-relu][-lgnG]-NxCxHxW-kK, and each case is one
scenario: the shape grid picks shapes that take different kernel paths (H*W = 1, short and long planes, few and
many planes, vector and scalar passes), the option grid every attention option, the padded cases kHWC8 with
C % 8 != 0.
"""

from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass

import pytest
import torch

from an_deploy import spec
from an_deploy.fused_op import fused_op

pytestmark = [pytest.mark.gpu, pytest.mark.plugin]

FP32_RTOL, FP32_ATOL = 1e-4, 1e-5
FP16_FACTOR, FP16_ATOL = 2.0, 1e-3
DTYPE_NAMES = {torch.float32: "fp32", torch.float16: "fp16"}
# The plugin's formats of X: (layout, dtype); nhwc8 is TensorRT's kHWC8 ([N][H][W][ceil(C/8)*8]).
LAYOUTS = (("nchw", torch.float32), ("nhwc", torch.float32), ("nchw", torch.float16), ("nhwc8", torch.float16))


@dataclass(frozen=True)
class Case:
    """One kernel scenario: memory format, dtype, op options and shape."""

    layout: str
    dtype: torch.dtype
    n: int
    c: int
    h: int
    w: int
    k: int
    norm_type: spec.NormType
    attn_input: spec.AttnInput
    activation: spec.Activation
    relu: bool = False
    logit_groups: int = 0

    @property
    def id(self) -> str:
        parts = [self.layout, DTYPE_NAMES[self.dtype], self.norm_type.name.lower(), self.attn_input.name.lower(),
                 self.activation.name.lower()]
        parts += ["relu"] if self.relu else []
        parts += [f"lgn{self.logit_groups}"] if self.logit_groups else []
        return "-".join([*parts, f"{self.n}x{self.c}x{self.h}x{self.w}", f"k{self.k}"])

    @property
    def attrs(self) -> dict[str, int | float]:
        groups = next(g for g in (32, 8, 4, 2, 1) if self.c % g == 0)
        return {"num_channels": self.c, "num_affine": self.k, "attn_hidden": 2 * self.k if self.relu else self.k,
                "norm_type": int(self.norm_type), "num_groups": groups if self.norm_type == spec.NormType.GROUP else 1,
                "attn_input": int(self.attn_input), "hidden_activation": int(self.relu),
                "attn_norm_groups": self.logit_groups, "activation": int(self.activation)}


def make_case(case: Case) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, int | float]]:
    """Input with per-channel offsets/scales and realistic parameters, on the GPU, float32."""
    g = torch.Generator().manual_seed(zlib.crc32(case.id.encode()))
    attrs = case.attrs
    c, k, hidden = case.c, case.k, int(attrs["attn_hidden"])
    offset = torch.randn(1, c, 1, 1, generator=g) * 0.5
    scale = 1.0 + torch.rand(1, c, 1, 1, generator=g)
    x = offset + scale * torch.randn(case.n, c, case.h, case.w, generator=g)
    shapes = spec.input_shapes(spec.resolve_attributes(attrs))
    t = {name: torch.randn(*shape, generator=g) * 0.1 for name, shape in shapes.items()}
    t["attn_w1"] = torch.randn(hidden, c, generator=g) / c**0.5
    if not case.relu:
        t["attn_w2"] = torch.eye(k, hidden)
    t["attn_scale"] = 1.0 + 0.1 * torch.randn(k, generator=g)
    t["mix_weight"] = 1.0 + 0.1 * torch.randn(k, c, generator=g)
    if case.norm_type == spec.NormType.BATCH:
        rv = 0.5 + torch.rand(c, generator=g)
        t["norm_scale"] = torch.rsqrt(rv + 1e-5)
        t["norm_shift"] = -torch.randn(c, generator=g) * t["norm_scale"]
    else:
        t["norm_scale"], t["norm_shift"] = torch.ones(c), torch.zeros(c)
    return x.cuda(), {k_: v.cuda().contiguous() for k_, v in t.items()}, attrs


def padded_channels_last(x: torch.Tensor, fill: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(view, storage): `storage` is [N][H][W][ceil(C/8)*8] (kHWC8) filled with `fill` and x's values; `view` is
    the logical [N, C, H, W] tensor over it, starting at the storage's first element."""
    n, c, h, w = x.shape
    storage = torch.full((n, h, w, (c + 7) // 8 * 8), fill, dtype=x.dtype, device=x.device)
    view = storage[..., :c].permute(0, 3, 1, 2)
    view.copy_(x)
    assert view.data_ptr() == storage.data_ptr()
    return view, storage


def run_kernel(kernel, x: torch.Tensor, t: dict[str, torch.Tensor], attrs: dict[str, int | float],
               layout: str) -> torch.Tensor:
    """The kernel's output for x (float32/float16) in `layout`, checked to have written every element (the output
    starts as NaN) and, for kHWC8, zeros in the padding channels."""
    binding, lib = kernel
    padding = None
    if layout == "nchw":
        x, code = x.contiguous(), binding.LAYOUT_NCHW
        y = torch.full_like(x, float("nan"))
    elif layout == "nhwc":
        x, code = x.contiguous(memory_format=torch.channels_last), binding.LAYOUT_NHWC
        y = torch.full_like(x, float("nan"))
    else:
        x, _ = padded_channels_last(x, fill=float("nan"))  # the kernel must not read the padding
        y, padding = padded_channels_last(torch.zeros_like(x), fill=float("nan"))
        code = binding.LAYOUT_NHWC8
    a = binding.Attributes.from_mapping(attrs)
    ws = torch.empty(lib.workspace_size(x.shape[0], a), dtype=torch.uint8, device=x.device)
    lib.forward(x, y, t, ws, a, code)
    torch.cuda.synchronize()
    if padding is not None:
        pad = padding[..., x.shape[1]:]
        assert bool((pad == 0).all()), "kHWC8 padding channels must be written as 0"
    assert not torch.isnan(y).any(), "unwritten output elements"
    return y


def check(kernel, case: Case) -> None:
    x, t, attrs = make_case(case)
    xin = x.to(case.dtype)
    y = run_kernel(kernel, xin, t, attrs, case.layout).double()
    if case.dtype == torch.float32:
        ref = fused_op(x, t, attrs, upcast=True).double()
        torch.testing.assert_close(y, ref, rtol=FP32_RTOL, atol=FP32_ATOL)
    else:
        truth = fused_op(xin, t, attrs, upcast=True).double()
        base_err = (fused_op(xin, t, attrs, upcast=False).double() - truth).abs().max().item()
        torch.testing.assert_close(y, truth, rtol=0.0, atol=FP16_ATOL + FP16_FACTOR * base_err)


# (N, C, H*W) chosen so that every N, C and H*W value of the old full grid appears and every statistics/apply path
# is taken: H*W = 1 (variance defined as 0), short planes (scalar channels-last pass, flat apply), planes of 256+
# (vector split pass, plane apply), few long planes (a block per plane) and many planes (a warp per plane).
SHAPES = [(1, 64, 1), (32, 512, 1), (1, 256, 49), (8, 512, 49), (32, 64, 49), (1, 512, 196), (8, 64, 196),
          (32, 256, 196), (1, 64, 3136), (8, 256, 3136), (32, 512, 3136)]
SPATIAL = {1: (1, 1), 49: (7, 7), 196: (14, 14), 3136: (56, 56)}


def _shape_cases() -> list[Case]:
    cases = []
    for (layout, dtype), (i, (n, c, hw)) in itertools.product(LAYOUTS, enumerate(SHAPES)):
        activation = spec.Activation(i % 3)
        cases.append(Case(layout, dtype, n, c, *SPATIAL[hw], k=(5, 10, 20)[i % 3], norm_type=spec.NormType(i % 2),
                          attn_input=spec.AttnInput((i // 2) % 3), activation=activation, relu=i % 4 == 1,
                          logit_groups=1 if i % 4 == 3 and activation != spec.Activation.SOFTMAX else 0))
    return cases


def _option_cases() -> list[Case]:
    """Every combination of the attention options in NCHW fp32 (the attention kernel does not depend on the
    layout); in the other layouts each (norm, attention input) pair, which is what their statistics feed."""
    cases = []
    combos = itertools.product(spec.NormType, spec.AttnInput, spec.Activation, (False, True), (0, 1))
    for i, (norm, attn_input, activation, relu, lgn) in enumerate(combos):
        if lgn and activation == spec.Activation.SOFTMAX:
            continue
        cases.append(Case("nchw", torch.float32, 8, 64, 7, 7, k=(5, 10, 20)[i % 3], norm_type=norm,
                          attn_input=attn_input, activation=activation, relu=relu, logit_groups=lgn))
    for (layout, dtype), (i, (norm, attn_input)) in itertools.product(
            LAYOUTS[1:], enumerate(itertools.product(spec.NormType, spec.AttnInput))):
        cases.append(Case(layout, dtype, 8, 64, 7, 7, k=(5, 10, 20)[i % 3], norm_type=norm, attn_input=attn_input,
                          activation=spec.Activation(i % 3), relu=i % 2 == 1))
    return cases


def _padded_cases() -> list[Case]:
    """kHWC8 with C % 8 != 0 (the channel stride rounds up to a multiple of 8): short and long planes."""
    return [Case("nhwc8", torch.float16, 4, c, h, w, k=5, norm_type=norm, attn_input=spec.AttnInput(i % 3),
                 activation=spec.Activation.HSIGMOID, relu=i % 2 == 1)
            for i, (c, (h, w), norm) in enumerate(itertools.product((12, 20), ((7, 7), (16, 16)), spec.NormType))]


SHAPE_CASES, OPTION_CASES, PADDED_CASES = _shape_cases(), _option_cases(), _padded_cases()


@pytest.mark.parametrize("case", SHAPE_CASES, ids=lambda c: c.id)
def test_kernel_matches_fused_op_over_shapes(kernel, case: Case) -> None:
    check(kernel, case)


@pytest.mark.parametrize("case", OPTION_CASES, ids=lambda c: c.id)
def test_kernel_every_option(kernel, case: Case) -> None:
    check(kernel, case)


@pytest.mark.parametrize("case", PADDED_CASES, ids=lambda c: c.id)
def test_kernel_padded_hwc8_fp16(kernel, case: Case) -> None:
    check(kernel, case)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=lambda d: f"nchw-{DTYPE_NAMES[d]}-batch-rsd-"
                         "hsigmoid-unaligned-3x64x5x3-k5")
def test_unaligned_pointers_and_odd_sizes_use_the_scalar_path(kernel, dtype: torch.dtype) -> None:
    case = Case("nchw", torch.float32, 3, 64, 7, 7, k=5, norm_type=spec.NormType.BATCH,
                attn_input=spec.AttnInput.RSD, activation=spec.Activation.HSIGMOID)
    x, t, attrs = make_case(case)
    x = x[:, :, :5, :3].contiguous()  # H*W = 15
    x_storage = torch.empty(x.numel() + 1, device=x.device, dtype=dtype)
    x_odd = x_storage[1:].view_as(x)  # not 16-byte aligned
    x_odd.copy_(x)
    y = run_kernel(kernel, x_odd, t, attrs, "nchw").double()
    ref = fused_op(x_odd, t, attrs, upcast=True).double()
    atol, rtol = (FP32_ATOL, FP32_RTOL) if dtype == torch.float32 else (5e-3, 5e-3)
    torch.testing.assert_close(y, ref, rtol=rtol, atol=atol)
