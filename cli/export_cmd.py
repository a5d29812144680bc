"""``an-deploy export``: checkpoint -> validated ONNX file (function-backed AttentiveNorm nodes or decomposed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from an_deploy.cli.common import JSON_HELP, emit_json, progress, user_errors
from an_deploy.cli.models_cmd import ArchOption, AssumePublishedOption, CheckpointArg, ConfigOption, load_config
from an_deploy.lazy import lazy_import
from an_deploy.shapes import parse_shape

if TYPE_CHECKING:
    from an_deploy.export.pipeline import ExportSummary

# The library loads when a command runs, not for --help (it imports torch): see an_deploy.lazy.
pipeline = lazy_import("an_deploy.export.pipeline")
records = lazy_import("an_deploy.json_records")


ModelDefOption = Annotated[
    str | None,
    typer.Option("--model-def", help="Your own model code: package.module:callable returning the nn.Module the "
                 "checkpoint's state dict loads into (strictly). AN layers of any class are found by structure and "
                 "their options read from the live module. Imported with the current folder on sys.path."),
]
AtolOption = Annotated[float | None, typer.Option("--atol", help="Plain rule |out - ref| <= atol + rtol*|ref| "
                                                  "against the float64 model instead of the default relative rule "
                                                  "(ORT error <= 5x PyTorch fp32's own error + 1e-5).")]
RtolOption = Annotated[float | None, typer.Option("--rtol", help="See --atol (the other one is 0 when omitted).")]


def _validation_line(s: ExportSummary) -> str:
    v = s.validation
    if v is None:
        return "validation SKIPPED (--no-validate)"
    top1 = f", top-1 agreement {v.top1_agreement:.2%}" if v.top1_agreement is not None else ""
    return (f"ORT vs float64 model, max abs error <= bound: {v.describe()}{top1}; {s.validation_seconds:.1f} s; "
            f"rule {v.rule}")


def export(
    model: CheckpointArg,
    arch: ArchOption = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Output .onnx (default: MODEL with "
                                                "suffix .onnx, or -decomposed.onnx). Written only after every "
                                                "check passed; an existing file is replaced atomically; never "
                                                "one of the inputs.")] = None,
    opset: Annotated[int, typer.Option("--opset", help="ai.onnx opset, 18..20.")] = 18,
    input_shape: Annotated[str | None, typer.Option("--input-shape", help="Example input NxCxHxW, e.g. "
                                                    "1x3x224x224 (default: the architecture's; required with "
                                                    "--model-def unless the module has input_shape).")] = None,
    dynamic_batch: Annotated[bool, typer.Option("--dynamic-batch/--static", help="Symbolic batch dimension "
                                                "(validated at two batch sizes) or the example's batch.")] = True,
    form: Annotated[str, typer.Option("--form", help="function: one AttentiveNorm node per AN layer plus a "
                                      "local ONNX function (ONNX Runtime runs it as is, TensorRT binds the plugin "
                                      "once the function is stripped); decomposed: standard ops only.")] = "function",
    model_def: ModelDefOption = None,
    config: ConfigOption = None,
    assume_published: AssumePublishedOption = False,
    validate: Annotated[bool, typer.Option("--validate/--no-validate", help="Check ONNX Runtime against the "
                                           "float64 model before writing (--no-validate skips it).")] = True,
    atol: AtolOption = None,
    rtol: RtolOption = None,
    exporter: Annotated[str | None, typer.Option("--exporter", metavar="dynamo|torchscript",
                                                 help="dynamo (torch.export-based, through the "
                                                 "an_deploy::attentive_norm op) or torchscript (torch.onnx's "
                                                 "TorchScript-based exporter); both write the same AttentiveNorm "
                                                 "nodes. Default: torchscript (4x faster here).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Export a checkpoint to ONNX, run onnx.checker (full) and shape inference, and validate ONNX Runtime
    against the float64 PyTorch model (output names, shapes, values) before writing the file."""
    with user_errors():
        shape = parse_shape(input_shape, rank=4, what="--input-shape") if input_shape is not None else None
        suffix = ".onnx" if form == "function" else "-decomposed.onnx"
        out = output if output is not None else model.with_name(model.stem + suffix)
        s = pipeline.export_checkpoint(model, out, arch=arch, opset=opset, input_shape=shape,
                                       dynamic_batch=dynamic_batch, form=form, progress=progress, model_def=model_def,
                                       validate=validate, atol=atol, rtol=rtol, config=load_config(config),
                                       assume_published=assume_published, exporter=exporter)
        if json_out:
            emit_json(records.export_record(s))
            return
        typer.echo(
            f"PASSED | {s.path}: {s.arch}, {s.exporter} exporter, {s.form} form, opset {s.opset}, {s.an_nodes} "
            f"AttentiveNorm nodes / {s.an_layers} AN layers (options from the {s.options_source}), export "
            f"{s.export_seconds:.1f} s | {_validation_line(s)}"
        )
