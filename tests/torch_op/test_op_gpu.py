"""The op's CUDA implementation (the plugin kernel) on a GPU: values against the float64 reference, fp16 and
channels-last, torch.compile, and capture in a CUDA graph. Skipped with the reason without CUDA or the library."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from an_deploy.plugin.library import PluginLibraryError
from an_deploy.reference import an_layer_reference
from an_deploy.torch_op import kernel_library, swap_an_layers
from tests.an_layers import LAYERS, C, make_layer

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module", autouse=True)
def _cuda_and_library() -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    try:
        kernel_library()
    except PluginLibraryError as e:
        pytest.skip(f"plugin library not built: {e}")


def _input(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g) * 2 + torch.randn(1, shape[1], 1, 1, generator=g)).cuda()


def _err(out: torch.Tensor, ref: torch.Tensor) -> float:
    return float((out.double().cpu() - ref.cpu()).abs().max())


SHAPE = (4, C, 9, 7)
# One layer per code family and normaliser: the torch op passes the folded attributes through unchanged, so
# every other layer configuration only repeats these (tests/gpu/test_plugin_layers_gpu.py runs each of them on
# the kernel).
OP_LAYERS = ("mixture_bn_mode2", "mixture_gn_mode1", "attn_bn_avgmax", "attn_gn_mode1_g2")
assert set(OP_LAYERS) <= set(LAYERS)


@pytest.mark.parametrize(("name", "channels_last"), [(n, cl) for n in OP_LAYERS for cl in (False, True)],
                         ids=[f"{'nhwc' if cl else 'nchw'}-fp32+fp16-{n}-{'x'.join(map(str, SHAPE))}"
                              for n in OP_LAYERS for cl in (False, True)])
def test_cuda_op_matches_float64_like_pytorch(name: str, channels_last: bool) -> None:
    layer = make_layer(name, seed=4).cuda()
    op = swap_an_layers(nn.Sequential(layer))[0]
    x = _input(SHAPE, seed=1)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    with torch.no_grad():
        ref = an_layer_reference(layer, x)
        torch_err = _err(layer(x), ref)
        out = op(x)
        out16 = op(x.half())
        torch16_err = _err(an_layer_reference(layer, x.half(), upcast=False), an_layer_reference(layer, x.half()))
    assert out.is_contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    torch.testing.assert_close(out.double().cpu(), ref.cpu(), rtol=0.0, atol=3 * torch_err + 1e-6)
    assert out16.dtype == torch.float16
    torch.testing.assert_close(out16.double().cpu(), an_layer_reference(layer, x.half()).cpu(), rtol=0.0,
                               atol=max(torch16_err, 2.0**-10 * float(ref.abs().max())))


def test_cuda_op_under_torch_compile_and_cuda_graph() -> None:
    layer = make_layer("mixture_bn_mode2").cuda()
    op = swap_an_layers(nn.Sequential(nn.Conv2d(C, C, 3, padding=1), layer))[0].cuda().eval()
    x = _input((8, C, 14, 14))
    with torch.no_grad():
        eager = op(x)
        compiled = torch.compile(op, fullgraph=True)(x)
        torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-5)
        static_x = x.clone()
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            op(static_x)  # warm-up outside the capture
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_y = op(static_x)
        static_x.copy_(x * 0.5)
        graph.replay()
        torch.cuda.synchronize()
        torch.testing.assert_close(static_y, op(x * 0.5), rtol=0, atol=0)
