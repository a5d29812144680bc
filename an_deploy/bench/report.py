"""Latency report: a dataclass -> JSON (schema_version, tool version, environment, config, results, summary),
a Markdown table and a PNG chart that names the hardware."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from an_deploy.bench.timing import LatencyStats
from an_deploy.files import OutputPathError, staged_outputs
from an_deploy.lazy import MissingDependency, lazy_import
from an_deploy.report_schema import SCHEMA_VERSION, build_report, environment, hardware_line, now

__all__ = ["SCHEMA_VERSION", "BenchConfig", "BenchReport", "BenchResult", "Environment", "write_report"]

REPORT_EXTRA = "pip install an-deploy[report]"
matplotlib = lazy_import("matplotlib", install_hint=REPORT_EXTRA)  # optional: only the chart needs it
plt = lazy_import("matplotlib.pyplot", install_hint=REPORT_EXTRA)

BASELINE = "torch-fp32"
UNSTABLE_P99_OVER_P50 = 3.0  # a row whose p99 is this many times its p50 is flagged as unstable


@dataclass
class Environment:
    """The machine (``an_deploy.report_schema.environment`` as a dataclass)."""

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
        """This machine's environment."""
        env = environment()
        return cls(**{f.name: env[f.name] for f in fields(cls)})

    def hardware(self) -> str:
        """One line naming the hardware, for titles."""
        return hardware_line(asdict(self))


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
    created: str = field(default_factory=now)
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.summary:
            self.summary = summarize(self.results)
        for name in self.summary.get("unstable_rows", []):
            r = next(r for r in self.results if r.name == name)
            if r.stats is not None:
                self.notes.append(
                    f"unstable timing in {name}: p99 {r.stats.p99_ms:.3f} ms is {r.stats.p99_ms / r.stats.p50_ms:.0f}x "
                    f"p50 {r.stats.p50_ms:.3f} ms (a busy machine?); rerun with more --iters or --min-seconds"
                )

    def to_dict(self) -> dict[str, Any]:
        """The report in the shared schema (``an_deploy.report_schema``), kind ``latency``."""
        return build_report("latency", asdict(self.config), [asdict(r) for r in self.results], self.summary,
                            asdict(self.environment), self.notes, self.created)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def summarize(results: list[BenchResult]) -> dict[str, Any]:
    """Fastest row by median, each row's median speed-up over the PyTorch fp32 row, the row counts, and the
    rows whose p99 exceeds ``UNSTABLE_P99_OVER_P50`` times their p50."""
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
        "unstable_rows": [r.name for r in ok if r.stats and r.stats.p99_ms > UNSTABLE_P99_OVER_P50 * r.stats.p50_ms],
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
    """A PNG bar chart of the median latency per row on a log axis (one slow row does not squash the others),
    each row labelled with its p50 (right of its p99 mark), marks at p90 and p99, the real input shape and the
    hardware in the title.

    Raises:
        MissingDependency: matplotlib is not installed (``pip install an-deploy[report]``).
    """
    matplotlib.use("Agg")
    ok = [r for r in report.results if r.status == "ok" and r.stats is not None]
    names = [r.name for r in ok]
    p50 = [r.stats.p50_ms for r in ok if r.stats]
    p90 = [r.stats.p90_ms for r in ok if r.stats]
    p99 = [r.stats.p99_ms for r in ok if r.stats]
    fig, ax = plt.subplots(figsize=(8, 1.4 + 0.5 * max(len(ok), 1)))
    ax.barh(names, p50, color="#4c72b0", label="p50")
    ax.errorbar(p99, names, fmt="|", color="black", label="p99")
    ax.errorbar(p90, names, fmt="|", color="#dd8452", label="p90")
    for name, median, tail in zip(names, p50, p99, strict=True):  # the label right of the row's p99 mark
        ax.text(max(median, tail) * 1.25, name, f"p50 {median:.3g} ms", va="center", fontsize=7)
    ax.set_xscale("log")
    if p50:
        ax.set_xlim(min(p50) / 2, max(max(p99), max(p50)) * 8)  # room for the labels
    ax.invert_yaxis()
    ax.set_xlabel("latency per call (ms, log scale)")
    shape = "x".join(map(str, report.config.input_shape))
    ax.set_title(f"{report.config.model}, input {shape}\n{report.environment.hardware()}", fontsize=8)
    ax.legend(loc="upper right", bbox_to_anchor=(1.0, -0.35), ncol=3, fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=120)
    plt.close(fig)


def write_report(report: BenchReport, out_dir: Path, stem: str = "latency") -> dict[str, Path]:
    """Write ``<stem>.json``, ``<stem>.md`` and ``<stem>.png`` (the chart only when matplotlib is installed),
    together and atomically (``an_deploy.files.staged_outputs``).

    Raises:
        OutputPathError: the folder cannot be created or the files cannot be written.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputPathError(f"cannot create report folder {out_dir}: {e.strerror or e}") from None
    paths = {"json": out_dir / f"{stem}.json", "md": out_dir / f"{stem}.md", "png": out_dir / f"{stem}.png"}
    with staged_outputs() as stage:
        try:
            matplotlib.use("Agg")  # the first use imports it: the chart's optional dependency
        except MissingDependency:
            report.notes.append(f"no chart: matplotlib is not installed ({REPORT_EXTRA})")
            del paths["png"]
            print("[an-deploy] no latency chart: matplotlib is not installed", file=sys.stderr)
        else:
            write_chart(report, stage.path_for(paths["png"]))
        stage.write_text(paths["json"], report.to_json() + "\n")
        stage.write_text(paths["md"], to_markdown(report))
    return paths
