"""Latency report: a dataclass -> JSON (schema_version, tool version, environment, config, results, summary),
a Markdown table and a PNG chart that names the hardware."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from an_deploy.bench.timing import LatencyStats

SCHEMA_VERSION = 1
TOOL = "an-deploy bench"
BASELINE = "torch-fp32"


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo, else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


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


@dataclass
class Environment:
    python: str
    platform: str
    cpu: str
    cpu_cores: int
    torch_threads: int
    packages: dict[str, str | None]
    cuda: str | None
    gpu: str | None
    driver: str | None

    @classmethod
    def collect(cls) -> Environment:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 0)
        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
        names = ("an-deploy", "torch", "onnx", "onnxruntime", "tensorrt", "numpy")
        return cls(
            python=platform.python_version(),
            platform=platform.platform(),
            cpu=cpu_model(),
            cpu_cores=cores,
            torch_threads=torch.get_num_threads(),
            packages={n: _version(n) for n in names},
            cuda=torch.version.cuda if gpu else None,
            gpu=gpu,
            driver=gpu_driver() if gpu else None,
        )

    def hardware(self) -> str:
        """One line naming the hardware, for titles."""
        cpu = f"{self.cpu} ({self.cpu_cores} cores, {self.torch_threads} torch threads)"
        return f"{self.gpu} (driver {self.driver or '?'}) + {cpu}" if self.gpu else cpu


@dataclass
class BenchConfig:
    model: str
    input_shape: list[int]
    warmup: int
    iters: int
    min_seconds: float
    rows: list[str]


@dataclass
class BenchResult:
    name: str  # row label, e.g. "torch-fp32", "ort-function", "trt-plugin-fp16"
    device: str
    status: str  # "ok", "skipped" (not available here) or "failed"
    timer: str | None = None
    stats: LatencyStats | None = None
    reason: str | None = None


@dataclass
class BenchReport:
    config: BenchConfig
    environment: Environment
    results: list[BenchResult]
    schema_version: int = SCHEMA_VERSION
    tool: str = TOOL
    tool_version: str | None = field(default_factory=lambda: _version("an-deploy"))
    created: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.summary:
            self.summary = summarize(self.results)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def summarize(results: list[BenchResult]) -> dict[str, Any]:
    """Fastest row by median, each row's median speed-up over the PyTorch fp32 row, and the row counts."""
    ok = [r for r in results if r.status == "ok" and r.stats is not None]
    base = next((r.stats for r in ok if r.name == BASELINE), None)
    fastest = min(ok, key=lambda r: r.stats.p50_ms if r.stats else float("inf"), default=None)
    return {
        "rows_ok": len(ok),
        "rows_skipped": sum(r.status == "skipped" for r in results),
        "rows_failed": sum(r.status == "failed" for r in results),
        "fastest": fastest.name if fastest else None,
        "baseline": BASELINE if base else None,
        "speedup_p50_vs_baseline": {
            r.name: round(base.p50_ms / r.stats.p50_ms, 3) for r in ok if base and r.stats and r.stats.p50_ms > 0
        },
    }


def to_markdown(report: BenchReport) -> str:
    """A Markdown section: hardware and method, then one table row per result."""
    c, env = report.config, report.environment
    shape = "x".join(map(str, c.input_shape))
    lines = [
        f"### Latency: {c.model}, input {shape}",
        "",
        f"Hardware: {env.hardware()}. Timing: {c.warmup} warm-up calls, then at least {c.iters} timed calls "
        f"(and {c.min_seconds:g} s); CPU rows with `perf_counter`, GPU rows with CUDA events.",
        "",
        "| row | device | p50 ms | p90 ms | p99 ms | mean ms | samples/s | vs torch-fp32 | n |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    speedups = report.summary.get("speedup_p50_vs_baseline", {})
    for r in report.results:
        if r.status == "ok" and r.stats is not None:
            s = r.stats
            ratio = f"{speedups[r.name]:.2f}x" if r.name in speedups else "n/a"
            lines.append(
                f"| {r.name} | {r.device} | {s.p50_ms:.3f} | {s.p90_ms:.3f} | {s.p99_ms:.3f} | {s.mean_ms:.3f} | "
                f"{s.throughput:.1f} | {ratio} | {s.iterations} |"
            )
        else:
            lines.append(f"| {r.name} | {r.device} | {r.status}: {r.reason or ''} | | | | | | |")
    lines += ["", *[f"Note: {n}" for n in report.notes]] if report.notes else []
    return "\n".join(lines) + "\n"


def write_chart(report: BenchReport, path: Path) -> None:
    """A PNG bar chart of the median latency per row, whiskers to p90 and p99, hardware in the title.

    Raises:
        ImportError: matplotlib is not installed (``pip install an-deploy[report]``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in report.results if r.status == "ok" and r.stats is not None]
    names = [r.name for r in ok]
    p50 = [r.stats.p50_ms for r in ok if r.stats]
    p90 = [r.stats.p90_ms for r in ok if r.stats]
    p99 = [r.stats.p99_ms for r in ok if r.stats]
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.5 * max(len(ok), 1)))
    ax.barh(names, p50, color="#4c72b0", label="p50")
    ax.errorbar(p99, names, fmt="|", color="black", label="p99")
    ax.errorbar(p90, names, fmt="|", color="#dd8452", label="p90")
    ax.invert_yaxis()
    ax.set_xlabel("latency per call (ms)")
    shape = "x".join(map(str, report.config.input_shape))
    ax.set_title(f"{report.config.model} {shape}\n{report.environment.hardware()}", fontsize=8)
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=120)
    plt.close(fig)


def write_report(report: BenchReport, out_dir: Path, stem: str = "latency") -> dict[str, Path]:
    """Write ``<stem>.json``, ``<stem>.md`` and ``<stem>.png`` (the chart only when matplotlib is installed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / f"{stem}.json", "md": out_dir / f"{stem}.md", "png": out_dir / f"{stem}.png"}
    try:
        write_chart(report, paths["png"])
    except ImportError:
        report.notes.append("no chart: matplotlib is not installed (pip install an-deploy[report])")
        del paths["png"]
        print("[an-deploy] no latency chart: matplotlib is not installed", file=sys.stderr)
    paths["json"].write_text(report.to_json() + "\n")
    paths["md"].write_text(to_markdown(report))
    return paths
