"""Parse a prepared ONNX model and build a serialized engine with either TensorRT backend.

The same calls serve data-centre TensorRT and TensorRT-RTX (the module comes from
:func:`an_deploy.trt.availability.require_backend`). Differences handled here: TensorRT-RTX networks are
always strongly typed and its builder has no FP16 flag (precision follows the ONNX tensor types), so
``fp16`` is refused for it (as for any TensorRT without ``BuilderFlag.FP16``), and it has no timing cache.

Polygraphy 0.53.6's loaders (``NetworkFromOnnxBytes``, ``CreateConfig``, ``EngineBytesFromNetwork``) do build
with TensorRT-RTX when ``POLYGRAPHY_USE_TENSORRT_RTX=1`` is set before Polygraphy is imported, but they would
not make this smaller: the TensorRT module is chosen once per process at import (so ``--backend`` could not
pick per call), parser failures come back as a generic ``PolygraphyException`` after being logged (the
one-line, per-node messages below would have to be rebuilt from its log), and the plugin path on TensorRT-RTX
still needs :mod:`an_deploy.trt.isolated`. This module is the ~60 lines those loaders would replace.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import onnx

from an_deploy.errors import UserError
from an_deploy.trt.availability import TrtBackend
from an_deploy.trt.profiles import ShapeProfile

if TYPE_CHECKING:
    import tensorrt as trt

Log = Callable[[str], None]


class BuildError(UserError):
    """TensorRT rejected the model (parser errors) or could not build an engine for it."""


@dataclass
class Serialized:
    engine: bytes
    network_layers: int
    network_plugin_layers: int
    timing_cache: bytes | None


def make_logger(backend: TrtBackend, log: Log | None) -> tuple[trt.ILogger, list[str]]:
    """A TensorRT logger that collects errors (for the exception) and forwards warnings and worse to ``log``."""
    if TYPE_CHECKING:  # type-check the calls against the data-centre stubs; RTX has the same API
        import tensorrt as module
    else:
        module = backend.module
    errors: list[str] = []

    class CollectingLogger(module.ILogger):
        def __init__(self) -> None:
            module.ILogger.__init__(self)

        def log(self, severity: trt.ILogger.Severity, msg: str) -> None:
            if int(severity) <= int(module.ILogger.Severity.ERROR):
                errors.append(msg)
            if int(severity) <= int(module.ILogger.Severity.WARNING):
                (log or _stderr)(f"[{backend.label}] {str(severity).rsplit('.', 1)[-1]}: {msg}")

    logger: trt.ILogger = CollectingLogger()
    return logger, errors


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parser_errors(parser: trt.OnnxParser) -> list[str]:
    """Every error the ONNX parser recorded, one line each with the node it concerns."""
    out = []
    for i in range(parser.num_errors):
        e = parser.get_error(i)
        where = f"node {e.node()} ({e.node_name() or 'unnamed'}, {e.node_operator() or '?'})" if e.node() >= 0 else ""
        code = str(e.code()).rsplit(".", 1)[-1]
        desc = " ".join(str(e.desc()).split())
        if desc in ("", "false"):  # some importers record only the failed condition's value
            desc = code.lower().replace("_", " ")
        out.append(f"{where + ': ' if where else ''}{desc} [{code}]")
    return out


def build_serialized(
    backend: TrtBackend,
    model: onnx.ModelProto,
    *,
    profile: ShapeProfile | None = None,
    fp16: bool = False,
    workspace_mib: int | None = None,
    timing_cache: bytes | None = None,
    plugin: Path | None = None,
    version_compatible: bool = False,
    log: Log | None = None,
) -> Serialized:
    """Parse ``model`` (already prepared) and build a serialized engine; the plugin library must be loaded.

    Raises:
        BuildError: parser errors (all of them, in one message), ``fp16`` without an FP16 flag, or a failed build
            (with TensorRT's errors).
    """
    if TYPE_CHECKING:  # type-check the calls against the data-centre stubs; RTX has the same API
        import tensorrt as trt_mod
    else:
        trt_mod = backend.module
    if fp16 and not backend.has_fp16_flag:
        raise BuildError(fp16_refusal(backend))
    logger, errors = make_logger(backend, log)
    builder = trt_mod.Builder(logger)
    network = builder.create_network(0)  # explicit batch is the only mode in TensorRT 10 and TensorRT-RTX
    parser = trt_mod.OnnxParser(network, logger)
    if not parser.parse(model.SerializeToString()):
        detail = "; ".join(parser_errors(parser) or errors)
        raise BuildError(f"{backend.label}'s ONNX parser rejected the model: {detail}")
    layers = [network.get_layer(i) for i in range(network.num_layers)]
    plugin_types = {trt_mod.LayerType.PLUGIN_V3, trt_mod.LayerType.PLUGIN_V2, trt_mod.LayerType.PLUGIN}
    config = builder.create_builder_config()
    config.profiling_verbosity = trt_mod.ProfilingVerbosity.DETAILED
    if workspace_mib is not None:
        config.set_memory_pool_limit(trt_mod.MemoryPoolType.WORKSPACE, workspace_mib * 2**20)
    if fp16:
        config.set_flag(trt_mod.BuilderFlag.FP16)  # deprecated in 10.12 (strong typing), honoured on every 10.x
    if version_compatible:
        config.set_flag(trt_mod.BuilderFlag.VERSION_COMPATIBLE)
        if plugin is not None:  # serialized into the plan, so the engine loads without the .so beside it
            config.plugins_to_serialize = [str(plugin)]
    if profile is not None:
        opt_profile = builder.create_optimization_profile()
        dims = [trt_mod.Dims(list(s)) for s in (profile.min, profile.opt, profile.max)]
        opt_profile.set_shape(profile.input_name, *dims)
        config.add_optimization_profile(opt_profile)
    if not backend.is_rtx:  # TensorRT-RTX deprecated the timing cache: its calls are no-ops there
        cache = config.create_timing_cache(timing_cache or b"")
        if not config.set_timing_cache(cache, ignore_mismatch=False):
            raise BuildError(f"{backend.label} rejected the timing cache (made by another TensorRT version or GPU?)")
    engine = builder.build_serialized_network(network, config)
    if engine is None:
        raise BuildError(f"{backend.label} could not build the engine: " + ("; ".join(errors) or "see the log above"))
    new_cache = None if backend.is_rtx else config.get_timing_cache()
    return Serialized(
        engine=bytes(engine),
        network_layers=len(layers),
        network_plugin_layers=sum(layer.type in plugin_types for layer in layers),
        timing_cache=bytes(new_cache.serialize()) if new_cache is not None else None,
    )


def fp16_refusal(backend: TrtBackend) -> str:
    """Why ``--fp16`` cannot apply to ``backend`` (one line, with what to do instead)."""
    other = "; or use --backend tensorrt (10.x)" if backend.is_rtx else ""
    return (
        f"--fp16 does not apply to {backend.label}: it has no FP16 builder flag because its networks are strongly "
        "typed (each layer runs in the type of its ONNX tensors); build without --fp16 (fp32 as in the model), or "
        f"give a model whose tensors are float16 (e.g. converted with NVIDIA ModelOpt's ONNX AutoCast){other}"
    )
