"""AttentiveNorm as one PyTorch operator: ``torch.ops.an_deploy.attentive_norm``.

The operator's schema is generated from ``spec.py`` (X, then ``spec.PARAM_INPUTS``, then ``spec.ATTRIBUTES``
with their defaults), so it is the op contract and nothing else. Implementations:

* CPU: the fused op math of ``fused_op.py`` with float32 arithmetic (float16 X is computed in float32 and
  rounded once at the end).
* CUDA: the plugin library's C kernel entry point (``an_attentive_norm_forward``, bound by
  ``an_deploy.plugin.kernel_api``), launched on torch's current stream. The library is found the way
  ``trt-build`` finds it (``an_deploy.plugin.library.find_plugin_library``). Per call it allocates only
  the output and the kernel's workspace (from torch's caching allocator) and never synchronises, so it can
  be captured in a CUDA graph.
* Fake (meta): the output's shape, dtype and memory format, for ``torch.compile`` and ``torch.export``.

The output has X's shape and dtype; it is channels-last when X is channels-last (the kernel's NHWC layout),
contiguous otherwise. The operator is for inference (eval-mode layers): it has no autograd formula.

:func:`swap_an_layers` turns every AN layer of a model into an :class:`AttentiveNormOp` module calling the
operator; the torch.export-based ONNX exporter exports through the same swap.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence

import torch
from torch import nn

from an_deploy import spec
from an_deploy.discover import replace_an_layers
from an_deploy.fold import FoldedAN, fold
from an_deploy.fused_op import fused_op
from an_deploy.plugin.kernel_api import LAYOUT_NCHW, LAYOUT_NHWC, STATUS_SUCCESS, Attributes, KernelLibrary
from an_deploy.plugin.library import find_plugin_library

OP_NAME = "attentive_norm"
QUALIFIED_NAME = f"{spec.DOMAIN}::{OP_NAME}"
_SCHEMA_TYPE = {spec.AttrType.INT: "int", spec.AttrType.FLOAT: "float"}
_PARAM_NAMES = tuple(t.name for t in spec.PARAM_INPUTS)
KERNEL_DTYPES = (torch.float32, torch.float16)
WORKSPACE_ALIGNMENT = 256  # the C API's requirement (attentiveNormApi.h)


def op_schema() -> str:
    """The operator's schema string, generated from ``spec.INPUTS`` and ``spec.ATTRIBUTES`` in contract order."""
    tensors = [f"Tensor {t.name}" for t in spec.INPUTS]
    attrs = [
        f"{_SCHEMA_TYPE[a.type]} {a.name}" + ("" if a.default is None else f"={a.default!r}") for a in spec.ATTRIBUTES
    ]
    return f"({', '.join(tensors + attrs)}) -> Tensor"


def split_arguments(
    args: Sequence[object], kwargs: dict[str, object]
) -> tuple[torch.Tensor, list[torch.Tensor], dict[str, int | float]]:
    """X, the parameter tensors (contract order) and every attribute (defaults filled) of one call."""
    n_inputs = len(spec.INPUTS)
    x = args[0]
    params = list(args[1:n_inputs])
    attrs: dict[str, int | float] = {}
    for i, a in enumerate(spec.ATTRIBUTES):
        if n_inputs + i < len(args):
            attrs[a.name] = args[n_inputs + i]  # type: ignore[assignment]
        elif a.name in kwargs:
            attrs[a.name] = kwargs[a.name]  # type: ignore[assignment]
        else:
            attrs[a.name] = a.default  # type: ignore[assignment]
    return x, params, attrs  # type: ignore[return-value]


def output_memory_format(x: torch.Tensor) -> torch.memory_format:
    """channels_last when X is stored channels-last (and not also plain contiguous), otherwise contiguous."""
    if not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last):
        return torch.channels_last
    return torch.contiguous_format


@torch.library.custom_op(QUALIFIED_NAME, mutates_args=(), device_types="cpu", schema=op_schema())
def _attentive_norm_cpu(*args: object, **kwargs: object) -> torch.Tensor:
    x, params, attrs = split_arguments(args, kwargs)
    y = fused_op(x.float(), dict(zip(_PARAM_NAMES, params, strict=True)), attrs, upcast=False)
    return y.to(x.dtype).contiguous(memory_format=output_memory_format(x))


@_attentive_norm_cpu.register_fake
def _attentive_norm_fake(*args: object, **kwargs: object) -> torch.Tensor:
    x, _, attrs = split_arguments(args, kwargs)
    if x.dim() != 4:
        raise ValueError(f"attentive_norm expects X of rank 4 [N, C, H, W], got rank {x.dim()}")
    torch._check(x.shape[1] == attrs["num_channels"], lambda: f"X has {x.shape[1]} channels, "
                 f"num_channels is {attrs['num_channels']}")
    return torch.empty_like(x, memory_format=output_memory_format(x))


@functools.lru_cache(maxsize=1)
def kernel_library() -> KernelLibrary:
    """The plugin library's C kernel API, loaded once.

    Raises:
        PluginLibraryError: the library is not found (the message names the build command).
    """
    return KernelLibrary(find_plugin_library().path)


@functools.lru_cache(maxsize=512)
def c_attributes(values: tuple[int | float, ...]) -> Attributes:
    """The C attribute struct for attribute values in ``spec.ATTRIBUTES`` order (cached: a model has few).

    Raises:
        ValueError: the values break a rule of the contract (checked once per distinct set of values).
    """
    return Attributes.from_mapping(spec.resolve_attributes(dict(zip(spec.ATTRIBUTE_NAMES, values, strict=True))))


def aligned_workspace(nbytes: int, device: torch.device) -> torch.Tensor:
    """``nbytes`` of uint8 starting at a ``WORKSPACE_ALIGNMENT``-byte boundary, whatever the allocator's alignment."""
    storage = torch.empty(nbytes + WORKSPACE_ALIGNMENT - 1, dtype=torch.uint8, device=device)
    offset = -storage.data_ptr() % WORKSPACE_ALIGNMENT
    return storage[offset : offset + nbytes]


def launch_kernel(
    x: torch.Tensor, params: Sequence[torch.Tensor], attrs: dict[str, int | float], kernel: KernelLibrary
) -> torch.Tensor:
    """Run the plugin's CUDA kernel on X's device, on torch's current stream (asynchronously).

    Args:
        x: float32 or float16 [N, C, H, W], contiguous or channels-last (other strides are made contiguous).
        params: the ``spec.PARAM_INPUTS`` tensors, float32 on X's device.
        attrs: every attribute of ``spec.ATTRIBUTES``.
        kernel: the loaded kernel API.

    Returns:
        The output, X's dtype and memory format.

    Raises:
        TypeError: X's dtype is not one the kernel takes.
        ValueError: invalid attributes or an empty batch.
        RuntimeError: the kernel entry point returned a failure status.
    """
    if x.dtype not in KERNEL_DTYPES:
        raise TypeError(f"the AttentiveNorm kernel takes float32 or float16 X, got {x.dtype}")
    fmt = output_memory_format(x)
    x = x.contiguous(memory_format=fmt)
    tensors = {
        name: p if p.dtype == torch.float32 and p.is_contiguous() else p.float().contiguous()
        for name, p in zip(_PARAM_NAMES, params, strict=True)
    }
    c_attrs = c_attributes(tuple(attrs[name] for name in spec.ATTRIBUTE_NAMES))
    workspace_bytes = kernel.workspace_size(x.shape[0], c_attrs)
    if workspace_bytes == 0:
        raise ValueError(f"AttentiveNorm kernel: no workspace size for batch {x.shape[0]}: {kernel.last_error()}")
    workspace = aligned_workspace(workspace_bytes, x.device)
    y = torch.empty_like(x, memory_format=fmt)
    layout = LAYOUT_NHWC if fmt == torch.channels_last else LAYOUT_NCHW
    status = kernel.bind(x, y, tensors, workspace, c_attrs, layout)()
    if status != STATUS_SUCCESS:
        raise RuntimeError(f"an_attentive_norm_forward failed ({status}): {kernel.last_error()}")
    return y


@_attentive_norm_cpu.register_kernel("cuda")
def _attentive_norm_cuda(*args: object, **kwargs: object) -> torch.Tensor:
    x, params, attrs = split_arguments(args, kwargs)
    with torch.cuda.device(x.device):
        return launch_kernel(x, params, attrs, kernel_library())


attentive_norm = torch.ops.an_deploy.attentive_norm.default
"""The operator overload (what ``torch.export`` graphs and the ONNX translation table name)."""


class AttentiveNormOp(nn.Module):
    """One eval-mode AN layer as a call of the operator: the folded float32 tensors as buffers.

    Cast a model to half precision before :func:`swap_an_layers`, not after: the folded tensors are float32
    by contract, and casting the swapped module rounds them (the operator then computes with the rounded
    values in float32).
    """

    def __init__(self, folded: FoldedAN, device: torch.device | None = None) -> None:
        super().__init__()
        self.attrs = dict(folded.attrs)
        self.attr_values = tuple(self.attrs[name] for name in spec.ATTRIBUTE_NAMES)
        for name, t in folded.to(torch.float32).items():
            self.register_buffer(name, t.to(device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        params = [getattr(self, name) for name in _PARAM_NAMES]
        return attentive_norm(x, *params, *self.attr_values)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.attrs.items())


def swap_an_layers(model: nn.Module, inplace: bool = False) -> tuple[nn.Module, list[str]]:
    """Replace every AN layer of an eval-mode model by an :class:`AttentiveNormOp` (folded on its device).

    Args:
        model: the model; its AN layers must be in eval mode (folding freezes the running statistics).
        inplace: modify ``model`` itself instead of a deep copy put in eval mode.

    Returns:
        The model with the operator in place of its AN layers, and the replaced layers' qualified names in
        module order.

    Raises:
        FoldError: an AN layer is in training mode (``inplace=True`` on a model not in eval mode) or cannot be
            folded.
    """
    target = model if inplace else copy.deepcopy(model).eval()
    names = replace_an_layers(target, lambda name, layer: AttentiveNormOp(fold(layer, name),
                                                                           device=layer.weight_.device))
    return target, names
