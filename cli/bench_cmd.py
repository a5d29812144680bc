"""``an-deploy bench``: latency of PyTorch, torch.compile, ONNX Runtime and TensorRT rows for one model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from an_deploy.cli.common import progress, user_errors, warn
from an_deploy.cli.models_cmd import AssumePublishedOption, ConfigOption, load_config
from an_deploy.cli.trt_cmd import BackendOption
from an_deploy.lazy import lazy_import
from an_deploy.trt.availability import Backend

# The library loads when a command runs, not for --help (it imports torch): see an_deploy.lazy.
bench_runner = lazy_import("an_deploy.bench.runner")


def bench(
    model: Annotated[
        Path | None, typer.Argument(help="Checkpoint (.pth/.pt); the demo architecture with random weights if omitted.")
    ] = None,
    arch: Annotated[str | None, typer.Option(help="Architecture (inferred from the checkpoint if omitted).")] = None,
    config: ConfigOption = None,
    assume_published: AssumePublishedOption = False,
    batch: Annotated[int, typer.Option(min=1, help="Batch size of the timed input.")] = 1,
    iters: Annotated[int, typer.Option(min=1, help="Timed calls per row (at least).")] = 100,
    warmup: Annotated[int, typer.Option(min=0, help="Untimed warm-up calls per row.")] = 10,
    min_seconds: Annotated[float, typer.Option(min=0.0, help="Keep timing each row until this many seconds "
                                               "passed.")] = 0.0,
    compile_row: Annotated[bool, typer.Option("--compile/--no-compile", help="Include torch.compile.")] = True,
    trt: Annotated[bool, typer.Option("--trt/--no-trt", help="Include the TensorRT rows (skipped without it).")] = True,
    plugin: Annotated[Path | None, typer.Option(help="AttentiveNorm plugin library for the trt-plugin rows.")] = None,
    backend: BackendOption = Backend.AUTO,
    out: Annotated[Path, typer.Option(help="Report folder (created if missing): latency.json, latency.md, "
                                   "latency.png, replaced atomically if they exist.")] = Path("reports"),
) -> None:
    """Time every backend on one model and write JSON, Markdown and a PNG chart naming the hardware."""
    with user_errors():
        report, paths = bench_runner.run_bench(
            model, arch, batch, iters, warmup, min_seconds, compile_row, trt, plugin, out, log=progress, warn=warn,
            config=load_config(config), assume_published=assume_published, backend=backend,
        )
        typer.echo(paths["md"].read_text())
        failed = report.summary["rows_failed"]
        verdict = "FAILED" if failed else "PASSED"
        typer.echo(
            f"{verdict} | {report.summary['rows_ok']} rows timed, {report.summary['rows_skipped']} skipped, "
            f"{failed} failed | {', '.join(str(p) for p in paths.values())}"
        )
        if failed:
            raise typer.Exit(code=1)
