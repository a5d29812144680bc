"""torch -> ONNX: every AN layer becomes one ``an_deploy.AttentiveNorm`` node backed by a local function.

Exporter: the TorchScript-based ``torch.onnx.export(..., dynamo=False)``. Each AN layer is swapped for a
module whose ``torch.autograd.Function`` has a ``symbolic`` that emits the custom node directly (inputs: X
plus the folded tensors as initializers; attributes: ``spec.ATTRIBUTES``). It exports AN-ResNet-50 in
a fraction of the time ``torch.export`` + the dynamo translator needs (minutes vs tens of minutes on a
loaded 2-core CPU) and folds every plain BatchNorm into its Conv. Then, on ``onnx_ir``, the graph is cleaned
(``IdentityEliminationPass``: the exporter puts Identity nodes between deduplicated constant initializers), the
attributes are put in contract order and the ``an_deploy.AttentiveNorm`` function is attached.
"""

from __future__ import annotations

import copy
import io
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import onnx
import onnx_ir as ir
import onnx_ir.passes.common as common_passes
import torch
from torch import nn

from an_deploy import spec
from an_deploy.discover import replace_an_layers as swap_layers
from an_deploy.errors import UserError, first_line
from an_deploy.export.onnx_function import IR_VERSION, MIN_OPSET, build_function
from an_deploy.fold import FoldedAN, fold
from an_deploy.fused_op import fused_op
from an_deploy.onnx_graph.functions import inline_an_functions
from an_deploy.onnx_graph.nodes import is_attentive_norm_node

MAX_EXPORT_OPSET = 20  # the TorchScript exporter's newest opset
DEFAULT_OPSET = 18
SUPPORTED_OPSETS = tuple(range(MIN_OPSET, MAX_EXPORT_OPSET + 1))
FORMS = ("function", "decomposed")
INPUT_NAME = "input"
OUTPUT_NAME = "output"


class ExportError(UserError):
    """The model cannot be exported as asked (bad opset, input shape, form ...)."""


class _AttentiveNormFn(torch.autograd.Function):
    """Runs the fused op in eager mode; ``symbolic`` emits the custom ONNX node."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, attrs: dict[str, int | float], *params: torch.Tensor) -> torch.Tensor:
        tensors = {s.name: p for s, p in zip(spec.PARAM_INPUTS, params, strict=True)}
        return fused_op(x, tensors, attrs, upcast=False)

    @staticmethod
    def symbolic(g: Any, x: Any, attrs: dict[str, int | float], *params: Any) -> Any:
        kwargs = {
            f"{a.name}_{'i' if a.type is spec.AttrType.INT else 'f'}": attrs[a.name] for a in spec.ATTRIBUTES
        }
        out = g.op(f"{spec.DOMAIN}::{spec.OP_NAME}", x, *params, **kwargs)
        out.setType(x.type())
        return out


class AttentiveNormExport(nn.Module):
    """Stand-in for one AN layer during export: the folded float32 tensors as buffers, the attributes."""

    def __init__(self, folded: FoldedAN) -> None:
        super().__init__()
        self.attrs = dict(folded.attrs)
        for name, t in folded.to(torch.float32).items():
            self.register_buffer(name, t)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        params = [getattr(self, s.name) for s in spec.PARAM_INPUTS]
        return _AttentiveNormFn.apply(x, self.attrs, *params)


@dataclass
class ExportResult:
    """An exported model and what was done to get it."""

    model: onnx.ModelProto
    form: str
    opset: int
    input_shape: tuple[int, ...]
    dynamic_batch: bool
    an_layers: list[str] = field(default_factory=list)
    seconds: float = 0.0


def replace_an_layers(model: nn.Module) -> tuple[nn.Module, list[str]]:
    """A deep copy of ``model`` with every AN layer (found by structure, :func:`find_an_layers`) replaced by its
    export stand-in; each layer's options are read from the live module and its fold is checked.

    Returns:
        The copy (eval mode) and the qualified names of the replaced layers, in module order.

    Raises:
        FoldError: a layer the op cannot represent (the message names its path and the part).
        ExportError: the model itself is an AN layer (there is no parent to put the stand-in in).
    """
    clone = copy.deepcopy(model).eval()
    try:
        names = swap_layers(clone, lambda name, layer: AttentiveNormExport(fold(layer, name)))
    except ValueError as e:
        raise ExportError(f"{e} to export it") from None
    return clone, names


def contract_attributes(model: ir.Model) -> None:
    """Give every AN node the ``spec.ATTRIBUTES`` in contract order with the contract's types (INT or FLOAT): the
    exporters write them sorted by name, and the torch.export-based one with its own types."""
    for node in model.graph:
        if is_attentive_norm_node(node):
            values = spec.resolve_attributes({name: attr.value for name, attr in node.attributes.items()})
            node.attributes.clear()
            for a in spec.ATTRIBUTES:
                value = values[a.name]
                node.attributes.add(ir.AttrInt64(a.name, int(value)) if a.type is spec.AttrType.INT
                                    else ir.AttrFloat32(a.name, float(value)))


def finish_export(exported: onnx.ModelProto, opset: int) -> onnx.ModelProto:
    """An exporter's model -> the function-form model: Identity nodes removed, AN attributes as the contract says,
    the AttentiveNorm function added (both exporters end here)."""
    model = ir.from_proto(exported)
    common_passes.IdentityEliminationPass()(model)
    contract_attributes(model)
    function = ir.serde.deserialize_function(build_function(opset))
    model.functions[function.identifier()] = function
    model.ir_version = max(model.ir_version, IR_VERSION)
    model.producer_name = "an_deploy"
    return ir.to_proto(model)


def check_export_args(opset: int, form: str, input_shape: tuple[int, ...]) -> None:
    """Validate the export options.

    Raises:
        ExportError: unsupported opset or form, or an input shape that is not four positive dims.
    """
    if opset not in SUPPORTED_OPSETS:
        raise ExportError(f"unsupported opset {opset}; supported: {SUPPORTED_OPSETS[0]}..{SUPPORTED_OPSETS[-1]}")
    if form not in FORMS:
        raise ExportError(f"unknown form {form!r}; choose one of {', '.join(FORMS)}")
    if len(input_shape) != 4 or any(d < 1 for d in input_shape):
        raise ExportError(f"input shape must be four positive dims NxCxHxW, got {'x'.join(map(str, input_shape))}")


def export_model(
    model: nn.Module,
    input_shape: tuple[int, ...],
    opset: int = DEFAULT_OPSET,
    dynamic_batch: bool = True,
    form: str = "function",
) -> ExportResult:
    """Export an eval-mode model with AN layers to ONNX (in memory).

    Args:
        model: the PyTorch model (not modified).
        input_shape: the example input shape N x C x H x W.
        opset: default-domain opset (``SUPPORTED_OPSETS``).
        dynamic_batch: make the batch dimension symbolic (``batch``).
        form: ``function`` (AN nodes + local function) or ``decomposed`` (functions inlined, standard ops).

    Returns:
        The model and export facts.

    Raises:
        ExportError: bad options, or an input shape the model rejects.
    """
    check_export_args(opset, form, input_shape)
    start = time.perf_counter()
    stand_in, names = replace_an_layers(model)
    x = torch.zeros(input_shape, dtype=torch.float32)
    buffer = io.BytesIO()
    dynamic_axes = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}} if dynamic_batch else None
    # one forward pass only (the trace's): a model that rejects the input shape fails inside the export
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=DeprecationWarning)
            warnings.simplefilter("ignore", category=FutureWarning)
            warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
            torch.onnx.export(
                stand_in, (x,), buffer, dynamo=False, opset_version=opset, input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME], dynamic_axes=dynamic_axes, do_constant_folding=True,
                # declared only when used: torch's C++ encoder warns on stderr about an unused custom domain
                custom_opsets={spec.DOMAIN: spec.OP_VERSION} if names else None,
            )
    except (RuntimeError, ValueError) as e:
        first = first_line(e)
        raise ExportError(f"the model rejects input shape {'x'.join(map(str, input_shape))} (tracing it for the "
                          f"export failed): {first}") from None
    proto = finish_export(onnx.load_from_string(buffer.getvalue()), opset)
    if form == "decomposed":
        proto = inline_an_functions(proto)
    return ExportResult(proto, form, opset, tuple(input_shape), dynamic_batch, names, time.perf_counter() - start)
