"""ctypes binding of the plugin library's C kernel entry point (plugins/attentive_norm/attentiveNormApi.h).

Used by the PyTorch op (:mod:`an_deploy.torch_op`), the kernel benchmarks and the tests, with torch CUDA tensors;
needs no TensorRT and no libtorch in the library. The library is the one every command finds
(:func:`an_deploy.plugin.library.find_plugin_library`: ``--plugin``, ``$AN_DEPLOY_PLUGIN``, the build folder).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from an_deploy import spec
from an_deploy.plugin.library import find_plugin_library, open_library

STATUS_SUCCESS, STATUS_INVALID_ARGUMENT, STATUS_WORKSPACE_TOO_SMALL, STATUS_CUDA_ERROR = 0, 1, 2, 3
DTYPE_FLOAT32, DTYPE_FLOAT16 = 0, 1
LAYOUT_NCHW, LAYOUT_NHWC8, LAYOUT_NHWC = 0, 1, 2
C_ENTRY_POINTS = ("an_attentive_norm_workspace_size", "an_attentive_norm_check_attributes",
                  "an_attentive_norm_last_error", "an_attentive_norm_forward")


class Attributes(ctypes.Structure):
    """AnAttentiveNormAttributes: spec.ATTRIBUTES in order, INT -> int32, FLOAT -> float32."""

    _fields_ = [(a.name, ctypes.c_int32 if a.type is spec.AttrType.INT else ctypes.c_float) for a in spec.ATTRIBUTES]

    @classmethod
    def from_mapping(cls, attrs: Mapping[str, int | float]) -> Attributes:
        values = {a.name: a.default for a in spec.ATTRIBUTES} | dict(attrs)
        return cls(**{k: v for k, v in values.items() if v is not None})


@dataclass(frozen=True)
class BoundLaunch:
    """A packed call of ``an_attentive_norm_forward``; holds the tensors whose raw pointers ``args`` carries."""

    function: Any
    args: tuple[Any, ...]
    tensors: tuple[Any, ...]

    def __call__(self) -> int:
        return int(self.function(*self.args))


class KernelLibrary:
    """The four C functions of the plugin library with their signatures declared.

    Args:
        path: the library; by default the one :func:`~an_deploy.plugin.library.find_plugin_library` finds.

    Raises:
        PluginLibraryError: no library found, not loadable, or without the C entry points.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        lib = open_library(Path(path) if path is not None else find_plugin_library().path, C_ENTRY_POINTS)
        lib.an_attentive_norm_workspace_size.restype = ctypes.c_size_t
        lib.an_attentive_norm_workspace_size.argtypes = [ctypes.c_int64, ctypes.POINTER(Attributes)]
        lib.an_attentive_norm_check_attributes.restype = ctypes.c_int32
        lib.an_attentive_norm_check_attributes.argtypes = [ctypes.POINTER(Attributes)]
        lib.an_attentive_norm_last_error.restype = ctypes.c_char_p
        lib.an_attentive_norm_last_error.argtypes = []
        lib.an_attentive_norm_forward.restype = ctypes.c_int32
        lib.an_attentive_norm_forward.argtypes = [
            ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p, ctypes.c_size_t,
            ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int32, ctypes.c_int32,
            ctypes.POINTER(Attributes), ctypes.c_void_p]
        self.lib = lib

    def workspace_size(self, n: int, attrs: Attributes) -> int:
        return int(self.lib.an_attentive_norm_workspace_size(n, ctypes.byref(attrs)))

    def check_attributes(self, attrs: Attributes) -> int:
        return int(self.lib.an_attentive_norm_check_attributes(ctypes.byref(attrs)))

    def last_error(self) -> str:
        return (self.lib.an_attentive_norm_last_error() or b"").decode()

    def bind(self, x: Any, y: Any, tensors: Mapping[str, Any], workspace: Any, attrs: Attributes,
             layout: int) -> Callable[[], int]:
        """One launch on torch CUDA tensors with every argument packed once; calling the result launches it on
        torch's current stream (of now) and returns the status. The result keeps the tensors alive.

        x/y: float32 or float16, [N, C, H, W] logical, memory as `layout`.
        """
        dtype = DTYPE_FLOAT16 if x.dtype == torch.float16 else DTYPE_FLOAT32
        params = (ctypes.c_void_p * len(spec.PARAM_INPUTS))(*[tensors[t.name].data_ptr() for t in spec.PARAM_INPUTS])
        stream = torch.cuda.current_stream(x.device).cuda_stream
        n, c, h, w = x.shape
        args = (x.data_ptr(), y.data_ptr(), params, workspace.data_ptr(), workspace.numel(), n, c, h, w, dtype,
                layout, ctypes.pointer(attrs), stream)
        return BoundLaunch(self.lib.an_attentive_norm_forward, args, (x, y, dict(tensors), workspace))

    def forward(self, x: Any, y: Any, tensors: Mapping[str, Any], workspace: Any, attrs: Attributes,
                layout: int) -> None:
        """Run on torch CUDA tensors (see :meth:`bind`).

        Raises:
            RuntimeError: the library returned a failure status.
        """
        rc = self.bind(x, y, tensors, workspace, attrs, layout)()
        if rc != STATUS_SUCCESS:
            raise RuntimeError(f"an_attentive_norm_forward failed ({rc}): {self.last_error()}")
