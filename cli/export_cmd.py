"""``an-deploy export``: checkpoint -> validated ONNX file (function-backed AttentiveNorm nodes or decomposed)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from an_deploy.cli.common import progress, user_errors
from an_deploy.cli.models_cmd import ArchOption, CheckpointArg


def export(
    model: CheckpointArg,
    arch: ArchOption = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Output .onnx (default: MODEL with "
                                                "suffix .onnx, or -decomposed.onnx). Written atomically, "
                                                "only after every check passed.")] = None,
    opset: Annotated[int, typer.Option("--opset", help="ai.onnx opset, 18..20.")] = 18,
    input_shape: Annotated[str | None, typer.Option("--input-shape", help="Example input NxCxHxW, e.g. "
                                                    "1x3x224x224 (default: the architecture's).")] = None,
    dynamic_batch: Annotated[bool, typer.Option("--dynamic-batch/--static", help="Symbolic batch dimension "
                                                "(validated at two batch sizes) or the example's batch.")] = True,
    form: Annotated[str, typer.Option("--form", help="function: one AttentiveNorm node per AN layer plus a "
                                      "local ONNX function (ONNX Runtime runs it as is, TensorRT binds the plugin "
                                      "once the function is stripped); decomposed: standard ops only.")] = "function",
    exporter: Annotated[str | None, typer.Option("--exporter", help="torchscript (torch.onnx, TorchScript-based) or "
                                                 "dynamo (torch.export-based, through the an_deploy::attentive_norm "
                                                 "op); both write the same AttentiveNorm nodes. Default: "
                                                 "dynamo.")] = None,
) -> None:
    """Export a checkpoint to ONNX, run onnx.checker (full) and shape inference, and validate ONNX Runtime
    against PyTorch (output names, shapes, values) before writing the file."""
    from an_deploy.export.pipeline import export_checkpoint, parse_shape

    with user_errors():
        shape = parse_shape(input_shape) if input_shape is not None else None
        suffix = ".onnx" if form == "function" else "-decomposed.onnx"
        out = output if output is not None else model.with_name(model.stem + suffix)
        s = export_checkpoint(model, out, arch=arch, opset=opset, input_shape=shape, dynamic_batch=dynamic_batch,
                              form=form, progress=progress, exporter=exporter)
        v = s.validation
        top1 = f", top-1 agreement {v.top1_agreement:.2%}" if v.top1_agreement is not None else ""
        typer.echo(
            f"PASSED | {s.path}: {s.arch}, {s.exporter} exporter, {s.form} form, opset {s.opset}, {s.an_nodes} "
            f"AttentiveNorm nodes / "
            f"{s.an_layers} AN layers, export {s.export_seconds:.1f} s | ORT vs PyTorch fp32 (batch "
            f"{', '.join(map(str, v.batch_sizes))}): max abs {v.max_abs:.2e}, max rel {v.max_rel:.2e}{top1} "
            f"(atol {v.tolerance.atol:g}, rtol {v.tolerance.rtol:g})"
        )
