"""``an-deploy export`` as a library call: checkpoint -> ONNX -> checks -> validation -> atomic write."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from an_deploy.checkpoint import load_model
from an_deploy.errors import UserError
from an_deploy.export.checks import check_model, ensure_writable, save_atomic
from an_deploy.export.dynamo_export import DEFAULT_EXPORTER, EXPORTERS, export_with
from an_deploy.export.functions import an_nodes
from an_deploy.export.torch_export import (
    DEFAULT_OPSET,
    OUTPUT_NAME,
    ExportError,
    check_export_args,
)
from an_deploy.export.validate import ValidationResult, realistic_inputs, validate_onnx
from an_deploy.models.registry import get_arch
from an_deploy.parity.tolerances import tolerance_for

DYNAMIC_CHECK_BATCH = 7  # a second batch size run against a dynamic-batch export


@dataclass
class ExportSummary:
    path: Path
    arch: str
    form: str
    opset: int
    input_shape: tuple[int, ...]
    dynamic_batch: bool
    an_layers: int
    an_nodes: int
    export_seconds: float
    validation: ValidationResult
    exporter: str = DEFAULT_EXPORTER


def parse_shape(text: str) -> tuple[int, ...]:
    """``"1x3x224x224"`` -> ``(1, 3, 224, 224)``.

    Raises:
        UserError: not four positive integers separated by ``x``.
    """
    try:
        dims = tuple(int(d) for d in text.lower().split("x"))
    except ValueError:
        raise UserError(f"input shape must look like 1x3x224x224, got {text!r}") from None
    if len(dims) != 4 or any(d < 1 for d in dims):
        raise UserError(f"input shape must be four positive dims NxCxHxW, got {text!r}")
    return dims


def export_checkpoint(
    checkpoint: Path,
    output: Path,
    arch: str | None = None,
    opset: int = DEFAULT_OPSET,
    input_shape: tuple[int, ...] | None = None,
    dynamic_batch: bool = True,
    form: str = "function",
    progress: Callable[[str], None] = lambda _: None,
    exporter: str | None = None,
) -> ExportSummary:
    """Export a checkpoint, check and validate the file, then write it atomically.

    Args:
        checkpoint: the ``.pth`` file.
        output: where the ``.onnx`` goes (written only when every check passed).
        arch: registry name (inferred from the checkpoint when omitted).
        opset: default-domain opset.
        input_shape: example input N x C x H x W (the architecture's default when omitted).
        dynamic_batch: symbolic batch dimension.
        form: ``function`` or ``decomposed``.
        progress: receives one line per slow step.
        exporter: ``torchscript`` or ``dynamo`` (``DEFAULT_EXPORTER`` when omitted).

    Returns:
        What was written and the measured errors.

    Raises:
        UserError: bad checkpoint, options, input shape or output path; checker or validation failure.
    """
    exporter = exporter or DEFAULT_EXPORTER
    if exporter not in EXPORTERS:
        raise ExportError(f"unknown exporter {exporter!r}; choose one of {', '.join(EXPORTERS)}")
    ensure_writable(output)
    progress(f"loading {checkpoint}")
    loaded = load_model(checkpoint, arch)
    shape = tuple(input_shape) if input_shape is not None else get_arch(loaded.arch).input_shape
    check_export_args(opset, form, shape)
    progress(f"exporting {loaded.arch} with the {exporter} exporter ({form} form, opset {opset}, input "
             f"{'x'.join(map(str, shape))})")
    start = time.perf_counter()
    result = export_with(exporter, loaded.model, shape, opset=opset, dynamic_batch=dynamic_batch, form=form)
    seconds = time.perf_counter() - start
    progress("onnx.checker (full check) and shape inference")
    check_model(result.model)
    nodes = len(an_nodes(result.model))
    if form == "function" and nodes != len(result.an_layers):
        raise ExportError(f"the export has {nodes} AttentiveNorm nodes for {len(result.an_layers)} AN layers")
    sizes = [shape[0], DYNAMIC_CHECK_BATCH] if dynamic_batch and shape[0] != DYNAMIC_CHECK_BATCH else [shape[0]]
    progress(f"validating ONNX Runtime vs PyTorch fp32 (batch {', '.join(map(str, sizes))})")
    batches = [realistic_inputs(shape, n, seed=i) for i, n in enumerate(sizes)]
    validation = validate_onnx(result.model, loaded.model, batches, tolerance_for("ort", "fp32"), [OUTPUT_NAME])
    save_atomic(result.model, output)
    return ExportSummary(output, loaded.arch, form, opset, shape, dynamic_batch, len(result.an_layers), nodes,
                         seconds, validation, exporter=exporter)
