"""CPU benchmark (not a test): AN-ResNet-50, ONNX Runtime (function form) vs PyTorch eager, batch 1 and 8.

Both backends are timed in the same run, interleaved round by round (so machine load hits both alike), with
``time.perf_counter`` after warm-up; medians, p90 and the ORT/PyTorch ratio are reported, plus the export
wall time. Results: ``benchmarks/results/export_cpu.json`` and ``.md`` with the machine described.

    python benchmarks/bench_export_cpu.py [--iters 20] [--warmup 3] [--size 224]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from an_deploy import __version__  # noqa: E402
from an_deploy.export.torch_export import export_model  # noqa: E402
from an_deploy.export.validate import realistic_inputs  # noqa: E402
from an_deploy.models.randomize import calibrated_  # noqa: E402
from an_deploy.models.registry import an_resnet50  # noqa: E402
from an_deploy.parity.report import environment  # noqa: E402
from an_deploy.runtime.ort_runner import OrtRunner  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"


def _p90(xs: list[float]) -> float:
    return sorted(xs)[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args()

    calibration = realistic_inputs((8, 3, args.size, args.size), 8, seed=1)
    model = calibrated_(an_resnet50(), calibration, seed=0)
    start = time.perf_counter()
    exported = export_model(model, (1, 3, args.size, args.size), dynamic_batch=True)
    export_s = time.perf_counter() - start
    ort_runner = OrtRunner(exported.model, name="ort-function", threads=torch.get_num_threads())
    rows = []
    for batch in args.batches:
        x = torch.randn(batch, 3, args.size, args.size, generator=torch.Generator().manual_seed(batch))
        times: dict[str, list[float]] = {"torch-eager": [], "ort-function": []}
        with torch.inference_mode():
            for i in range(args.warmup + args.iters):
                for name in times:
                    t0 = time.perf_counter()
                    if name == "torch-eager":
                        model(x)
                    else:
                        ort_runner.run(x)
                    if i >= args.warmup:
                        times[name].append((time.perf_counter() - t0) * 1e3)
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append({"batch": batch, "median_ms": med, "p90_ms": {k: _p90(v) for k, v in times.items()},
                     "ort_over_torch": med["ort-function"] / med["torch-eager"], "iters": args.iters})
        print(f"batch {batch}: torch {med['torch-eager']:.1f} ms, ORT {med['ort-function']:.1f} ms, "
              f"ratio {rows[-1]['ort_over_torch']:.2f}", flush=True)
    env = environment()
    env["torch_threads"] = torch.get_num_threads()
    data = {"schema_version": 1, "tool": {"name": "an_deploy", "version": __version__}, "environment": env,
            "config": {"model": "an_resnet50 (realistic random weights, batch statistics calibrated)",
                       "input": f"Nx3x{args.size}x{args.size}",
                       "warmup": args.warmup, "iters": args.iters, "timing": "perf_counter, interleaved rounds"},
            "export_seconds": export_s, "results": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "export_cpu.json").write_text(json.dumps(data, indent=2) + "\n")
    lines = ["# AN-ResNet-50 on CPU: ONNX Runtime (function form) vs PyTorch eager", "",
             f"Machine: {env['cpu']}, {env['cpu_cores']} cores ({env['torch_threads']} threads); "
             + ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v),
             f"Export wall time: {export_s:.1f} s. Timing: {data['config']['timing']}, {args.warmup} warm-up, "
             f"{args.iters} timed iterations.", "",
             "| batch | torch median ms | ORT median ms | torch p90 | ORT p90 | ORT / torch |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        m, p = r["median_ms"], r["p90_ms"]
        lines.append(f"| {r['batch']} | {m['torch-eager']:.1f} | {m['ort-function']:.1f} | {p['torch-eager']:.1f} "
                     f"| {p['ort-function']:.1f} | {r['ort_over_torch']:.2f} |")
    (RESULTS / "export_cpu.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
