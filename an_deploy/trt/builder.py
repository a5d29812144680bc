"""Build a TensorRT engine from a function-form ONNX file, with the AN plugin or with standard ops.

:func:`plan_build` does everything that needs no TensorRT (read and check the ONNX file, prepare the graph,
resolve the profile, check the output paths) so bad input fails the same way on every machine;
:func:`build_engine` then picks the backend (data-centre TensorRT or TensorRT-RTX), loads the plugin library,
parses (every parser error in one message), builds, and only then writes the prepared ONNX, the engine and
the timing cache, each atomically: a failed build leaves none of them behind. Deserializing the engine and
reading its layers need a CUDA device; without one the summary says so instead of guessing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from an_deploy.errors import UserError
from an_deploy.files import check_output_file, staged_outputs
from an_deploy.onnx_file import load_onnx
from an_deploy.trt import AnImpl
from an_deploy.trt.availability import LABELS, Backend, TrtBackend, cuda_device_count, require_backend
from an_deploy.trt.commands import CommandInputs, equivalent_command
from an_deploy.trt.engine_info import EngineLayers, parse_layer_information
from an_deploy.trt.isolated import build_rtx_plugin_network, parser_finds_core
from an_deploy.trt.network import BuildError, Log, Serialized, build_serialized, fp16_refusal, make_logger
from an_deploy.trt.onnx_prep import PreparedModel, prepare
from an_deploy.trt.plugin_library import load_plugin_library
from an_deploy.trt.profiles import Shape, ShapeProfile, resolve_profile

__all__ = ["BuildError", "BuildOptions", "BuildPlan", "BuildSummary", "build_engine", "plan_build"]


@dataclass(frozen=True)
class BuildOptions:
    onnx_path: Path
    engine_path: Path
    impl: AnImpl = AnImpl.PLUGIN
    backend: Backend = Backend.AUTO
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

    def command(self, backend: Backend, plugin: Path | None) -> str:
        """The trtexec (TensorRT) or Polygraphy (TensorRT-RTX) line that builds the same engine."""
        o = self.options
        return equivalent_command(
            CommandInputs(
                prepared_onnx=self.prepared_onnx,
                engine_path=o.engine_path,
                backend=backend,
                profile=self.profile,
                fp16=o.fp16,
                workspace_mib=o.workspace_mib,
                timing_cache=o.timing_cache,
                plugin=plugin,
                version_compatible=o.version_compatible,
            )
        )


@dataclass
class BuildSummary:
    engine_path: Path
    prepared_onnx: Path
    engine_bytes: int
    impl: AnImpl
    precision: str
    an_nodes: int
    network_layers: int
    network_plugin_layers: int
    engine: EngineLayers | None  # None: not deserialized here (no CUDA device)
    build_seconds: float
    backend: Backend
    backend_version: str
    plugin_library: Path | None
    profile: ShapeProfile | None
    command: str
    notes: list[str] = field(default_factory=list)

    @property
    def backend_label(self) -> str:
        return f"{LABELS[self.backend]} {self.backend_version}"

    def format(self) -> str:
        """Human-readable lines for the CLI."""
        lines = [
            f"engine      {self.engine_path} ({self.engine_bytes / 2**20:.2f} MiB, {self.backend_label}, "
            f"built in {self.build_seconds:.1f} s)",
            f"onnx        {self.prepared_onnx} (what the parser read)",
            f"an-impl     {self.impl.value}: {self.an_nodes} AttentiveNorm nodes"
            + (f", plugin {self.plugin_library}" if self.plugin_library else " inlined into standard ops"),
            f"network     {self.network_layers} layers, {self.network_plugin_layers} plugin layers",
        ]
        if self.engine is not None:
            precisions = ", ".join(f"{k} {v}" for k, v in sorted(self.engine.output_precisions.items())) or "n/a"
            lines += [
                f"engine      {self.engine.layers} layers, {self.engine.plugin_layers} plugin layers",
                f"precision   {self.precision} build; layer outputs: {precisions}",
            ]
        else:
            lines.append(f"precision   {self.precision} build")
        if self.profile is not None:
            p = self.profile
            lines.append(f"profile     {p.as_trtexec('min')} / {p.as_trtexec('opt')} / {p.as_trtexec('max')}")
        lines += [f"note        {n}" for n in self.notes]
        lines.append(f"command     {self.command}")
        return "\n".join(lines)


def plan_build(options: BuildOptions) -> BuildPlan:
    """Validate the inputs and prepare the graph; needs no TensorRT and writes nothing.

    Raises:
        UserError: bad paths, a corrupt ONNX file, AN nodes that would not bind, or a bad profile.
    """
    inputs = [options.onnx_path, options.plugin]
    check_output_file(options.engine_path, inputs, "engine")
    if options.timing_cache is not None:
        check_output_file(options.timing_cache, [*inputs, options.engine_path], "timing cache")
    if options.workspace_mib is not None and options.workspace_mib <= 0:
        raise UserError(f"--workspace must be a positive number of MiB, got {options.workspace_mib}")
    model = load_onnx(options.onnx_path)
    profile = resolve_profile(model, options.min_shape, options.opt_shape, options.max_shape, options.batch)
    prepared = prepare(model, options.impl)
    default = options.engine_path.with_name(f"{options.engine_path.stem}.{options.impl.value}.onnx")
    prepared_onnx = options.prepared_onnx or default
    if prepared_onnx.resolve() == options.engine_path.resolve():
        raise UserError(f"--save-onnx and the engine are the same file {prepared_onnx}; choose another path")
    check_output_file(prepared_onnx, [*inputs, options.timing_cache], "prepared ONNX")
    return BuildPlan(options, prepared, profile, prepared_onnx)


def inspect_engine(backend: TrtBackend, engine: bytes, log: Log | None = None) -> EngineLayers:
    """Deserialize ``engine`` (plugins already loaded; needs a CUDA device) and summarise its layers.

    Raises:
        BuildError: the engine does not deserialize.
    """
    if TYPE_CHECKING:  # type-check the calls against the data-centre stubs; RTX has the same API
        import tensorrt as trt_mod
    else:
        trt_mod = backend.module
    logger, _ = make_logger(backend, log)
    runtime = trt_mod.Runtime(logger)
    cuda_engine = runtime.deserialize_cuda_engine(engine)
    if cuda_engine is None:
        raise BuildError("the engine just built does not deserialize (see the TensorRT log above)")
    inspector = cuda_engine.create_engine_inspector()
    return parse_layer_information(inspector.get_engine_information(trt_mod.LayerInformationFormat.JSON))


def _build(
    backend: TrtBackend, plan: BuildPlan, plugin: Path | None, cache: bytes | None, log: Log | None
) -> Serialized:
    o = plan.options
    if plugin is not None and backend.is_rtx:
        if not parser_finds_core():
            return build_rtx_plugin_network(
                plan.prepared.model,
                plugin=plugin,
                profile=plan.profile,
                workspace_mib=o.workspace_mib,
                timing_cache=cache,
                version_compatible=o.version_compatible,
            )
    return build_serialized(
        backend,
        plan.prepared.model,
        profile=plan.profile,
        fp16=o.fp16,
        workspace_mib=o.workspace_mib,
        timing_cache=cache,
        plugin=plugin,
        version_compatible=o.version_compatible,
        log=log,
    )


def build_engine(options: BuildOptions, log: Log | None = None) -> BuildSummary:
    """Plan, then build and write the engine (see the module docstring).

    Raises:
        UserError: bad input (:func:`plan_build`), TensorRT missing, plugin library missing, ``--fp16`` with
            TensorRT-RTX, or a failed build. Nothing is written then.
    """
    plan = plan_build(options)
    backend = require_backend(options.backend)
    if options.fp16 and not backend.has_fp16_flag:
        raise BuildError(fp16_refusal(backend))
    plugin = load_plugin_library(options.plugin, backend).path if options.impl is AnImpl.PLUGIN else None
    cache_in = None
    if options.timing_cache is not None and options.timing_cache.is_file():
        cache_in = options.timing_cache.read_bytes()
    start = time.perf_counter()
    built = _build(backend, plan, plugin, cache_in, log)
    seconds = time.perf_counter() - start
    notes = []
    if options.timing_cache is not None and backend.is_rtx:
        notes.append("--timing-cache ignored: TensorRT-RTX has no timing cache (its cache calls are no-ops)")
    if plugin is not None and backend.is_rtx:
        notes.append(
            "TensorRT-RTX's parser adds plugin layers only when libtensorrt_rtx.so (unversioned) is on the loader "
            "path; the polygraphy line needs LD_LIBRARY_PATH to a folder with that link (plugins/README.md)"
        )
    if plugin is not None and plan.prepared.an_nodes and built.network_plugin_layers < plan.prepared.an_nodes:
        notes.append(f"only {built.network_plugin_layers} of {plan.prepared.an_nodes} AN nodes became plugin layers")
    engine_layers = None
    if cuda_device_count() > 0:
        engine_layers = inspect_engine(backend, built.engine, log)
    else:
        notes.append("not checked here (no CUDA device): that the engine deserializes, and its layers and precisions")
    outputs = [(plan.prepared_onnx, plan.prepared.model.SerializeToString()), (options.engine_path, built.engine)]
    if options.timing_cache is not None and built.timing_cache:
        outputs.append((options.timing_cache, built.timing_cache))
    with staged_outputs() as stage:  # all or none, and nothing left behind when interrupted
        for path, data in outputs:
            stage.write_bytes(path, data)
    return BuildSummary(
        engine_path=options.engine_path,
        prepared_onnx=plan.prepared_onnx,
        engine_bytes=len(built.engine),
        impl=options.impl,
        precision="fp16" if options.fp16 else "fp32",
        an_nodes=plan.prepared.an_nodes,
        network_layers=built.network_layers,
        network_plugin_layers=built.network_plugin_layers,
        engine=engine_layers,
        build_seconds=seconds,
        backend=backend.backend,
        backend_version=backend.version,
        plugin_library=plugin,
        profile=plan.profile,
        command=plan.command(backend.backend, plugin),
        notes=notes,
    )
