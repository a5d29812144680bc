"""The backend matrix: float64 reference, PyTorch fp32, ORT (function form), ORT (decomposed form), TensorRT."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from an_deploy.accuracy.compare import OutputStats, compare, compare_with_rule
from an_deploy.accuracy.inputs import check_inputs, uses_held_out_data
from an_deploy.accuracy.tolerances import RelativeRule, Tolerance, rule_from_options, tolerance_for
from an_deploy.errors import UserError
from an_deploy.export.model_def import load_checkpoint_model
from an_deploy.models.model_config import ModelConfig
from an_deploy.onnx_file import image_input, load_onnx
from an_deploy.onnx_graph.functions import inline_an_functions
from an_deploy.onnx_graph.nodes import an_nodes, is_an_function
from an_deploy.parity.report import Comparison, ParityReport
from an_deploy.preflight import check_onnx_fits_model
from an_deploy.resources import check_memory
from an_deploy.runtime.base import Runner
from an_deploy.runtime.ort_runner import OrtRunner
from an_deploy.runtime.torch_runner import TorchRunner
from an_deploy.trt.availability import Backend, tensorrt_available
from an_deploy.trt.runner import trt_rows
from an_deploy.weights_check import require_finite

DEFAULT_BATCH = 8


def _run(runner: Runner, x: torch.Tensor, chunk: int) -> torch.Tensor:
    return torch.cat([runner.run(x[i:i + chunk]).detach().cpu() for i in range(0, x.shape[0], chunk)])


def _judge(runner: Runner, reference: str, outputs: dict[str, torch.Tensor], rule: Tolerance | RelativeRule,
           torch_error: float, classifier: bool) -> OutputStats:
    """ORT and PyTorch rows by ``rule`` (against fp64 directly; against PyTorch fp32 or the function form with
    that reference's own bound added), TensorRT rows by the tolerance table."""
    out, ref = outputs[runner.name], outputs[reference]
    if runner.family == "trt":
        return compare(out, ref, tolerance_for(runner.family, runner.precision), classifier=classifier)
    slack = 0.0
    if isinstance(rule, RelativeRule) and reference == "torch-fp32":
        slack = torch_error
    elif isinstance(rule, RelativeRule) and reference != "torch-fp64":
        slack = rule.bound(torch_error)
    return compare_with_rule(out, ref, rule, torch_error, classifier=classifier, slack=slack)


def run_parity(
    checkpoint: Path,
    onnx_path: Path,
    arch: str | None = None,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[str], None] = lambda _: None,
    model_def: str | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    trt_backend: Backend = Backend.AUTO,
    config: ModelConfig | None = None,
    assume_published: bool = False,
) -> ParityReport:
    """Run every backend on the same inputs and compare.

    Comparisons: every row vs the float64 reference; ORT rows also vs PyTorch fp32; the decomposed form vs
    the function form. PyTorch and ORT rows are judged by the relative rule (max abs error against float64 at
    most 5x PyTorch fp32's own, plus a floor; a comparison against another output adds that output's own
    bound) or, with ``atol``/``rtol``, by the plain rule. TensorRT rows come from
    :func:`an_deploy.trt.runner.trt_rows` when TensorRT is importable and use the tolerance table.

    Args:
        checkpoint: the PyTorch checkpoint the ONNX file was exported from.
        onnx_path: a function-form (or decomposed) ONNX file.
        arch: registry name (inferred when omitted; not with ``model_def``).
        batch: number of random inputs for non-demo models (the demo uses its held-out digits).
        progress: receives one line per slow step.
        model_def: ``package.module:callable`` building the user's module (the state dict is loaded strictly).
        atol: with ``rtol``, the plain rule for PyTorch and ORT rows.
        rtol: see ``atol``.
        trt_backend: ``--backend``'s choice for the TensorRT rows.
        config: the model's training config (builds the model and states the options its keys cannot show).
        assume_published: take the authors' published setting for options neither the keys nor a config show.

    Returns:
        The report (check ``.passed``).

    Raises:
        UserError: unreadable files, a stripped (plugin-only) ONNX file, an ONNX file that does not fit the
            checkpoint, non-finite weights, or a batch beyond the available memory.
    """
    rule = rule_from_options(atol, rtol)
    source = load_checkpoint_model(checkpoint, arch, model_def, config, assume_published)
    model, model_name, usual_input = source.model, source.name, source.input_shape
    options: str | dict[str, object] = "live module" if source.loaded is None else {
        k: {"value": o.value, "source": o.source} for k, o in source.loaded.options.items()}
    require_finite(model, str(checkpoint))
    proto = load_onnx(onnx_path, check=False)
    has_function = any(is_an_function(f) for f in proto.functions)
    if an_nodes(proto) and not has_function:
        raise UserError(f"{onnx_path} has AttentiveNorm nodes without their function (stripped for TensorRT); "
                        "pass the function-form file")
    check_onnx_fits_model(model, model_name, usual_input, proto, onnx_path, checkpoint)
    _, dims = image_input(proto)  # N x C x H x W with static C, H, W: check_onnx_fits_model checked it
    static_batch = dims[0] if isinstance(dims[0], int) else None
    chw = tuple(int(d) for d in dims[1:])
    if not uses_held_out_data(chw):
        check_memory(model, (batch, *chw), "parity", "--batch")
    inputs = check_inputs(chw, batch)
    x, desc = inputs.x, inputs.description
    if static_batch is not None:
        x = x[: (x.shape[0] // static_batch) * static_batch]
    chunk = static_batch or x.shape[0]
    with torch.no_grad():
        classifier = model(x[:1]).dim() == 2
    config: dict[str, object] = {
        "checkpoint": str(checkpoint), "onnx": str(onnx_path), "arch": model_name, "inputs": desc,
        "num_inputs": int(x.shape[0]), "batch_chunk": chunk, "static_batch": static_batch,
        "an_layer_options": options,
        "rule": f"PyTorch and ONNX Runtime rows: {rule.describe()}; TensorRT rows: "
                "|out - ref| <= atol + rtol * |ref| with the tolerance table",
    }
    report = ParityReport(config=config)
    ref_runner = TorchRunner(model, torch.float64, name="torch-fp64")
    fp32 = TorchRunner(model, torch.float32, name="torch-fp32")
    rows: list[Runner] = [fp32]
    if has_function:
        rows.append(OrtRunner(proto, name="ort-function"))
        progress("inlining the AttentiveNorm functions for the decomposed row")
        rows.append(OrtRunner(inline_an_functions(proto), name="ort-decomposed"))
    else:
        rows.append(OrtRunner(proto, name="ort-decomposed"))
    if tensorrt_available(trt_backend):
        try:
            trt = trt_rows(onnx_path, input_shape=(chunk, *chw), backend=trt_backend)
            rows += trt
            config["tensorrt_backend"] = ", ".join(sorted({r.backend_label for r in trt}))
        except UserError as e:
            report.skipped["trt"] = f"TensorRT rows unavailable: {e}"
    else:
        report.skipped["trt"] = "tensorrt is not importable"
    progress(f"running {ref_runner.name} on {x.shape[0]} inputs")
    outputs = {ref_runner.name: _run(ref_runner, x, chunk)}
    for runner in rows:
        progress(f"running {runner.name}")
        outputs[runner.name] = _run(runner, x, chunk)
    pairs = [(r, ref_runner.name) for r in rows]
    pairs += [(r, fp32.name) for r in rows if r.family == "ort"]
    pairs += [(r, "ort-function") for r in rows if r.name == "ort-decomposed" and "ort-function" in outputs]
    torch_error = float((outputs[fp32.name].to(torch.float64) - outputs[ref_runner.name]).abs().max())
    for runner, reference in pairs:
        stats = _judge(runner, reference, outputs, rule, torch_error, classifier)
        report.comparisons.append(Comparison(runner.name, reference, "output", runner.precision, stats))
    return report
