"""The op's CUDA path on the host: ``launch_kernel`` packs the arguments the plugin's C entry point accepts.

Without a GPU the C function validates every argument (attributes against the shapes, null pointers, workspace
size and alignment, dtype, layout) and only then fails at the kernel launch with a CUDA error; the recorded call
shows what was passed. Needs the plugin library (built with cmake); skipped when it is absent.
"""

from __future__ import annotations

import copy
import glob
import shutil
from types import SimpleNamespace

import pytest
import torch

from an_deploy import spec
from an_deploy.plugin.kernel_api import (
    DTYPE_FLOAT16,
    DTYPE_FLOAT32,
    LAYOUT_NCHW,
    LAYOUT_NHWC,
    STATUS_CUDA_ERROR,
    KernelLibrary,
)
from an_deploy.plugin.library import PluginLibraryError, find_plugin_library
from an_deploy.torch_op import WORKSPACE_ALIGNMENT, c_attributes, launch_kernel, swap_an_layers
from tests.an_layers import C, make_layer


@pytest.fixture(scope="module")
def kernel() -> KernelLibrary:
    if glob.glob("/dev/nvidia[0-9]*") or shutil.which("nvidia-smi"):
        pytest.skip("a GPU is present: host pointers would fault in the kernel (the GPU tests run the op for real)")
    try:
        return KernelLibrary(find_plugin_library().path)
    except PluginLibraryError as e:
        pytest.skip(f"the plugin library is not built: {e}")


@pytest.fixture(autouse=True)
def _default_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "current_stream", lambda device=None: SimpleNamespace(cuda_stream=0))


def _recording(kernel: KernelLibrary) -> tuple[KernelLibrary, list[tuple]]:
    """A copy of the kernel API whose forward call records its arguments, then runs the real C function."""
    calls: list[tuple] = []
    real = kernel.lib.an_attentive_norm_forward

    def forward(*args: object) -> int:
        calls.append(args)
        return real(*args)

    recorder = copy.copy(kernel)
    recorder.lib = SimpleNamespace(
        an_attentive_norm_forward=forward,
        an_attentive_norm_workspace_size=kernel.lib.an_attentive_norm_workspace_size,
        an_attentive_norm_last_error=kernel.lib.an_attentive_norm_last_error,
    )
    return recorder, calls


def _layer_call(name: str = "mixture_bn_mode3") -> tuple[list[torch.Tensor], dict[str, int | float]]:
    op = swap_an_layers(torch.nn.Sequential(make_layer(name)))[0][0]
    return [getattr(op, t.name) for t in spec.PARAM_INPUTS], dict(op.attrs)


@pytest.mark.parametrize(("dtype", "channels_last", "dtype_code", "layout"), [
    (torch.float32, False, DTYPE_FLOAT32, LAYOUT_NCHW),
    (torch.float16, True, DTYPE_FLOAT16, LAYOUT_NHWC),
], ids=["fp32_nchw", "fp16_nhwc"])
def test_every_argument_reaches_the_c_entry_point(kernel: KernelLibrary, dtype: torch.dtype, channels_last: bool,
                                                   dtype_code: int, layout: int) -> None:
    params, attrs = _layer_call()
    x = torch.randn(3, C, 5, 4).to(dtype)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    recorder, calls = _recording(kernel)
    with pytest.raises(RuntimeError, match=rf"failed \({STATUS_CUDA_ERROR}\).*kernel"):
        launch_kernel(x, params, attrs, recorder)
    (args,) = calls
    x_ptr, y_ptr, param_ptrs, ws_ptr, ws_bytes, n, c, h, w, dtype_arg, layout_arg, attrs_ptr, stream = args
    assert x_ptr == x.data_ptr() and y_ptr not in (0, x_ptr)
    assert list(param_ptrs) == [p.data_ptr() for p in params]
    assert ws_ptr % WORKSPACE_ALIGNMENT == 0
    assert ws_bytes == kernel.workspace_size(3, c_attributes(tuple(attrs[k] for k in spec.ATTRIBUTE_NAMES)))
    assert (n, c, h, w, dtype_arg, layout_arg, stream) == (3, C, 5, 4, dtype_code, layout, 0)
    passed = attrs_ptr.contents
    for a in spec.ATTRIBUTES:
        assert getattr(passed, a.name) == pytest.approx(attrs[a.name], rel=1e-6), a.name


def test_parameters_are_made_float32_contiguous(kernel: KernelLibrary) -> None:
    params, attrs = _layer_call("attn_gn_rsd")
    half = [p.half() for p in params]
    recorder, calls = _recording(kernel)
    with pytest.raises(RuntimeError, match="failed"):
        launch_kernel(torch.randn(2, C, 3, 3), half, attrs, recorder)
    (args,) = calls
    passed = list(args[2])
    assert len(passed) == len(spec.PARAM_INPUTS) and 0 not in passed
    assert not set(passed) & {p.data_ptr() for p in half}, "float16 parameters reached the kernel as they were"


def test_rejected_before_any_launch(kernel: KernelLibrary) -> None:
    params, attrs = _layer_call()
    recorder, calls = _recording(kernel)
    with pytest.raises(TypeError, match="float32 or float16"):
        launch_kernel(torch.randn(2, C, 3, 3, dtype=torch.bfloat16), params, attrs, recorder)
    with pytest.raises(ValueError, match="activation"):
        launch_kernel(torch.randn(2, C, 3, 3), params, {**attrs, "activation": 7}, recorder)
    assert calls == []


def test_wrong_channel_count_is_the_c_api_error(kernel: KernelLibrary) -> None:
    params, attrs = _layer_call()
    with pytest.raises(RuntimeError, match="num_channels"):
        launch_kernel(torch.randn(2, C + 2, 3, 3), params, attrs, kernel)
