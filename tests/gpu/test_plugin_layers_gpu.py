"""The whole deployment path on a GPU: a trained-style AN layer -> fold -> the plugin's CUDA kernel, compared with
the float64 reference of the ORIGINAL layer (an_deploy.reference), for every layer configuration the CPU tests
cover (both code families, BN and GN, every attention mode).

Needs a CUDA device and the built library (build/plugins/libattentive_norm_plugin.so); skipped with a reason
elsewhere. fp32 within 1e-4 relative (+1e-5 absolute). fp16 (x in half, the folded parameters float32 as the
plugin takes them) within twice the error PyTorch itself makes running the layer in fp16 against the same
float64 truth, plus 1e-3 absolute. Case ids read layout-dtype-layer-NxCxHxW.
"""

from __future__ import annotations

import pytest
import torch

from an_deploy.fold import fold
from an_deploy.reference import an_layer_reference
from tests.an_layers import LAYERS, C, make_layer
from tests.gpu.test_plugin_kernel_gpu import DTYPE_NAMES, FP16_ATOL, FP16_FACTOR, FP32_ATOL, FP32_RTOL, run_kernel

pytestmark = [pytest.mark.gpu, pytest.mark.plugin]

N = 4
# (layout, dtype, (H, W)): H*W = 1 (variance defined as 0), a short plane (7x7: scalar channels-last pass) and a
# plane of 256 pixels (16x16: the vectorised split pass), in fp32; the two fp16 formats of the plugin.
SETTINGS = [("nchw", torch.float32, (7, 7)), ("nhwc", torch.float32, (16, 16)), ("nchw", torch.float32, (1, 1)),
            ("nchw", torch.float16, (14, 14)), ("nhwc8", torch.float16, (16, 16))]
CASES = [(layout, dtype, spatial, name) for name in sorted(LAYERS) for layout, dtype, spatial in SETTINGS]


def _case_id(case: tuple) -> str:
    layout, dtype, (h, w), name = case
    return f"{layout}-{DTYPE_NAMES[dtype]}-{name}-{N}x{C}x{h}x{w}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_folded_layer_on_the_kernel_matches_the_float64_original(kernel, case: tuple) -> None:
    layout, dtype, spatial, name = case
    layer = make_layer(name, seed=7)
    folded = fold(layer)
    c = folded.attrs["num_channels"]
    assert c == C
    g = torch.Generator().manual_seed(11)
    x = 0.5 * torch.randn(1, c, 1, 1, generator=g) + (1 + torch.rand(1, c, 1, 1, generator=g)) * torch.randn(
        N, c, *spatial, generator=g)
    x = x.to(dtype)
    truth = an_layer_reference(layer, x, upcast=True)
    tensors = {k: v.cuda() for k, v in folded.to(torch.float32).items()}
    y = run_kernel(kernel, x.cuda(), tensors, folded.attrs, layout).double().cpu()
    if dtype == torch.float32:
        torch.testing.assert_close(y, truth, rtol=FP32_RTOL, atol=FP32_ATOL, msg=lambda m: f"{name}: {m}")
    else:
        torch_err = (an_layer_reference(layer.cuda(), x.cuda(), upcast=False).double().cpu() - truth).abs().max().item()
        torch.testing.assert_close(y, truth, rtol=0.0, atol=FP16_ATOL + FP16_FACTOR * torch_err,
                                   msg=lambda m: f"{name}: {m} (PyTorch fp16: {torch_err:.3g})")
