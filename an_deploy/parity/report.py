"""The parity report: a dataclass -> JSON (schema_version, tool version, environment, config, results,
summary) and a Markdown table."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from an_deploy.accuracy.compare import OutputStats
from an_deploy.files import staged_outputs
from an_deploy.report_schema import SCHEMA_VERSION, build_report, cpu_model, environment, now, report_paths

__all__ = ["SCHEMA_VERSION", "Comparison", "ParityReport", "cpu_model", "environment"]
PLAIN_RULE = "|out - ref| <= atol + rtol * |ref|"


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
    notes: list[str] = field(default_factory=list)
    created: str = field(default_factory=now)

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
        """The report in the shared schema (``an_deploy.report_schema``), kind ``parity``."""
        return build_report("parity", self.config, [asdict(c) for c in self.comparisons], self.summary(),
                            self.environment, self.notes, self.created)

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
        lines += [f"\nNote: {n}" for n in self.notes]
        lines += ["", f"Machine: {env['cpu']} ({env['cpu_cores']} cores), GPU {env['gpu'] or 'none'}; "
                  + ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)]
        return "\n".join(lines) + "\n"

    def write(self, path: Path) -> Path:
        """Write ``x.json`` and ``x.md`` for a ``path`` named ``x.json`` or ``x.md``, together and atomically.

        Returns:
            The Markdown path.

        Raises:
            OutputPathError: another suffix, or the files cannot be written.
        """
        json_path, md_path = report_paths(path)
        with staged_outputs() as stage:
            stage.write_text(json_path, json.dumps(self.to_json(), indent=2) + "\n")
            stage.write_text(md_path, self.to_markdown())
        return md_path

    def verdict(self) -> str:
        """The final stdout line: ``PASSED | ...`` or ``FAILED | ...``."""
        s = self.summary()
        top1 = "" if s["min_top1_agreement"] is None else f", min top-1 agreement {s['min_top1_agreement']:.2%}"
        body = f"{s['comparisons']} comparisons, worst max abs {s['worst_max_abs']:.2e}{top1}"
        if self.passed:
            return f"PASSED | {body}"
        return f"FAILED | {body}; failing: {', '.join(s['failed']) or 'no comparison ran'}"
