"""CPU benchmark (not a test): AN-ResNet-50 export + validation time, and ONNX Runtime (function form) vs PyTorch
eager latency at batch 1 and 8.

Export + validation is what ``an-deploy export`` does after loading the checkpoint (``export_module``: fold and
trace, onnx.checker + shape inference, ORT vs the float64 model with the default rule at two batch sizes, atomic
write), repeated ``--repeats`` times; wall time (``perf_counter``) and this process's CPU time (``process_time``)
are reported with the machine's load average, since the machine is shared. Latency: both backends timed in the
same run, interleaved round by round (so machine load hits both alike), after warm-up; medians, p90 and the
ORT/PyTorch ratio. Results: ``export_cpu.json`` and ``.md`` in ``--out`` (default ``benchmarks/results``), with the
machine and the code's revision described.

    python benchmarks/bench_export_cpu.py [--iters 20] [--warmup 3] [--size 224] [--repeats 3] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from common import (  # noqa: E402
    RESULTS,
    document,
    environment,
    machine_line,
    median,
    p90,
    ratio,
    run_script,
    take_turns,
    wall_ms,
    write_results,
)

from an_deploy.accuracy.inputs import realistic_inputs  # noqa: E402
from an_deploy.accuracy.tolerances import RelativeRule  # noqa: E402
from an_deploy.export.dynamo_export import DEFAULT_EXPORTER, EXPORTERS  # noqa: E402
from an_deploy.export.pipeline import export_module  # noqa: E402
from an_deploy.export.torch_export import export_model  # noqa: E402
from an_deploy.models.randomize import calibrated_  # noqa: E402
from an_deploy.models.registry import an_resnet50  # noqa: E402
from an_deploy.runtime.ort_runner import OrtRunner  # noqa: E402


def time_export_pipeline(model: torch.nn.Module, size: int, repeats: int, exporter: str) -> dict[str, Any]:
    """Run ``export_module`` (defaults: function form, dynamic batch, validation) ``repeats`` times."""
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            load_before = os.getloadavg()[0]
            wall, cpu = time.perf_counter(), time.process_time()
            s = export_module(model, Path(tmp) / "m.onnx", (1, 3, size, size), name="an_resnet50", exporter=exporter)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert s.validation is not None
            runs.append({"wall_s": wall, "cpu_s": cpu, "export_s": s.export_seconds,
                         "validation_s": s.validation_seconds, "batch_sizes": s.validation.batch_sizes,
                         "checks": [asdict(c) for c in s.validation.checks],
                         "load_avg_1min": [load_before, os.getloadavg()[0]]})
            print(f"{exporter} export + validation run {i}: wall {wall:.1f} s (export {s.export_seconds:.1f} s, "
                  f"validation {s.validation_seconds:.1f} s), cpu {cpu:.1f} s, load {load_before:.1f}", flush=True)
    return {"runs": runs, "median_wall_s": median([r["wall_s"] for r in runs]),
            "min_wall_s": min(r["wall_s"] for r in runs), "median_cpu_s": median([r["cpu_s"] for r in runs]),
            "rule": RelativeRule().describe(), "exporter": exporter}


def time_backends(model: torch.nn.Module, ort_runner: OrtRunner, x: torch.Tensor, iters: int, warmup: int
                  ) -> dict[str, list[float]]:
    """Per-call milliseconds of PyTorch eager and ONNX Runtime on ``x``, taking turns call by call."""
    with torch.inference_mode():
        calls = {"torch-eager": wall_ms(lambda: model(x)), "ort-function": wall_ms(lambda: ort_runner.run(x))}
        return take_turns(calls, rounds=iters, warmup=warmup)


def markdown(data: dict[str, Any]) -> str:
    """The Markdown rendering of the results (also of results files written before this version)."""
    cfg, pipelines = data["config"], data["export_and_validation"]
    lines = ["# AN-ResNet-50 on CPU: export + validation, and ONNX Runtime (function form) vs PyTorch eager", "",
             machine_line(data["environment"]),
             "",
             f"## Export + validation (`an-deploy export` after loading; input {cfg['input'].replace('N', '1', 1)})",
             "",
             f"Rule: {pipelines[0]['rule']}. The machine is shared: 1-minute load average per run below.", "",
             "| exporter | run | wall s | export s | validation s | CPU s | per batch: max abs vs fp64 <= bound "
             "| load avg |",
             "|---|---|---|---|---|---|---|---|",
             *[f"| {p['exporter']}{' (default)' if p['exporter'] == DEFAULT_EXPORTER else ''} | {i} | "
               f"{r['wall_s']:.1f} | {r['export_s']:.1f} | {r['validation_s']:.1f} | {r['cpu_s']:.1f} | "
               + "; ".join(f"{c['size']}: {c['max_abs']:.2e} <= {c['bound']:.2e}" for c in r["checks"])
               + f" | {r['load_avg_1min'][0]:.1f} |" for p in pipelines for i, r in enumerate(p["runs"])],
             "",
             *[f"{p['exporter']}: median wall {p['median_wall_s']:.1f} s (min {p['min_wall_s']:.1f} s), CPU "
               f"{p['median_cpu_s']:.1f} s over {len(p['runs'])} runs." for p in pipelines],
             "", "## Latency", "",
             f"Export-only wall time: {data['export_seconds']:.1f} s. Timing: {cfg['timing']}, {cfg['warmup']} "
             f"warm-up, {cfg['iters']} timed iterations.", "",
             "| batch | torch median ms | ORT median ms | torch p90 | ORT p90 | ORT / torch |",
             "|---|---|---|---|---|---|"]
    for r in data["results"]:
        m, p = r["median_ms"], r["p90_ms"]
        lines.append(f"| {r['batch']} | {m['torch-eager']:.1f} | {m['ort-function']:.1f} | {p['torch-eager']:.1f} "
                     f"| {p['ort-function']:.1f} | {r['ort_over_torch']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Time export + validation per exporter, then the two backends; write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=3, help="export + validation runs per exporter")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the results (default: %(default)s)")
    args = parser.parse_args()

    calibration = realistic_inputs((8, 3, args.size, args.size), 8, seed=1)
    model = calibrated_(an_resnet50(), calibration, seed=0)
    # the default exporter first, then the other one, taking turns run by run would mix their warm-up costs
    pipelines = [time_export_pipeline(model, args.size, args.repeats, e)
                 for e in (DEFAULT_EXPORTER, *[e for e in EXPORTERS if e != DEFAULT_EXPORTER])]
    start = time.perf_counter()
    exported = export_model(model, (1, 3, args.size, args.size), dynamic_batch=True)
    export_s = time.perf_counter() - start
    ort_runner = OrtRunner(exported.model, name="ort-function", threads=torch.get_num_threads())
    rows = []
    for batch in args.batches:
        x = torch.randn(batch, 3, args.size, args.size, generator=torch.Generator().manual_seed(batch))
        times = time_backends(model, ort_runner, x, args.iters, args.warmup)
        med = {k: median(v) for k, v in times.items()}
        rows.append({"batch": batch, "median_ms": med, "p90_ms": {k: p90(v) for k, v in times.items()},
                     "ort_over_torch": ratio(med["ort-function"], med["torch-eager"]), "iters": args.iters})
        print(f"batch {batch}: torch {med['torch-eager']:.1f} ms, ORT {med['ort-function']:.1f} ms, "
              f"ratio {rows[-1]['ort_over_torch']:.2f}", flush=True)
    env = environment()
    data = document(1, env,
                    config={"model": "an_resnet50 (realistic random weights, batch statistics calibrated)",
                            "input": f"Nx3x{args.size}x{args.size}", "warmup": args.warmup, "iters": args.iters,
                            "timing": "perf_counter, interleaved rounds"},
                    export_seconds=export_s, export_and_validation=pipelines, results=rows)
    write_results(args.out / "export_cpu", data, markdown(data))


if __name__ == "__main__":
    sys.exit(run_script(main))
