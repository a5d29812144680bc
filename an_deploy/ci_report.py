"""The parity and latency report CI produces on every run, for the demo model on CPU.

    python -m an_deploy.ci_report [--out reports]

Parity (asserted: exit 1 on failure): PyTorch fp32, ONNX Runtime on the function form and on the decomposed
form, each against the float64 PyTorch reference with the tolerance table of ``an_deploy.parity``. Latency
(reported only, never asserted, so CI cannot flake on a busy machine): the same rows plus the TensorRT rows,
skipped with the reason where TensorRT or CUDA is missing. Writes ``parity.{json,md}`` and
``latency.{json,md,png}`` and prints both Markdown tables; the last line is ``PASSED | ...`` or ``FAILED | ...``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from an_deploy.bench.report import BenchConfig, BenchReport, Environment, write_report
from an_deploy.bench.rows import default_rows
from an_deploy.bench.suite import measure
from an_deploy.runtime.base import Runner

PARITY_SCHEMA_VERSION = 1
PARITY_BATCH = 64
LATENCY_BATCH = 8


@dataclass
class ParityReport:
    config: dict[str, Any]
    environment: Environment
    results: list[dict[str, Any]]
    summary: dict[str, Any]
    schema_version: int = PARITY_SCHEMA_VERSION
    tool: str = "an_deploy.ci_report"
    tool_version: str | None = None
    notes: list[str] = field(default_factory=list)


def _log(message: str) -> None:
    print(f"[ci-report] {message}", file=sys.stderr, flush=True)


def demo_model() -> tuple[torch.nn.Module, str]:
    """The trained demo checkpoint when it is there, else the demo architecture with realistic random weights."""
    from models.digits import DEMO_CHECKPOINT
    from models.randomize import realistic_
    from models.registry import an_resnet_demo

    if DEMO_CHECKPOINT.is_file():
        from an_deploy.checkpoint import load_model

        return load_model(DEMO_CHECKPOINT, "an_resnet_demo").model.eval(), str(DEMO_CHECKPOINT.name)
    return realistic_(an_resnet_demo(), seed=0), "an_resnet_demo (random realistic weights; no checkpoint)"


def parity_markdown(report: ParityReport) -> str:
    lines = [
        f"### Parity: {report.config['model']}, batch {report.config['batch']} vs PyTorch float64",
        "",
        "Pass rule `|out - ref| <= atol + rtol * |ref|`.",
        "",
        "| row | max abs | max rel | p99 abs | cosine | top-1 agree | atol | rtol | result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in report.results:
        s = r["stats"]
        top1 = f"{s['top1_agreement']:.4f}" if s["top1_agreement"] is not None else "n/a"
        lines.append(
            f"| {r['name']} | {s['max_abs']:.2e} | {s['max_rel']:.2e} | {s['p99_abs']:.2e} | {s['cosine']:.8f} | "
            f"{top1} | {s['atol']:g} | {s['rtol']:g} | {'pass' if s['passed'] else '**FAIL**'} |"
        )
    return "\n".join(lines) + "\n"


def run(out_dir: Path, iters: int = 30, warmup: int = 5) -> bool:
    """Write the reports under ``out_dir`` and print them; returns whether parity passed."""
    from an_deploy.export.functions import inline_an_functions
    from an_deploy.export.torch_export import export_model
    from an_deploy.export.validate import realistic_inputs
    from an_deploy.parity.compare import compare
    from an_deploy.parity.tolerances import tolerance_for
    from an_deploy.runtime.ort_runner import OrtRunner
    from an_deploy.runtime.torch_runner import TorchRunner
    from models.registry import DEMO_INPUT_SHAPE

    start = time.perf_counter()
    model, label = demo_model()
    _log(f"exporting {label}")
    function = export_model(model, DEMO_INPUT_SHAPE, form="function").model
    decomposed = inline_an_functions(function)
    rows: list[tuple[Runner, str]] = [
        (TorchRunner(model, torch.float32), "torch"),
        (OrtRunner(function, name="ort-function"), "ort"),
        (OrtRunner(decomposed, name="ort-decomposed"), "ort"),
    ]
    x = realistic_inputs(DEMO_INPUT_SHAPE, PARITY_BATCH)
    reference = TorchRunner(model, torch.float64).run(x)
    results = []
    for runner, family in rows:
        stats = compare(runner.run(x), reference, tolerance_for(family, "fp32"), classifier=True)
        results.append({"name": runner.name, "family": family, "precision": "fp32", "stats": stats.as_dict()})
    passed = all(r["stats"]["passed"] for r in results)
    env = Environment.collect()
    config = {"model": label, "batch": int(x.shape[0]), "input_shape": list(x.shape), "reference": "torch-fp64"}
    summary = {"passed": passed, "rows": len(results), "rows_passed": sum(r["stats"]["passed"] for r in results)}
    parity = ParityReport(config, env, results, summary, tool_version=env.packages.get("an-deploy"))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "parity.json").write_text(json.dumps(asdict(parity), indent=2) + "\n")
    parity_md = parity_markdown(parity)
    (out_dir / "parity.md").write_text(parity_md)

    _log("timing (reported, not asserted)")
    xl = x[:LATENCY_BATCH].contiguous()
    with tempfile.TemporaryDirectory(prefix="an-deploy-ci-") as work:
        bench_rows = default_rows(
            model, function, tuple(xl.shape), Path(work), compile_row=False, decomposed=decomposed
        )
        latency = measure(bench_rows, xl, warmup=warmup, iters=iters, log=_log)
    config_l = BenchConfig(label, list(xl.shape), warmup, iters, 0.0, [r.name for r in bench_rows])
    bench = BenchReport(config_l, env, latency)
    write_report(bench, out_dir)
    print(parity_md)
    print((out_dir / "latency.md").read_text())
    verdict = "PASSED" if passed else "FAILED"
    print(
        f"{verdict} | parity {summary['rows_passed']}/{summary['rows']} rows within tolerance | latency reported "
        f"({bench.summary['rows_ok']} rows timed, {bench.summary['rows_skipped']} skipped) | reports in {out_dir} "
        f"| {time.perf_counter() - start:.0f} s"
    )
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("reports"), help="report folder (default: reports)")
    parser.add_argument("--iters", type=int, default=30, help="timed calls per latency row (default: 30)")
    args = parser.parse_args(argv)
    return 0 if run(args.out, iters=args.iters) else 1


if __name__ == "__main__":
    sys.exit(main())
