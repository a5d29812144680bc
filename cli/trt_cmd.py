"""``an-deploy trt-build``: build a TensorRT engine from a function-form ONNX file (plugin or standard ops)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from an_deploy.cli.common import progress, user_errors
from an_deploy.trt import AnImpl

ShapeOption = Annotated[str | None, typer.Option(help="Input shape like 1x3x224x224 (all three of min/opt/max).")]


def trt_build(
    model: Annotated[Path, typer.Argument(help="Function-form ONNX file from `an-deploy export`.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Engine file to write (atomically).")],
    an_impl: Annotated[
        AnImpl,
        typer.Option(
            help="plugin: strip the AN function so nodes bind our plugin; native: inline it into standard ops."
        ),
    ] = AnImpl.PLUGIN,
    plugin: Annotated[
        Path | None,
        typer.Option(
            help="Plugin library (.so); else $AN_DEPLOY_PLUGIN, else build/plugins/libattentive_norm_plugin.so."
        ),
    ] = None,
    fp16: Annotated[bool, typer.Option("--fp16", help="Allow FP16 kernels (I/O stays as in the model).")] = False,
    min_shape: ShapeOption = None,
    opt_shape: ShapeOption = None,
    max_shape: ShapeOption = None,
    batch: Annotated[
        str | None, typer.Option(help="Dynamic batch profile MIN:OPT:MAX; other dimensions from the model.")
    ] = None,
    timing_cache: Annotated[
        Path | None, typer.Option(help="Timing cache file: read if present, written back after the build.")
    ] = None,
    workspace: Annotated[int | None, typer.Option(help="Workspace memory pool limit in MiB.")] = None,
    save_onnx: Annotated[
        Path | None, typer.Option(help="Where to write the prepared ONNX trtexec needs (default: next to the engine).")
    ] = None,
    version_compatible: Annotated[
        bool,
        typer.Option(help="Build a version-compatible engine and serialize the plugin library into it, so the "
                     "engine runs without the .so next to it (TensorRT's plugins_to_serialize)."),
    ] = False,
) -> None:
    """Build a TensorRT engine; print a summary and the equivalent trtexec command."""
    from an_deploy.trt.builder import BuildOptions, build_engine
    from an_deploy.trt.profiles import parse_batch, parse_shape

    with user_errors():
        options = BuildOptions(
            onnx_path=model,
            engine_path=output,
            impl=an_impl,
            fp16=fp16,
            min_shape=parse_shape(min_shape) if min_shape else None,
            opt_shape=parse_shape(opt_shape) if opt_shape else None,
            max_shape=parse_shape(max_shape) if max_shape else None,
            batch=parse_batch(batch) if batch else None,
            timing_cache=timing_cache,
            workspace_mib=workspace,
            plugin=plugin,
            prepared_onnx=save_onnx,
            version_compatible=version_compatible,
        )
        progress(f"building {an_impl.value} engine {output} from {model}")
        summary = build_engine(options, log=progress)
        typer.echo(summary.format())
