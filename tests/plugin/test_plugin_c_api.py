"""The extern "C" kernel entry point, loaded with ctypes (host side: validation, workspace, exports)."""

from __future__ import annotations

import ctypes
import glob
import random
import shutil
import subprocess
import weakref
from collections.abc import Mapping

import pytest

from an_deploy import spec
from an_deploy.plugin.kernel_api import (
    LAYOUT_NCHW,
    STATUS_CUDA_ERROR,
    STATUS_INVALID_ARGUMENT,
    STATUS_SUCCESS,
    STATUS_WORKSPACE_TOO_SMALL,
    Attributes,
    KernelLibrary,
)

pytestmark = pytest.mark.plugin



def load(path) -> ctypes.CDLL:
    """The library with every C function's signature declared (the same binding the GPU tests use)."""
    return KernelLibrary(path).lib


@pytest.fixture(scope="module")
def lib(plugin_build) -> ctypes.CDLL:
    return load(plugin_build.plugin)


BASE = {"num_channels": 8, "num_affine": 4, "attn_hidden": 6}


def test_struct_layout_is_one_slot_per_attribute() -> None:
    assert ctypes.sizeof(Attributes) == 4 * len(spec.ATTRIBUTES)
    assert [f[0] for f in Attributes._fields_] == list(spec.ATTRIBUTE_NAMES)


def test_check_attributes_agrees_with_spec(lib: ctypes.CDLL) -> None:
    rng = random.Random(5)
    accepted = 0
    for _ in range(3000):
        def pick(valid: list, invalid: list) -> int | float:
            return rng.choice(invalid) if rng.random() < 0.08 else rng.choice(valid)

        attrs = {
            "num_channels": pick([1, 6, 8, 12], [0, -2]), "num_affine": pick([1, 4, 6], [0, -1]),
            "attn_hidden": pick([1, 4], [0, -1]), "norm_type": pick([0, 1], [2, -1]),
            "num_groups": pick([1, 2, 3, 4], [0, -1]), "epsilon": pick([1e-5], [0.0, -1.0, float("nan")]),
            "attn_input": pick([0, 1, 2], [3, -1]), "eps_var": pick([1e-3], [0.0]),
            "hidden_activation": pick([0, 1], [2, -1]), "attn_norm_groups": pick([0, 1, 2, 3], [-1]),
            "attn_norm_eps": pick([1e-5], [-1e-5]), "activation": pick([0, 1, 2], [3, -1]),
        }
        rc = lib.an_attentive_norm_check_attributes(ctypes.byref(Attributes.from_mapping(attrs)))
        errors = spec.attribute_errors(attrs)
        assert rc == (STATUS_INVALID_ARGUMENT if errors else STATUS_SUCCESS), (attrs, errors)
        if errors:
            message = lib.an_attentive_norm_last_error().decode()
            assert message.count(";") == len(errors) - 1, (message, errors)
        accepted += not errors
    assert 300 < accepted < 2900


def test_workspace_size(lib: ctypes.CDLL) -> None:
    attrs = Attributes.from_mapping(BASE)
    small = lib.an_attentive_norm_workspace_size(1, ctypes.byref(attrs))
    big = lib.an_attentive_norm_workspace_size(64, ctypes.byref(attrs))
    assert 0 < small < big and big % 256 == 0
    assert big >= 64 * (8 * 8 + 6 + 4) * 4  # eight per-(n, c) arrays plus hidden and logits
    assert lib.an_attentive_norm_workspace_size(0, ctypes.byref(attrs)) == 0
    assert lib.an_attentive_norm_workspace_size(1, None) == 0


def test_workspace_size_never_shrinks_as_the_batch_grows(lib: ctypes.CDLL) -> None:
    """TensorRT sizes the workspace for the profile's largest batch; enqueue runs any smaller batch in it."""
    attrs = Attributes.from_mapping(BASE)
    sizes = [lib.an_attentive_norm_workspace_size(n, ctypes.byref(attrs)) for n in range(1, 1100)]
    assert all(a <= b for a, b in zip(sizes, sizes[1:], strict=False)), [
        (n + 1, a, b) for n, (a, b) in enumerate(zip(sizes, sizes[1:], strict=False)) if a > b][:5]


def _forward(lib: ctypes.CDLL, *, x: int = 4096, y: int = 8192, params: list[int] | None = None, ws: int = 1 << 20,
             ws_bytes: int = 1 << 20, shape=(2, 8, 3, 3), dtype: int = 0, layout: int = 0,
             attrs: Mapping[str, int | float] = BASE) -> tuple[int, str]:
    values = params if params is not None else [0x10000 + 256 * i for i in range(10)]
    array = (ctypes.c_void_p * 10)(*values)
    a = Attributes.from_mapping(attrs)
    rc = lib.an_attentive_norm_forward(x, y, array, ws, ws_bytes, *shape, dtype, layout, ctypes.byref(a), None)
    return rc, lib.an_attentive_norm_last_error().decode()


@pytest.mark.parametrize(("kwargs", "status", "word"), [
    ({"attrs": {**BASE, "num_affine": 0}}, STATUS_INVALID_ARGUMENT, "num_affine"),
    ({"shape": (2, 9, 3, 3)}, STATUS_INVALID_ARGUMENT, "num_channels"),
    ({"shape": (0, 8, 3, 3)}, STATUS_INVALID_ARGUMENT, "shape"),
    ({"shape": (2, 8, 0, 3)}, STATUS_INVALID_ARGUMENT, "shape"),
    ({"dtype": 2}, STATUS_INVALID_ARGUMENT, "dtype"),
    ({"layout": 3}, STATUS_INVALID_ARGUMENT, "layout"),
    ({"x": 0}, STATUS_INVALID_ARGUMENT, "null"),
    ({"ws": 0}, STATUS_INVALID_ARGUMENT, "null"),
    ({"params": [4096] * 9 + [0]}, STATUS_INVALID_ARGUMENT, "norm_shift"),
    ({"ws": 4096 + 16}, STATUS_INVALID_ARGUMENT, "aligned"),
    ({"ws_bytes": 16}, STATUS_WORKSPACE_TOO_SMALL, "need"),
], ids=["bad_attrs", "channels", "n0", "h0", "dtype", "layout", "null_x", "null_ws", "null_param", "ws_align",
        "ws_small"])
def test_forward_rejects_bad_arguments_before_any_cuda_call(lib: ctypes.CDLL, kwargs: dict, status: int,
                                                            word: str) -> None:
    rc, message = _forward(lib, **kwargs)
    assert rc == status
    assert word in message


def _machine_has_gpu() -> bool:
    return bool(glob.glob("/dev/nvidia[0-9]*")) or shutil.which("nvidia-smi") is not None


def test_forward_without_a_gpu_returns_a_cuda_error(lib: ctypes.CDLL) -> None:
    if _machine_has_gpu():
        pytest.skip("a GPU is present: fake device pointers would fault (tests/gpu covers the kernel)")
    rc, message = _forward(lib)
    assert rc == STATUS_CUDA_ERROR
    assert "kernel" in message and "cuda" in message.lower()
    assert _forward(lib, attrs={**BASE, "num_affine": 0})[0] == STATUS_INVALID_ARGUMENT  # still usable


def test_bound_torch_call_marshals_every_argument(plugin_build, monkeypatch: pytest.MonkeyPatch) -> None:
    """KernelLibrary.bind (the GPU tests' and the benchmark's way in) packs arguments the C function accepts:
    without a GPU the call gets as far as the launch and reports the CUDA error, with no ctypes error."""
    if _machine_has_gpu():
        pytest.skip("a GPU is present: tests/gpu runs the bound call for real")
    import torch

    monkeypatch.setattr(torch.cuda, "current_stream", lambda device=None: type("S", (), {"cuda_stream": 0})())
    kernel = KernelLibrary(plugin_build.plugin)
    attrs = Attributes.from_mapping(BASE)
    shapes = spec.input_shapes(spec.resolve_attributes(BASE))
    tensors = {name: torch.ones(*shape) for name, shape in shapes.items()}
    x = torch.ones(2, 8, 3, 3)
    size = kernel.workspace_size(2, attrs)
    storage = torch.empty(size + 256, dtype=torch.uint8)  # the C API wants 256-byte aligned workspace, as cudaMalloc
    workspace = storage[-storage.data_ptr() % 256:][:size]
    assert workspace.data_ptr() % 256 == 0 and workspace.numel() == size
    y = torch.empty_like(x)
    y_alive = weakref.ref(y)
    call = kernel.bind(x, y, tensors, workspace, attrs, LAYOUT_NCHW)
    del y
    assert y_alive() is not None  # the bound call keeps the tensors its raw pointers point into
    assert call() == STATUS_CUDA_ERROR, kernel.last_error()
    assert "kernel" in kernel.last_error()
    with pytest.raises(RuntimeError, match="an_attentive_norm_forward failed"):
        kernel.forward(x, torch.empty_like(x), tensors, workspace, attrs, LAYOUT_NCHW)


def test_only_the_plugin_interface_and_c_api_are_exported(plugin_build) -> None:
    if shutil.which("nm") is None:
        pytest.skip("nm (binutils) is not installed")
    out = subprocess.run(["nm", "-D", "--defined-only", str(plugin_build.plugin)], capture_output=True, text=True,
                         check=True).stdout
    names = sorted(line.split()[-1] for line in out.splitlines() if line.strip())
    assert names == sorted(["getCreators", "setLoggerFinder", "an_attentive_norm_check_attributes",
                            "an_attentive_norm_forward", "an_attentive_norm_last_error",
                            "an_attentive_norm_workspace_size"])


def test_no_tensorrt_or_dynamic_cudart_dependency(plugin_build) -> None:
    if shutil.which("readelf") is None:
        pytest.skip("readelf (binutils) is not installed")
    out = subprocess.run(["readelf", "-d", str(plugin_build.plugin)], capture_output=True, text=True, check=True).stdout
    needed = [line.split("[")[-1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line]
    assert not [n for n in needed if "nvinfer" in n or "cudart" in n or n.startswith("libcuda")], needed
