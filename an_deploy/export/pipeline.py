"""``an-deploy export`` as a library call: model -> ONNX -> checks -> validation -> atomic write.

The model comes from a checkpoint and the registry (``--arch``), from a checkpoint and the user's own code
(``--model-def package.module:callable``), or directly from Python (:func:`export_module`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from an_deploy.accuracy.inputs import realistic_inputs
from an_deploy.accuracy.tolerances import RelativeRule, Tolerance, rule_from_options
from an_deploy.errors import UserError
from an_deploy.export.checks import check_model
from an_deploy.export.dynamo_export import DEFAULT_EXPORTER, EXPORTERS, export_with
from an_deploy.export.metadata import provenance, stamp
from an_deploy.export.model_def import load_checkpoint_model
from an_deploy.export.torch_export import (
    DEFAULT_OPSET,
    OUTPUT_NAME,
    ExportError,
    check_export_args,
)
from an_deploy.export.validate import ValidationResult, validate_onnx
from an_deploy.files import check_output_file, write_bytes_atomic
from an_deploy.models.model_config import ModelConfig
from an_deploy.onnx_graph.nodes import an_nodes
from an_deploy.resources import check_memory
from an_deploy.weights_check import require_finite

DYNAMIC_CHECK_BATCH = 2  # a second batch size run against a dynamic-batch export (3 when the example has 2)
LIVE_MODULE = "live module"


@dataclass
class ExportSummary:
    """What was written, how long each step took and what validation measured (``None``: skipped)."""

    path: Path
    arch: str  # registry name, the --model-def spec, or the module's class name
    form: str
    opset: int
    input_shape: tuple[int, ...]
    dynamic_batch: bool
    an_layers: int
    an_nodes: int
    export_seconds: float
    validation: ValidationResult | None
    validation_seconds: float = 0.0
    options_source: str = LIVE_MODULE  # where every AN layer's options were read
    exporter: str = DEFAULT_EXPORTER


def export_module(
    model: nn.Module,
    output: Path,
    input_shape: tuple[int, ...],
    *,
    name: str,
    opset: int = DEFAULT_OPSET,
    dynamic_batch: bool = True,
    form: str = "function",
    validate: bool = True,
    rule: Tolerance | RelativeRule | None = None,
    example_input: torch.Tensor | None = None,
    source: Path | None = None,
    options_source: str = LIVE_MODULE,
    exporter: str = DEFAULT_EXPORTER,
    progress: Callable[[str], None] = lambda _: None,
) -> ExportSummary:
    """Export an eval-mode module, check and (unless told not to) validate the file, then write it atomically.

    Args:
        model: the model (not modified; AN layers are found by structure and folded from the live module).
        output: where the ``.onnx`` goes (written only when every check passed; never over an input file).
        input_shape: example input N x C x H x W.
        name: what the summary calls the model.
        opset: default-domain opset.
        dynamic_batch: symbolic batch dimension (then validated at a second batch size too).
        form: ``function`` or ``decomposed``.
        validate: run ONNX Runtime against the float64 model before writing.
        rule: the pass rule (default: ``RelativeRule()``, 5x PyTorch fp32's own error against float64).
        example_input: the first validation batch (default: realistic random images of ``input_shape``).
        source: the checkpoint the weights came from (named, with its sha256, in the file's metadata).
        options_source: where the AN layers' options came from (for the summary).
        exporter: ``dynamo`` (torch.export-based, through the ``an_deploy::attentive_norm`` op) or ``torchscript``.
        progress: receives one line per slow step.

    Returns:
        What was written and the measured errors.

    Raises:
        UserError: bad options, a layer that cannot be folded, checker or validation failure, bad output path.
    """
    check_output_file(output, inputs=[source], what="-o")
    require_finite(model, str(source) if source is not None else name)
    check_export_args(opset, form, input_shape)
    check_memory(model, tuple(input_shape), "export", "--input-shape")
    if exporter not in EXPORTERS:
        raise ExportError(f"unknown exporter {exporter!r}; choose one of {', '.join(EXPORTERS)}")
    progress(f"exporting {name} with the {exporter} exporter ({form} form, opset {opset}, input "
             f"{'x'.join(map(str, input_shape))})")
    start = time.perf_counter()
    result = export_with(exporter, model, input_shape, opset=opset, dynamic_batch=dynamic_batch, form=form)
    seconds = time.perf_counter() - start
    progress("onnx.checker (full check) and shape inference")
    check_model(result.model)
    nodes = len(an_nodes(result.model))
    if form == "function" and nodes != len(result.an_layers):
        raise ExportError(f"the export has {nodes} AttentiveNorm nodes for {len(result.an_layers)} AN layers")
    validation = None
    start = time.perf_counter()
    if validate:
        rule = rule if rule is not None else RelativeRule()
        n = input_shape[0]
        sizes = [n, DYNAMIC_CHECK_BATCH if n != DYNAMIC_CHECK_BATCH else n + 1] if dynamic_batch else [n]
        progress(f"validating ONNX Runtime against the float64 model (batch {', '.join(map(str, sizes))}): "
                 f"{rule.describe()}")
        batches = [realistic_inputs(input_shape, b, seed=i) for i, b in enumerate(sizes)]
        if example_input is not None:
            batches[0] = example_input.detach().to(torch.float32).cpu()
        validation = validate_onnx(result.model, model, batches, rule, [OUTPUT_NAME])
    else:
        progress("validation skipped (--no-validate)")
    validation_seconds = time.perf_counter() - start
    stamp(result.model, provenance(source, name, model, form, opset))
    write_bytes_atomic(output, result.model.SerializeToString())
    return ExportSummary(output, name, form, opset, tuple(input_shape), dynamic_batch, len(result.an_layers), nodes,
                         seconds, validation, validation_seconds, options_source, exporter)


def export_checkpoint(
    checkpoint: Path,
    output: Path,
    arch: str | None = None,
    opset: int = DEFAULT_OPSET,
    input_shape: tuple[int, ...] | None = None,
    dynamic_batch: bool = True,
    form: str = "function",
    progress: Callable[[str], None] = lambda _: None,
    model_def: str | None = None,
    validate: bool = True,
    atol: float | None = None,
    rtol: float | None = None,
    config: ModelConfig | None = None,
    assume_published: bool = False,
    exporter: str | None = None,
) -> ExportSummary:
    """Export a checkpoint, check and validate the file, then write it atomically.

    Args:
        checkpoint: the ``.pth`` file.
        output: where the ``.onnx`` goes (written only when every check passed).
        arch: registry name (inferred from the checkpoint when omitted; not with ``model_def``).
        opset: default-domain opset.
        input_shape: example input N x C x H x W (default: the architecture's, or the module's ``input_shape``).
        dynamic_batch: symbolic batch dimension.
        form: ``function`` or ``decomposed``.
        progress: receives one line per slow step.
        model_def: ``package.module:callable`` returning the user's module (the state dict is loaded strictly).
        validate: run the validation (``False``: skipped, and said so).
        atol: with ``rtol``, the plain rule ``|out - ref| <= atol + rtol * |ref|`` instead of the relative one.
        rtol: see ``atol``.
        config: the model's training config (builds the model and states the options its keys cannot show).
        assume_published: take the authors' published setting for options neither the keys nor a config show.
        exporter: ``torchscript`` or ``dynamo`` (``DEFAULT_EXPORTER`` when omitted).

    Returns:
        What was written and the measured errors.

    Raises:
        UserError: bad checkpoint, model definition, options, input shape or output path; a layer that cannot be
            folded; checker or validation failure.
    """
    check_output_file(output, inputs=[checkpoint], what="-o")
    rule = rule_from_options(atol, rtol)
    progress(f"loading {checkpoint}")
    source = load_checkpoint_model(checkpoint, arch, model_def, config, assume_published)
    shape = tuple(input_shape) if input_shape is not None else source.input_shape
    if shape is None:
        raise UserError(f"--input-shape is required with --model-def (the module of {model_def} declares no "
                        "input_shape)")
    if source.loaded is None:
        options_source = LIVE_MODULE
    else:
        options_source = "; ".join(sorted({o.source for key, o in source.loaded.options.items()
                                           if key not in ("arch", "config", "num_classes")})) or "checkpoint keys"
    model, name = source.model, source.name
    return export_module(model, output, shape, name=name, opset=opset, dynamic_batch=dynamic_batch, form=form,
                         validate=validate, rule=rule, source=Path(checkpoint), options_source=options_source,
                         exporter=exporter or DEFAULT_EXPORTER, progress=progress)
