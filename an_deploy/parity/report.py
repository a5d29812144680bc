"""The parity report: a dataclass -> JSON (schema_version, tool version, environment, config, results,
summary) and a Markdown table."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import an_deploy
from an_deploy.parity.compare import OutputStats

SCHEMA_VERSION = 1
PLAIN_RULE = "|out - ref| <= atol + rtol * |ref|"


def cpu_model() -> str:
    """The CPU model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def environment() -> dict[str, Any]:
    """Package versions, CPU and GPU of this machine."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {p: _version(p) for p in ("torch", "onnx", "onnxruntime", "onnxscript", "tensorrt", "numpy")},
        "cpu": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "gpu": gpu,
    }


@dataclass
class Comparison:
    """One row of the matrix: ``backend`` judged against ``reference`` for one output."""

    backend: str
    reference: str
    output: str
    precision: str
    stats: OutputStats


@dataclass
class ParityReport:
    config: dict[str, Any]
    comparisons: list[Comparison] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # backend -> reason
    environment: dict[str, Any] = field(default_factory=environment)

    @property
    def passed(self) -> bool:
        return bool(self.comparisons) and all(c.stats.passed for c in self.comparisons)

    def summary(self) -> dict[str, Any]:
        failed = [f"{c.backend} vs {c.reference}" for c in self.comparisons if not c.stats.passed]
        top1 = [c.stats.top1_agreement for c in self.comparisons if c.stats.top1_agreement is not None]
        return {
            "passed": self.passed,
            "comparisons": len(self.comparisons),
            "failed": failed,
            "worst_max_abs": max((c.stats.max_abs for c in self.comparisons), default=0.0),
            "min_top1_agreement": min(top1) if top1 else None,
            "skipped": self.skipped,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "an_deploy", "version": an_deploy.__version__},
            "environment": self.environment,
            "config": self.config,
            "results": [asdict(c) for c in self.comparisons],
            "summary": self.summary(),
        }

    def to_markdown(self) -> str:
        lines = [
            f"# Parity: {self.config.get('arch')} ({self.config.get('onnx')})",
            "",
            f"Inputs: {self.config.get('inputs')}; rule: {self.config.get('rule', PLAIN_RULE)}.",
            "",
            "| backend | reference | output | max abs | max rel | mean abs | p99 abs | cosine | required atol "
            "| required rtol | atol | rtol | top-1 agree | pass |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for c in self.comparisons:
            s = c.stats
            top1 = "-" if s.top1_agreement is None else f"{s.top1_agreement:.2%}"
            lines.append(
                f"| {c.backend} | {c.reference} | {c.output} | {s.max_abs:.2e} | {s.max_rel:.2e} | {s.mean_abs:.2e} "
                f"| {s.p99_abs:.2e} | {s.cosine:.8f} | {s.required_atol:.2e} | {s.required_rtol:.2e} | {s.atol:g} "
                f"| {s.rtol:g} | {top1} | {'yes' if s.passed else 'NO'} |"
            )
        for backend, reason in self.skipped.items():
            lines.append(f"\nSkipped {backend}: {reason}")
        env = self.environment
        lines += ["", f"Machine: {env['cpu']} ({env['cpu_cores']} cores), GPU {env['gpu'] or 'none'}; "
                  + ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)]
        return "\n".join(lines) + "\n"

    def write(self, json_path: Path) -> Path:
        """Write the JSON to ``json_path`` and the Markdown next to it (``.md``); returns the Markdown path."""
        json_path.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        md = json_path.with_suffix(".md")
        md.write_text(self.to_markdown())
        return md

    def verdict(self) -> str:
        """The final stdout line: ``PASSED | ...`` or ``FAILED | ...``."""
        s = self.summary()
        top1 = "" if s["min_top1_agreement"] is None else f", min top-1 agreement {s['min_top1_agreement']:.2%}"
        body = f"{s['comparisons']} comparisons, worst max abs {s['worst_max_abs']:.2e}{top1}"
        if self.passed:
            return f"PASSED | {body}"
        return f"FAILED | {body}; failing: {', '.join(s['failed']) or 'no comparison ran'}"
