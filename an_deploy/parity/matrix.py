"""The backend matrix: float64 reference, PyTorch fp32, ORT (function form), ORT (decomposed form), TensorRT."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import onnx
import torch

from an_deploy.errors import UserError
from an_deploy.export.model_def import load_checkpoint_model
from an_deploy.export.validate import realistic_inputs
from an_deploy.models.model_config import ModelConfig
from an_deploy.models.registry import DEMO_INPUT_SHAPE
from an_deploy.onnx_file import load_onnx
from an_deploy.onnx_graph.functions import inline_an_functions
from an_deploy.onnx_graph.nodes import an_nodes, is_an_function
from an_deploy.parity.compare import OutputStats, compare, compare_with_rule
from an_deploy.parity.report import Comparison, ParityReport
from an_deploy.parity.tolerances import RelativeRule, Tolerance, rule_from_options, tolerance_for
from an_deploy.preflight import check_onnx_fits_model
from an_deploy.resources import check_memory
from an_deploy.runtime.base import Runner, precision_of, trt_rows
from an_deploy.runtime.ort_runner import OrtRunner
from an_deploy.runtime.torch_runner import TorchRunner
from an_deploy.trt.availability import Backend, tensorrt_available
from an_deploy.weights_check import require_finite

DEFAULT_BATCH = 8


def _family(runner: Runner) -> str:
    return runner.name.split("-", 1)[0]


def _input_layout(model: onnx.ModelProto) -> tuple[int | None, tuple[int, ...]]:
    """(static batch or None, C x H x W) of the single graph input."""
    inits = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    if len(inputs) != 1:
        raise UserError(f"expected one image input, the ONNX file has {len(inputs)}")
    dims = inputs[0].type.tensor_type.shape.dim
    if len(dims) != 4 or any(not d.HasField("dim_value") for d in dims[1:]):
        raise UserError("expected an input [N, C, H, W] with static C, H, W")
    batch = dims[0].dim_value if dims[0].HasField("dim_value") else None
    return batch, tuple(d.dim_value for d in dims[1:])


def _run(runner: Runner, x: torch.Tensor, chunk: int) -> torch.Tensor:
    return torch.cat([runner.run(x[i:i + chunk]).detach().cpu() for i in range(0, x.shape[0], chunk)])


def _inputs(chw: tuple[int, ...], batch: int, static_batch: int | None) -> tuple[torch.Tensor, str]:
    if chw == DEMO_INPUT_SHAPE[1:]:
        from an_deploy.models.digits import load_heldout

        x, _ = load_heldout()
        desc = f"the demo's {x.shape[0]} held-out digits"
    else:
        x = realistic_inputs((batch, *chw), batch)
        desc = f"{batch} random images {'x'.join(map(str, chw))} (per-channel offsets/scales, seed 0)"
    if static_batch is not None:
        x = x[: (x.shape[0] // static_batch) * static_batch]
    return x, desc


def _judge(runner: Runner, reference: str, outputs: dict[str, torch.Tensor], rule: Tolerance | RelativeRule,
           torch_error: float, classifier: bool) -> OutputStats:
    """ORT and PyTorch rows by ``rule`` (against fp64 directly; against PyTorch fp32 or the function form with
    that reference's own bound added), TensorRT rows by the tolerance table."""
    family = _family(runner)
    out, ref = outputs[runner.name], outputs[reference]
    if family == "trt":
        return compare(out, ref, tolerance_for(family, precision_of(runner)), classifier=classifier)
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
    :func:`an_deploy.runtime.base.trt_rows` when TensorRT is importable and use the tolerance table.

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
    static_batch, chw = _input_layout(proto)
    if chw != DEMO_INPUT_SHAPE[1:]:
        check_memory(model, (batch, *chw), "parity", "--batch")
    x, desc = _inputs(chw, batch, static_batch)
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
            trt = trt_rows(onnx_path, input_shape=(chunk, *chw), backend=trt_backend)  # type: ignore[arg-type]
            rows += trt
            config["tensorrt_backend"] = ", ".join(sorted({str(getattr(r, "backend_label", "?")) for r in trt}))
        except (ImportError, UserError) as e:
            report.skipped["trt"] = f"TensorRT rows unavailable: {e}"
    else:
        report.skipped["trt"] = "tensorrt is not importable"
    progress(f"running {ref_runner.name} on {x.shape[0]} inputs")
    outputs = {ref_runner.name: _run(ref_runner, x, chunk)}
    for runner in rows:
        progress(f"running {runner.name}")
        outputs[runner.name] = _run(runner, x, chunk)
    pairs = [(r, ref_runner.name) for r in rows]
    pairs += [(r, fp32.name) for r in rows if _family(r) == "ort"]
    pairs += [(r, "ort-function") for r in rows if r.name == "ort-decomposed" and "ort-function" in outputs]
    torch_error = float((outputs[fp32.name].to(torch.float64) - outputs[ref_runner.name]).abs().max())
    for runner, reference in pairs:
        stats = _judge(runner, reference, outputs, rule, torch_error, classifier)
        report.comparisons.append(Comparison(runner.name, reference, "output", precision_of(runner), stats))
    return report
