"""``an-deploy parity``: the backend matrix (fp64 reference, PyTorch fp32, ORT function/decomposed, TensorRT)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from an_deploy.cli.common import progress, user_errors
from an_deploy.cli.export_cmd import AtolOption, ModelDefOption, RtolOption
from an_deploy.cli.models_cmd import ArchOption, CheckpointArg


def parity(
    model: CheckpointArg,
    onnx: Annotated[Path, typer.Option("--onnx", help="The function-form .onnx exported from MODEL.")],
    arch: ArchOption = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the JSON report here (and a Markdown "
                                                "table next to it, .md).")] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Random inputs for non-demo models (the demo "
                                       "model uses its held-out digits).")] = 8,
    model_def: ModelDefOption = None,
    atol: AtolOption = None,
    rtol: RtolOption = None,
) -> None:
    """Compare every backend against the float64 PyTorch reference (and ORT against PyTorch fp32): max abs/rel,
    mean/p99 abs, cosine, required atol/rtol, top-1 agreement. PyTorch and ONNX Runtime rows: max abs error against
    float64 at most 5x PyTorch fp32's own plus 1e-5 (or the plain rule |out - ref| <= atol + rtol*|ref| with
    --atol/--rtol); TensorRT rows: the tolerance table of an_deploy/parity/tolerances.py. Exit 1 on failure."""
    from an_deploy.parity.matrix import run_parity

    with user_errors():
        result = run_parity(model, onnx, arch=arch, batch=batch, progress=progress, model_def=model_def, atol=atol,
                            rtol=rtol)
        if report is not None:
            md = result.write(report)
            progress(f"wrote {report} and {md}")
        typer.echo(result.to_markdown())
        typer.echo(result.verdict())
    if not result.passed:
        raise typer.Exit(code=1)
