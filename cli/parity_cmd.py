"""``an-deploy parity``: the backend matrix (fp64 reference, PyTorch fp32, ORT function/decomposed, TensorRT)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from an_deploy.cli.common import progress, user_errors
from an_deploy.cli.export_cmd import AtolOption, ModelDefOption, RtolOption
from an_deploy.cli.models_cmd import ArchOption, AssumePublishedOption, CheckpointArg, ConfigOption, load_config
from an_deploy.cli.trt_cmd import BackendOption
from an_deploy.lazy import lazy_import
from an_deploy.report_schema import check_report_path
from an_deploy.trt.availability import Backend

# The library loads when a command runs, not for --help (it imports torch): see an_deploy.lazy.
matrix = lazy_import("an_deploy.parity.matrix")


def parity(
    model: CheckpointArg,
    onnx: Annotated[Path, typer.Option("--onnx", help="The function-form .onnx exported from MODEL.")],
    arch: ArchOption = None,
    report: Annotated[Path | None, typer.Option("--report", help="x.json or x.md: write both x.json (the report) "
                                                "and x.md (its table); existing ones are replaced atomically, an "
                                                "input never. Checked before the run.")] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Random inputs for non-demo models (the demo "
                                       "model uses its held-out digits).")] = 8,
    model_def: ModelDefOption = None,
    config: ConfigOption = None,
    assume_published: AssumePublishedOption = False,
    atol: AtolOption = None,
    rtol: RtolOption = None,
    backend: BackendOption = Backend.AUTO,
) -> None:
    """Compare every backend against the float64 PyTorch reference (and ORT against PyTorch fp32): max abs/rel,
    mean/p99 abs, cosine, required atol/rtol, top-1 agreement. PyTorch and ONNX Runtime rows: max abs error against
    float64 at most 5x PyTorch fp32's own plus 1e-5 (or the plain rule |out - ref| <= atol + rtol*|ref| with
    --atol/--rtol); TensorRT rows: the tolerance table of an_deploy/accuracy/tolerances.py. Exit 1 on failure."""
    with user_errors():
        paths = check_report_path(report, inputs=[model, onnx]) if report is not None else None
        result = matrix.run_parity(model, onnx, arch=arch, batch=batch, progress=progress, model_def=model_def,
                                   atol=atol, rtol=rtol, trt_backend=backend, config=load_config(config),
                                   assume_published=assume_published)
        if report is not None and paths is not None:
            result.write(report)
            progress(f"wrote {paths[0]} and {paths[1]}")
        typer.echo(result.to_markdown())
        typer.echo(result.verdict())
    if not result.passed:
        raise typer.Exit(code=1)
