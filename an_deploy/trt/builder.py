"""Build a TensorRT engine from a function-form ONNX file, with the AN plugin or with standard ops.

:func:`plan_build` does everything that needs no TensorRT (read and check the ONNX file, prepare the graph,
resolve the profile, check the output path) so bad input fails the same way on every machine;
:func:`build_engine` then loads the plugin library, parses (every parser error in one message), builds,
writes the prepared ONNX, the engine and the timing cache atomically, and summarises the engine.
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import onnx

from an_deploy.errors import UserError
from an_deploy.onnx_file import load_onnx
from an_deploy.trt import AnImpl
from an_deploy.trt.engine_info import EngineLayers
from an_deploy.trt.onnx_prep import PreparedModel, prepare
from an_deploy.trt.profiles import Shape, ShapeProfile, resolve_profile

if TYPE_CHECKING:
    import tensorrt as trt

Log = Callable[[str], None]


class BuildError(UserError):
    """TensorRT rejected the model (parser errors) or could not build an engine for it."""


@dataclass(frozen=True)
class BuildOptions:
    onnx_path: Path
    engine_path: Path
    impl: AnImpl = AnImpl.PLUGIN
    fp16: bool = False
    min_shape: Shape | None = None
    opt_shape: Shape | None = None
    max_shape: Shape | None = None
    batch: tuple[int, int, int] | None = None
    timing_cache: Path | None = None
    workspace_mib: int | None = None
    plugin: Path | None = None
    prepared_onnx: Path | None = None  # default: next to the engine, <stem>.<impl>.onnx
    # A version-compatible engine (BuilderFlag.VERSION_COMPATIBLE) that also carries the plugin library
    # (plugins_to_serialize only applies to such engines); otherwise the plugin is loaded at run time.
    version_compatible: bool = False


@dataclass(frozen=True)
class BuildPlan:
    options: BuildOptions
    prepared: PreparedModel
    profile: ShapeProfile | None
    prepared_onnx: Path


@dataclass
class BuildSummary:
    engine_path: Path
    engine_bytes: int
    impl: AnImpl
    precision: str
    an_nodes: int
    network_layers: int
    network_plugin_layers: int
    engine: EngineLayers
    build_seconds: float
    tensorrt_version: str
    plugin_library: Path | None
    profile: ShapeProfile | None
    trtexec: str
    notes: list[str] = field(default_factory=list)

    def format(self) -> str:
        """Human-readable lines for the CLI."""
        precisions = ", ".join(f"{k} {v}" for k, v in sorted(self.engine.output_precisions.items())) or "n/a"
        lines = [
            f"engine      {self.engine_path} ({self.engine_bytes / 2**20:.2f} MiB, TensorRT {self.tensorrt_version}, "
            f"built in {self.build_seconds:.1f} s)",
            f"an-impl     {self.impl.value}: {self.an_nodes} AttentiveNorm nodes"
            + (f", plugin {self.plugin_library}" if self.plugin_library else " inlined into standard ops"),
            f"network     {self.network_layers} layers, {self.network_plugin_layers} plugin layers",
            f"engine      {self.engine.layers} layers, {self.engine.plugin_layers} plugin layers",
            f"precision   {self.precision} build; layer outputs: {precisions}",
        ]
        if self.profile is not None:
            p = self.profile
            lines.append(f"profile     {p.as_trtexec('min')} / {p.as_trtexec('opt')} / {p.as_trtexec('max')}")
        lines += [f"note        {n}" for n in self.notes]
        lines.append(f"trtexec     {self.trtexec}")
        return "\n".join(lines)


def check_output_path(path: Path, what: str = "engine") -> None:
    """Raises UserError unless ``path`` can be written: not a folder, its parent an existing writable folder."""
    if path.is_dir():
        raise UserError(f"{what} path {path} is a folder; give a file name, e.g. {path / 'model.engine'}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"cannot write {what} {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise UserError(f"cannot write {what} {path}: folder {parent} is not writable")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def plan_build(options: BuildOptions) -> BuildPlan:
    """Validate the inputs and prepare the graph; needs no TensorRT and writes nothing.

    Raises:
        UserError: bad paths, a corrupt ONNX file, AN nodes that would not bind, or a bad profile.
    """
    check_output_path(options.engine_path)
    if options.timing_cache is not None:
        check_output_path(options.timing_cache, "timing cache")
    if options.workspace_mib is not None and options.workspace_mib <= 0:
        raise UserError(f"--workspace must be a positive number of MiB, got {options.workspace_mib}")
    model = load_onnx(options.onnx_path)
    profile = resolve_profile(model, options.min_shape, options.opt_shape, options.max_shape, options.batch)
    prepared = prepare(model, options.impl)
    default = options.engine_path.with_name(f"{options.engine_path.stem}.{options.impl.value}.onnx")
    prepared_onnx = options.prepared_onnx or default
    if prepared_onnx.resolve() == options.onnx_path.resolve():
        raise UserError(f"the prepared ONNX would overwrite the input {options.onnx_path}; choose another path")
    check_output_path(prepared_onnx, "prepared ONNX")
    return BuildPlan(options, prepared, profile, prepared_onnx)


def trtexec_command(plan: BuildPlan, plugin: Path | None) -> str:
    """The ``trtexec`` line that builds the same engine from the prepared ONNX file."""
    o = plan.options
    args = ["trtexec", f"--onnx={plan.prepared_onnx}", f"--saveEngine={o.engine_path}"]
    if o.fp16:
        args.append("--fp16")
    if plan.profile is not None:
        args += [f"--{w}Shapes={plan.profile.as_trtexec(w)}" for w in ("min", "opt", "max")]
    if o.workspace_mib is not None:
        args.append(f"--memPoolSize=workspace:{o.workspace_mib}M")
    if o.timing_cache is not None:
        args.append(f"--timingCacheFile={o.timing_cache}")
    if plugin is not None:
        args.append(f"--dynamicPlugins={plugin}")
    if o.version_compatible:
        args.append("--versionCompatible")
        if plugin is not None:
            args.append(f"--setPluginsToSerialize={plugin}")
    args.append("--profilingVerbosity=detailed")
    return " ".join(shlex.quote(a) for a in args)


def make_logger(log: Log | None) -> tuple[trt.ILogger, list[str]]:
    """A TensorRT logger that collects errors (for the exception) and forwards warnings and worse to ``log``."""
    import tensorrt as trt

    errors: list[str] = []

    class CollectingLogger(trt.ILogger):
        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, severity: trt.ILogger.Severity, msg: str) -> None:
            if int(severity) <= int(trt.ILogger.Severity.ERROR):
                errors.append(msg)
            if int(severity) <= int(trt.ILogger.Severity.WARNING):
                (log or _stderr)(f"[TensorRT] {str(severity).rsplit('.', 1)[-1]}: {msg}")

    return CollectingLogger(), errors


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parser_errors(parser: trt.OnnxParser) -> list[str]:
    """Every error the ONNX parser recorded, one line each with the node it concerns."""
    out = []
    for i in range(parser.num_errors):
        e = parser.get_error(i)
        where = f"node {e.node()} ({e.node_name() or 'unnamed'}, {e.node_operator() or '?'})" if e.node() >= 0 else ""
        out.append(f"{where + ': ' if where else ''}{e.desc()} [{e.code()}]")
    return out


@dataclass
class Serialized:
    engine: bytes
    network_layers: int
    network_plugin_layers: int
    timing_cache: bytes | None


def build_serialized(
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
        BuildError: parser errors (all of them, in one message) or a failed build (with TensorRT's errors).
    """
    import tensorrt as trt

    logger, errors = make_logger(log)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # explicit batch is the only mode in TensorRT 10
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(model.SerializeToString()):
        raise BuildError("TensorRT's ONNX parser rejected the model: " + "; ".join(parser_errors(parser) or errors))
    layers = [network.get_layer(i) for i in range(network.num_layers)]
    plugin_types = {trt.LayerType.PLUGIN_V3, trt.LayerType.PLUGIN_V2, trt.LayerType.PLUGIN}
    config = builder.create_builder_config()
    config.profiling_verbosity = trt.ProfilingVerbosity.DETAILED
    if workspace_mib is not None:
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mib * 2**20)
    if fp16:
        config.set_flag(trt.BuilderFlag.FP16)  # deprecated in 10.12 (strong typing), honoured on every 10.x
    if version_compatible:
        config.set_flag(trt.BuilderFlag.VERSION_COMPATIBLE)
        if plugin is not None:  # serialized into the plan, so the engine loads without the .so beside it
            config.plugins_to_serialize = [str(plugin)]
    if profile is not None:
        opt_profile = builder.create_optimization_profile()
        dims = [trt.Dims(list(s)) for s in (profile.min, profile.opt, profile.max)]
        opt_profile.set_shape(profile.input_name, *dims)
        config.add_optimization_profile(opt_profile)
    cache = config.create_timing_cache(timing_cache or b"")
    if not config.set_timing_cache(cache, ignore_mismatch=False):
        raise BuildError("TensorRT rejected the timing cache (made by another TensorRT version or GPU?)")
    engine = builder.build_serialized_network(network, config)
    if engine is None:
        raise BuildError("TensorRT could not build the engine: " + ("; ".join(errors) or "see the log above"))
    new_cache = config.get_timing_cache()
    return Serialized(
        engine=bytes(engine),
        network_layers=len(layers),
        network_plugin_layers=sum(layer.type in plugin_types for layer in layers),
        timing_cache=bytes(new_cache.serialize()) if new_cache is not None else None,
    )


def inspect_engine(engine: bytes, log: Log | None = None) -> EngineLayers:
    """Deserialize ``engine`` (plugins already loaded) and summarise its layers from the engine inspector."""
    import tensorrt as trt

    from an_deploy.trt.engine_info import parse_layer_information

    logger, _ = make_logger(log)
    runtime = trt.Runtime(logger)
    cuda_engine = runtime.deserialize_cuda_engine(engine)
    if cuda_engine is None:
        raise BuildError("the engine just built does not deserialize (see the TensorRT log above)")
    inspector = cuda_engine.create_engine_inspector()
    return parse_layer_information(inspector.get_engine_information(trt.LayerInformationFormat.JSON))


def build_engine(options: BuildOptions, log: Log | None = None) -> BuildSummary:
    """Plan, then build and write the engine (see the module docstring).

    Raises:
        UserError: bad input (:func:`plan_build`), TensorRT missing, plugin library missing, or a failed build.
    """
    from an_deploy.trt.availability import require_tensorrt
    from an_deploy.trt.plugin_library import load_plugin_library

    plan = plan_build(options)
    require_tensorrt()
    import tensorrt as trt

    plugin = load_plugin_library(options.plugin).path if options.impl is AnImpl.PLUGIN else None
    cache_in = None
    if options.timing_cache is not None and options.timing_cache.is_file():
        cache_in = options.timing_cache.read_bytes()
    atomic_write_bytes(plan.prepared_onnx, plan.prepared.model.SerializeToString())
    start = time.perf_counter()
    built = build_serialized(
        plan.prepared.model,
        profile=plan.profile,
        fp16=options.fp16,
        workspace_mib=options.workspace_mib,
        timing_cache=cache_in,
        plugin=plugin,
        version_compatible=options.version_compatible,
        log=log,
    )
    seconds = time.perf_counter() - start
    atomic_write_bytes(options.engine_path, built.engine)
    if options.timing_cache is not None and built.timing_cache:
        atomic_write_bytes(options.timing_cache, built.timing_cache)
    notes = []
    if plugin is not None and plan.prepared.an_nodes and built.network_plugin_layers < plan.prepared.an_nodes:
        notes.append(f"only {built.network_plugin_layers} of {plan.prepared.an_nodes} AN nodes became plugin layers")
    return BuildSummary(
        engine_path=options.engine_path,
        engine_bytes=len(built.engine),
        impl=options.impl,
        precision="fp16" if options.fp16 else "fp32",
        an_nodes=plan.prepared.an_nodes,
        network_layers=built.network_layers,
        network_plugin_layers=built.network_plugin_layers,
        engine=inspect_engine(built.engine, log),
        build_seconds=seconds,
        tensorrt_version=trt.__version__,
        plugin_library=plugin,
        profile=plan.profile,
        trtexec=trtexec_command(plan, plugin),
        notes=notes,
    )
