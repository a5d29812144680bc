"""torch -> ONNX with the torch.export-based exporter (``torch.onnx.export(..., dynamo=True)``).

Every AN layer is swapped for a call of the ``an_deploy::attentive_norm`` operator (``an_deploy.torch_op``), which
``torch.export`` keeps as one opaque node. A custom translation table maps that node to the same
``an_deploy.AttentiveNorm`` ONNX node the TorchScript exporter writes (inputs X plus the folded tensors as
initializers, attributes ``spec.ATTRIBUTES``); the model-local function is then attached, so both exporters
produce equivalent files. The ONNX schema the translation builds the node with is generated from ``spec.py``
and is never registered globally (onnx's checker and shape inference keep using the local function).

:func:`export_with` picks either exporter by name; ``DEFAULT_EXPORTER`` is the one the measurements in
``benchmarks/results/exporters_cpu.md`` chose.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
import warnings
from collections.abc import Iterator
from typing import Any

import torch
from onnx import helper
from onnx.defs import OpSchema
from onnxscript.values import Op, Opset
from torch import nn

from an_deploy import spec
from an_deploy.errors import first_line
from an_deploy.export.torch_export import (
    DEFAULT_OPSET,
    INPUT_NAME,
    OUTPUT_NAME,
    ExportError,
    ExportResult,
    check_export_args,
    export_model,
    finish_export,
)
from an_deploy.onnx_graph.functions import inline_an_functions
from an_deploy.torch_op import attentive_norm, swap_an_layers

_PY_TYPE = {spec.AttrType.INT: int, spec.AttrType.FLOAT: float}
_SCHEMA_ATTR_TYPE = {spec.AttrType.INT: OpSchema.AttrType.INT, spec.AttrType.FLOAT: OpSchema.AttrType.FLOAT}
# loggers of the exporter's own chatter (one warning line per torchvision op it cannot register)
_EXPORTER_LOGGERS = ("torch.onnx._internal.exporter._registration", "torch.onnx")


def onnx_op_schema() -> OpSchema:
    """The ``an_deploy.AttentiveNorm`` ONNX schema generated from ``spec.py`` (not registered with onnx).

    Returns:
        Inputs ``spec.INPUTS`` (X of type T = float or float16, the parameters float), output Y of type T,
        attributes ``spec.ATTRIBUTES`` (required ones without default).
    """
    attributes = [
        OpSchema.Attribute(a.name, _SCHEMA_ATTR_TYPE[a.type], a.doc, required=True)
        if a.default is None
        else OpSchema.Attribute(a.name, helper.make_attribute(a.name, a.default), a.doc)
        for a in spec.ATTRIBUTES
    ]
    return OpSchema(
        spec.OP_NAME,
        spec.DOMAIN,
        spec.OP_VERSION,
        inputs=[OpSchema.FormalParameter(t.name, "T" if t.dtype == "T" else "tensor(float)") for t in spec.INPUTS],
        outputs=[OpSchema.FormalParameter(t.name, "T") for t in spec.OUTPUTS],
        type_constraints=[("T", ["tensor(float)", "tensor(float16)"], "X and Y")],
        attributes=attributes,
    )


_AN_ONNX_OP = Op(Opset(spec.DOMAIN, spec.OP_VERSION), spec.OP_NAME, onnx_op_schema())


def _translation_signature() -> inspect.Signature:
    """Inputs unannotated (ONNX inputs), attributes annotated int/float (ONNX attributes), contract order."""
    empty = inspect.Parameter.empty
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [inspect.Parameter(t.name, kind) for t in spec.INPUTS]
    params += [
        inspect.Parameter(a.name, kind, annotation=_PY_TYPE[a.type], default=empty if a.default is None else a.default)
        for a in spec.ATTRIBUTES
    ]
    return inspect.Signature(params)


def translate_attentive_norm(*args: object, **kwargs: object) -> object:
    """The ONNX translation of ``torch.ops.an_deploy.attentive_norm``: one ``an_deploy.AttentiveNorm`` node.

    Called by the exporter with the node's inputs (symbolic tensors) and attributes (Python numbers) in the
    operator's order; trailing attributes at their defaults may be omitted.

    Returns:
        The node's output.
    """
    bound = translate_attentive_norm.__signature__.bind(*args, **kwargs)  # type: ignore[attr-defined]
    bound.apply_defaults()
    values = bound.arguments
    attrs = {a.name: _PY_TYPE[a.type](values[a.name]) for a in spec.ATTRIBUTES}  # type: ignore[arg-type]
    return _AN_ONNX_OP(*(values[t.name] for t in spec.INPUTS), **attrs)


translate_attentive_norm.__signature__ = _translation_signature()  # type: ignore[attr-defined]
translate_attentive_norm.__annotations__ = {a.name: _PY_TYPE[a.type] for a in spec.ATTRIBUTES}

TRANSLATION_TABLE = {attentive_norm: translate_attentive_norm}


@contextlib.contextmanager
def quiet_exporter() -> Iterator[None]:
    """Keep the exporter's deprecation warnings and informational log lines away from the caller."""
    loggers = [logging.getLogger(name) for name in _EXPORTER_LOGGERS]
    levels = [logger.level for logger in loggers]
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=DeprecationWarning)
            warnings.simplefilter("ignore", category=FutureWarning)
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def export_dynamo(
    model: nn.Module,
    input_shape: tuple[int, ...],
    opset: int = DEFAULT_OPSET,
    dynamic_batch: bool = True,
    form: str = "function",
) -> ExportResult:
    """:func:`~an_deploy.export.torch_export.export_model` with the torch.export-based exporter: the same
    arguments, result and errors, the same AttentiveNorm nodes and function (through the PyTorch op)."""
    check_export_args(opset, form, input_shape)
    start = time.perf_counter()
    swapped, names = swap_an_layers(model)
    # a dynamic dimension cannot be traced at size 1 (torch.export specialises 0 and 1)
    trace_shape = (max(2, input_shape[0]), *input_shape[1:]) if dynamic_batch else tuple(input_shape)
    x = torch.zeros(trace_shape, dtype=torch.float32)
    try:
        with torch.no_grad():
            swapped(x)
    except (RuntimeError, ValueError) as e:
        first = first_line(e)
        raise ExportError(f"the model rejects input shape {'x'.join(map(str, input_shape))}: {first}") from None
    dynamic_shapes = ({0: torch.export.Dim("batch")},) if dynamic_batch else None
    with quiet_exporter():
        try:
            program = torch.onnx.export(
                swapped, (x,), dynamo=True, opset_version=opset, input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME], dynamic_shapes=dynamic_shapes, custom_translation_table=TRANSLATION_TABLE,
                verbose=False, report=False, optimize=True,
            )
        except torch.onnx.errors.OnnxExporterError as e:
            summary = first_line(e)
            raise ExportError(f"the torch.export-based exporter failed: {summary}") from e
    proto = finish_export(program.model_proto, opset)
    if form == "decomposed":
        proto = inline_an_functions(proto)
    return ExportResult(proto, form, opset, tuple(input_shape), dynamic_batch, names, time.perf_counter() - start)


EXPORTERS = ("torchscript", "dynamo")
# Chosen by benchmarks/bench_exporters_cpu.py (results/exporters_cpu.md): both are equally reliable (every registry
# architecture exports and passes parity with both), but on a quiet 2-core CPU the torch.export-based exporter takes
# 3.8x TorchScript's time on AN-ResNet-50 at 224x224 (5.9 vs 1.5 s) and up to 5.7x on AOGNet-40M-AN, beyond the 2x
# that would make it the default. torch's deprecation warning of the TorchScript exporter is not shown to users.
DEFAULT_EXPORTER = "torchscript"


def export_with(exporter: str, model: nn.Module, input_shape: tuple[int, ...], **options: Any) -> ExportResult:
    """Export with the named exporter: ``torchscript`` (:func:`export_model`) or ``dynamo`` (:func:`export_dynamo`).

    Both write the same ``an_deploy.AttentiveNorm`` nodes and function; ``options`` (``opset``, ``dynamic_batch``,
    ``form``) are :func:`export_model`'s.

    Raises:
        ExportError: unknown exporter, or the export failed as the chosen function documents.
    """
    if exporter not in EXPORTERS:
        raise ExportError(f"unknown exporter {exporter!r}; choose one of {', '.join(EXPORTERS)}")
    export = export_dynamo if exporter == "dynamo" else export_model
    return export(model, input_shape, **options)
