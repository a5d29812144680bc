"""The one JSON schema of every an_deploy report (parity and latency), built in one place.

Top-level keys, in this order::

    schema_version  int, bumped when a key changes meaning
    kind            "parity" | "latency"
    tool            {"name": "an-deploy", "version": ...}
    created         UTC ISO-8601 time
    environment     python, platform, cpu, cpu_cores, torch_threads, packages, cuda, gpu, driver
    config          what was run (the real input shape and batch, files, options)
    results         one entry per compared/timed row
    summary         the verdict and aggregate numbers
    notes           free-text remarks (warnings included)

A report given on the command line as ``--report NAME.json`` or ``--report NAME.md`` is written as both
files, ``NAME.json`` (this schema) and ``NAME.md`` (the Markdown rendering); any other suffix is refused, so
no format is ever written into a path named for another.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from an_deploy.files import OutputPathError, check_output_file
from an_deploy.lazy import lazy_import
from an_deploy.version import __version__

torch = lazy_import("torch")  # only environment() needs it; the CLI checks report paths before loading torch

SCHEMA_VERSION = 2
TOOL_NAME = "an-deploy"
PACKAGES = ("an-deploy", "torch", "onnx", "onnxruntime", "onnxscript", "tensorrt", "numpy")


def package_version(package: str) -> str | None:
    """The installed version of ``package``, or None."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def tool_info() -> dict[str, str]:
    """``{"name": "an-deploy", "version": ...}``."""
    return {"name": TOOL_NAME, "version": __version__}


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo, else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def gpu_driver() -> str | None:
    """The NVIDIA driver version from nvidia-smi, or None."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None


def environment() -> dict[str, Any]:
    """Python, platform, CPU (name, usable cores, torch threads), package versions, CUDA, GPU and driver."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 0)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_cores": cores,
        "torch_threads": torch.get_num_threads(),
        "packages": {p: package_version(p) for p in PACKAGES},
        "cuda": torch.version.cuda if gpu else None,
        "gpu": gpu,
        "driver": gpu_driver() if gpu else None,
    }


def hardware_line(env: dict[str, Any]) -> str:
    """One line naming the hardware of an :func:`environment`, for titles."""
    cpu = f"{env['cpu']} ({env['cpu_cores']} cores, {env['torch_threads']} torch threads)"
    return f"{env['gpu']} (driver {env['driver'] or '?'}) + {cpu}" if env.get("gpu") else cpu


def build_report(
    kind: str,
    config: dict[str, Any],
    results: list[dict[str, Any]],
    summary: dict[str, Any],
    environment: dict[str, Any],
    notes: Iterable[str] = (),
    created: str | None = None,
) -> dict[str, Any]:
    """Assemble a report in the shared schema (see the module docstring).

    Args:
        kind: ``"parity"`` or ``"latency"``.
        config: what was run.
        results: one dict per row.
        summary: verdict and aggregates.
        environment: from :func:`environment`.
        notes: remarks.
        created: creation time (now when omitted).

    Returns:
        The JSON-ready dict.
    """
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "tool": tool_info(),
        "created": created or now(),
        "environment": environment,
        "config": config,
        "results": results,
        "summary": summary,
        "notes": list(notes),
    }


def now() -> str:
    """The current UTC time, ISO-8601 to the second."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def report_paths(path: Path) -> tuple[Path, Path]:
    """The (JSON, Markdown) pair a ``--report`` path names: ``x.json`` or ``x.md`` give ``x.json`` and ``x.md``.

    Raises:
        OutputPathError: any other suffix (a report is never written into a file named for another format).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".md"):
        raise OutputPathError(
            f"--report {path}: give a .json or .md path (both x.json and x.md are written), not {suffix or 'none'}"
        )
    return path.with_suffix(".json"), path.with_suffix(".md")


def check_report_path(path: Path, inputs: Iterable[Path | None] = ()) -> tuple[Path, Path]:
    """Check a ``--report`` path before any work: suffix, folder, and neither file being an input.

    Returns:
        The (JSON, Markdown) paths that will be written.

    Raises:
        OutputPathError: bad suffix, missing or read-only folder, a folder in the way, or an input's path.
    """
    inputs = list(inputs)
    json_path, md_path = report_paths(path)
    for p in (json_path, md_path):
        check_output_file(p, inputs, what="--report")
    return json_path, md_path
