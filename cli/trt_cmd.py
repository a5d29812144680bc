"""``an-deploy trt-build``: build a TensorRT engine from a function-form ONNX file (plugin or standard ops)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from an_deploy.cli.common import progress, user_errors
from an_deploy.files import write_bytes_atomic
from an_deploy.lazy import lazy_import
from an_deploy.plugin.library import LIBRARY_NAME, PluginLibraryError, find_plugin_library
from an_deploy.shapes import parse_shape
from an_deploy.trt import AnImpl
from an_deploy.trt.availability import Backend, TensorRTUnavailable, import_backend, missing_message

if TYPE_CHECKING:
    from an_deploy.trt.builder import BuildOptions

# The library loads when a command runs, not for --help (it imports torch): see an_deploy.lazy.
builder = lazy_import("an_deploy.trt.builder")
profiles = lazy_import("an_deploy.trt.profiles")


BackendOption = Annotated[
    Backend,
    typer.Option(
        "--backend",
        metavar="auto|tensorrt|tensorrt-rtx",
        help="auto: TensorRT if importable, else TensorRT-RTX (builds without a GPU).",
    ),
]


def _shape_option(which: str) -> object:
    help_text = f"{which.capitalize()} input shape, e.g. 1x3x224x224 (give all three)."
    return typer.Option(f"--{which}-shape", metavar="SHAPE", help=help_text)


def trt_build(
    model: Annotated[Path, typer.Argument(metavar="MODEL.onnx", help="Function-form ONNX from `an-deploy export`.")],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE", help="Engine file to write.")],
    an_impl: Annotated[
        AnImpl,
        typer.Option(
            "--an-impl",
            metavar="plugin|native",
            help="plugin: AN nodes bind our CUDA plugin; native: AN inlined into standard ops.",
        ),
    ] = AnImpl.PLUGIN,
    backend: BackendOption = Backend.AUTO,
    plugin: Annotated[
        Path | None,
        typer.Option(
            "--plugin",
            metavar="LIB.so",
            help="Plugin library; default $AN_DEPLOY_PLUGIN, then build/plugins/.",
        ),
    ] = None,
    fp16: Annotated[
        bool,
        typer.Option(
            "--fp16",
            help="TensorRT: allow FP16 kernels (I/O stays as in the model). TensorRT-RTX has no such flag "
            "(strongly typed: layers run in the ONNX types) and refuses it.",
        ),
    ] = False,
    min_shape: Annotated[str | None, _shape_option("min")] = None,
    opt_shape: Annotated[str | None, _shape_option("opt")] = None,
    max_shape: Annotated[str | None, _shape_option("max")] = None,
    batch: Annotated[
        str | None,
        typer.Option("--batch", metavar="MIN:OPT:MAX", help="Dynamic batch profile; other sizes from the model."),
    ] = None,
    timing_cache: Annotated[
        Path | None,
        typer.Option("--timing-cache", metavar="FILE", help="Read if present, written back after the build."),
    ] = None,
    workspace: Annotated[
        int | None, typer.Option("--workspace", metavar="MIB", help="Workspace memory pool limit.")
    ] = None,
    save_onnx: Annotated[
        Path | None,
        typer.Option("--save-onnx", metavar="FILE", help="Prepared ONNX path (default: ENGINE.<impl>.onnx)."),
    ] = None,
    version_compatible: Annotated[
        bool,
        typer.Option(
            "--version-compatible",
            help="Version-compatible engine carrying the plugin library (plugins_to_serialize).",
        ),
    ] = False,
) -> None:
    """Build a TensorRT engine from a function-form ONNX file.

    Prints a summary and the equivalent command line (trtexec for TensorRT, polygraphy for TensorRT-RTX). The
    prepared ONNX the parser read is written next to the engine (or to --save-onnx). Without any TensorRT
    installed it still prints that command line, writes --save-onnx if given, and exits 1.
    """
    with user_errors():
        options = builder.BuildOptions(
            onnx_path=model,
            engine_path=output,
            impl=an_impl,
            backend=backend,
            fp16=fp16,
            min_shape=parse_shape(min_shape, what="--min-shape") if min_shape else None,
            opt_shape=parse_shape(opt_shape, what="--opt-shape") if opt_shape else None,
            max_shape=parse_shape(max_shape, what="--max-shape") if max_shape else None,
            batch=profiles.parse_batch(batch) if batch else None,
            timing_cache=timing_cache,
            workspace_mib=workspace,
            plugin=plugin,
            prepared_onnx=save_onnx,
            version_compatible=version_compatible,
        )
        if import_backend(backend) is None:
            _without_tensorrt(options, missing_message(backend))
        progress(f"building {an_impl.value} engine {output} from {model}")
        summary = builder.build_engine(options, log=progress)
        typer.echo(summary.format())



def _without_tensorrt(options: BuildOptions, message: str) -> None:
    """No TensorRT: check the inputs, write --save-onnx if given, print the command line, then fail with ``message``.

    Raises:
        TensorRTUnavailable: always (after printing).
    """
    plan = builder.plan_build(options)
    plugin = None
    if options.impl is AnImpl.PLUGIN:
        try:
            plugin = find_plugin_library(options.plugin).path
        except PluginLibraryError:
            plugin = options.plugin or Path(LIBRARY_NAME)
    if options.prepared_onnx is not None:
        write_bytes_atomic(plan.prepared_onnx, plan.prepared.model.SerializeToString())
        progress(f"wrote the prepared ONNX {plan.prepared_onnx}")
    else:
        progress("the command below reads the prepared ONNX: write it with --save-onnx FILE")
    typer.echo(f"command     {plan.command(options.backend, plugin)}")
    raise TensorRTUnavailable(message)
