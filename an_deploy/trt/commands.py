"""The command line that builds the same engine outside an_deploy, from the prepared ONNX file.

Data-centre TensorRT: ``trtexec``. TensorRT-RTX ships no trtexec in its Python wheel; the equivalent is
Polygraphy (0.53+) with ``POLYGRAPHY_USE_TENSORRT_RTX=1``.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from an_deploy.trt.availability import Backend
from an_deploy.trt.profiles import ShapeProfile


@dataclass(frozen=True)
class CommandInputs:
    """What a command line needs to know about a build."""

    prepared_onnx: Path
    engine_path: Path
    backend: Backend  # AUTO prints the trtexec line
    profile: ShapeProfile | None = None
    fp16: bool = False
    workspace_mib: int | None = None
    timing_cache: Path | None = None
    plugin: Path | None = None
    version_compatible: bool = False


def trtexec_command(c: CommandInputs) -> str:
    """The ``trtexec`` line (data-centre TensorRT)."""
    args = ["trtexec", f"--onnx={c.prepared_onnx}", f"--saveEngine={c.engine_path}"]
    if c.fp16:
        args.append("--fp16")
    if c.profile is not None:
        args += [f"--{w}Shapes={c.profile.as_trtexec(w)}" for w in ("min", "opt", "max")]
    if c.workspace_mib is not None:
        args.append(f"--memPoolSize=workspace:{c.workspace_mib}M")
    if c.timing_cache is not None:
        args.append(f"--timingCacheFile={c.timing_cache}")
    if c.plugin is not None:
        args.append(f"--dynamicPlugins={c.plugin}")
    if c.version_compatible:
        args.append("--versionCompatible")
        if c.plugin is not None:
            args.append(f"--setPluginsToSerialize={c.plugin}")
    args.append("--profilingVerbosity=detailed")
    return " ".join(shlex.quote(a) for a in args)


def _polygraphy_shape(profile: ShapeProfile, which: str) -> str:
    return f"{profile.input_name}:[{','.join(str(d) for d in getattr(profile, which))}]"


def polygraphy_rtx_command(c: CommandInputs) -> str:
    """The ``polygraphy convert`` line with TensorRT-RTX (no FP16 flag: RTX networks are strongly typed)."""
    args = ["polygraphy", "convert", str(c.prepared_onnx), "-o", str(c.engine_path)]
    if c.profile is not None:
        for which in ("min", "opt", "max"):
            args += [f"--trt-{which}-shapes", _polygraphy_shape(c.profile, which)]
    if c.workspace_mib is not None:
        args += ["--pool-limit", f"workspace:{c.workspace_mib}M"]
    if c.plugin is not None:
        args += ["--plugins", str(c.plugin)]
    if c.version_compatible:
        args.append("--version-compatible")
    return "POLYGRAPHY_USE_TENSORRT_RTX=1 " + " ".join(shlex.quote(a) for a in args)


def equivalent_command(c: CommandInputs) -> str:
    """The line for the backend: Polygraphy for TensorRT-RTX, trtexec otherwise."""
    return polygraphy_rtx_command(c) if c.backend is Backend.TENSORRT_RTX else trtexec_command(c)
