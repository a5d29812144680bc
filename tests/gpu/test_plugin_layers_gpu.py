"""The whole deployment path on a GPU: a trained-style AN layer -> fold -> the plugin's CUDA kernel, compared with
the float64 reference of the ORIGINAL layer (an_deploy.reference), for every layer configuration the CPU tests
cover (both code families, BN and GN, every attention mode).

Needs a CUDA device and the built library (build/plugins/libattentive_norm_plugin.so); skipped with a reason
elsewhere. fp32 within 1e-4 relative (+1e-5 absolute).
"""

from __future__ import annotations

import pytest
import torch

from an_deploy.fold import fold
from an_deploy.reference import an_layer_reference
from tests.an_layers import LAYERS, make_layer
from tests.gpu.test_plugin_kernel_gpu import FP32_ATOL, FP32_RTOL, run_kernel

pytestmark = [pytest.mark.gpu, pytest.mark.plugin]


@pytest.mark.parametrize("spatial", [(7, 7), (14, 14), (1, 1)], ids=["7x7", "14x14", "1x1"])
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "nhwc"])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_folded_layer_on_the_kernel_matches_the_float64_original(kernel, name: str, spatial: tuple[int, int],
                                                                 channels_last: bool) -> None:
    layer = make_layer(name, seed=7)
    folded = fold(layer)
    c = folded.attrs["num_channels"]
    g = torch.Generator().manual_seed(11)
    x = 0.5 * torch.randn(1, c, 1, 1, generator=g) + (1 + torch.rand(1, c, 1, 1, generator=g)) * torch.randn(
        4, c, *spatial, generator=g)
    ref = an_layer_reference(layer, x, upcast=True)
    tensors = {k: v.cuda() for k, v in folded.to(torch.float32).items()}
    y = run_kernel(kernel, x.cuda(), tensors, folded.attrs, channels_last).double().cpu()
    assert not torch.isnan(y).any(), "unwritten output elements"
    err = (y - ref).abs()
    assert (err <= FP32_ATOL + FP32_RTOL * ref.abs()).all(), f"{name}: max abs err {err.max().item():.3g}"
