"""The parity and latency report CI produces on every run, for the demo model on CPU.

    python scripts/ci_report.py [--out reports]

Parity (asserted: exit 1 on failure): ``an_deploy.parity.matrix.run_parity`` on the demo (PyTorch fp32, ONNX
Runtime on the function and the decomposed form, vs the float64 reference and each other). Latency
(reported only, never asserted, so CI cannot flake on a busy machine): the same rows plus the TensorRT rows,
skipped with the reason where TensorRT or CUDA is missing. Writes ``parity.{json,md}`` and
``latency.{json,md,png}`` and prints both Markdown tables; the last line is ``PASSED | ...`` or ``FAILED | ...``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import onnx
import torch

from an_deploy.accuracy.inputs import realistic_inputs
from an_deploy.bench.report import BenchConfig, BenchReport, Environment, write_report
from an_deploy.bench.rows import default_rows
from an_deploy.bench.suite import measure
from an_deploy.checkpoint import load_model
from an_deploy.checkpoint_file import save_checkpoint
from an_deploy.export.torch_export import export_model
from an_deploy.files import check_output_dir
from an_deploy.models.digits import DEMO_CHECKPOINT
from an_deploy.models.registry import DEMO_INPUT_SHAPE
from an_deploy.parity.matrix import run_parity

LATENCY_BATCH = 8


def _log(message: str) -> None:
    print(f"[ci-report] {message}", file=sys.stderr, flush=True)


def demo_model() -> tuple[torch.nn.Module, str]:
    """The trained demo checkpoint shipped in models/demo/ and its file name."""
    return load_model(DEMO_CHECKPOINT, "an_resnet_demo").model.eval(), str(DEMO_CHECKPOINT.name)


def run(out_dir: Path, iters: int = 30, warmup: int = 5) -> bool:
    """Write the reports under ``out_dir`` and print them; returns whether parity passed."""
    start = time.perf_counter()
    check_output_dir(out_dir, what="--out folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    model, label = demo_model()
    with tempfile.TemporaryDirectory(prefix="an-deploy-ci-") as tmp:
        work = Path(tmp)
        checkpoint = work / "an_resnet_demo.pt"
        save_checkpoint(model, checkpoint, "an_resnet_demo")  # names its attention mode, so parity loads it as is
        _log(f"exporting {label} (function form)")
        function = export_model(model, DEMO_INPUT_SHAPE, form="function").model
        onnx_path = work / "an_resnet_demo.onnx"
        onnx.save(function, onnx_path)
        parity = run_parity(checkpoint, onnx_path, arch="an_resnet_demo", progress=_log)
        parity.config["model"] = label
        parity_md = parity.write(out_dir / "parity.json").read_text()

        _log("timing (reported, not asserted)")
        x = realistic_inputs(DEMO_INPUT_SHAPE, LATENCY_BATCH)
        rows = default_rows(model, function, tuple(x.shape), work, compile_row=False)
        latency = measure(rows, x, warmup=warmup, iters=iters, log=_log)
    bench = BenchReport(
        BenchConfig(label, list(x.shape), warmup, iters, 0.0, [r.name for r in rows]), Environment.collect(), latency
    )
    write_report(bench, out_dir)
    print(parity_md)
    print((out_dir / "latency.md").read_text())
    verdict = parity.verdict()
    print(
        f"{verdict} | latency reported, not asserted ({bench.summary['rows_ok']} rows timed, "
        f"{bench.summary['rows_skipped']} skipped) | reports in {out_dir} | {time.perf_counter() - start:.0f} s"
    )
    return parity.passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("reports"), help="report folder (default: reports)")
    parser.add_argument("--iters", type=int, default=30, help="timed calls per latency row (default: 30)")
    args = parser.parse_args(argv)
    return 0 if run(args.out, iters=args.iters) else 1


if __name__ == "__main__":
    sys.exit(main())
