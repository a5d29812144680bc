"""GPU benchmark (not a test): AN-ResNet-50 and its BatchNorm twin end to end in PyTorch.

For each network, dtype (fp32, fp16) and batch (1, 32), the variants

* ``eager``: the model as it is (AN layers as PyTorch ops);
* ``compile``: ``torch.compile`` (inductor, no CUDA graphs);
* ``compile_op``: ``torch.compile`` of the model whose AN layers call ``torch.ops.an_deploy.attentive_norm``
  (the plugin's fused CUDA kernel; AN networks only);

each also with CUDA graphs (``+graph``: a captured ``torch.cuda.CUDAGraph`` for eager, ``mode="reduce-overhead"``
for the compiled ones). Every row is first checked against the float64 model on the same input: its max abs error
must be at most 3x that of eager PyTorch in the same dtype plus an atol for the dtype (1e-5 fp32, 1e-3 fp16); a
row that fails is reported and not timed. Timing: CUDA events around each call after warm-up, median and p90 of
``--iters`` calls; per-image latency = median / batch, throughput = batch / median. AN overhead = AN row / BN twin
row of the same variant, dtype and batch, minus 1. Results: ``benchmarks/results/network_gpu_<device>.json`` and
``.md``; the last stdout line is ``PASSED | ...`` or ``FAILED | ...``.

    python benchmarks/bench_network_gpu.py [--batches 1 32] [--dtypes fp32 fp16] [--iters 50] [--warmup 10]
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from common import RESULTS, device_slug, document, environment, median, p90, run_script, write_results  # noqa: E402

from an_deploy.accuracy.inputs import realistic_inputs  # noqa: E402
from an_deploy.bench.timing import time_cuda  # noqa: E402
from an_deploy.models.randomize import calibrated_  # noqa: E402
from an_deploy.models.registry import an_resnet50, resnet50  # noqa: E402
from an_deploy.torch_op import swap_an_layers  # noqa: E402

DTYPES = {"fp32": torch.float32, "fp16": torch.float16}
ATOL = {"fp32": 1e-5, "fp16": 1e-3}
BASE_VARIANTS = ("eager", "compile", "compile_op")
NETWORKS = ("an_resnet50", "resnet50")


@dataclass
class Row:
    network: str
    variant: str
    dtype: str
    batch: int
    err_vs_float64: float | None  # None: the variant did not run
    bound: float
    checked: bool
    median_ms: float | None = None
    p90_ms: float | None = None
    per_image_ms: float | None = None
    images_per_s: float | None = None
    an_overhead: float | None = None  # AN row / BN twin row - 1 (AN rows only)
    error: str | None = None


@dataclass
class Report:
    config: dict[str, Any]
    environment: dict[str, Any]
    rows: list[Row] = field(default_factory=list)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; ``--variants`` defaults to every base variant with and without CUDA graphs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--dtypes", nargs="+", choices=sorted(DTYPES), default=["fp32", "fp16"])
    parser.add_argument("--variants", nargs="+", default=None,
                        help=f"among {', '.join(all_variants())} (default: all)")
    parser.add_argument("--size", type=int, default=224, help="input height and width")
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.variants = args.variants or all_variants()
    unknown = sorted(set(args.variants) - set(all_variants()))
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; choose among {', '.join(all_variants())}")
    if any(b < 1 for b in args.batches) or args.iters < 1 or args.warmup < 0:
        parser.error("batches and --iters must be positive, --warmup non-negative")
    return args


def all_variants() -> list[str]:
    """Every base variant, without and with CUDA graphs."""
    return [v + suffix for v in BASE_VARIANTS for suffix in ("", "+graph")]


def applies(network: str, variant: str) -> bool:
    """The fused op exists only in AN networks."""
    return not (variant.startswith("compile_op") and not network.startswith("an_"))


def check_bound(eager_err: float, dtype: str) -> float:
    """The most a variant may be off float64: 3x eager PyTorch's own error in that dtype plus the dtype's atol."""
    return 3 * eager_err + ATOL[dtype]


def add_overheads(rows: list[Row]) -> None:
    """Fill ``an_overhead`` of each timed AN row from the BN twin's row with the same variant, dtype and batch."""
    twins = {(r.variant, r.dtype, r.batch): r for r in rows if r.network == "resnet50" and r.median_ms}
    for r in rows:
        twin = twins.get((r.variant, r.dtype, r.batch))
        if r.network == "an_resnet50" and r.median_ms and twin is not None and twin.median_ms:
            r.an_overhead = r.median_ms / twin.median_ms - 1


def render_markdown(report: Report) -> str:
    """The Markdown table of a report."""
    env, cfg = report.environment, report.config
    lines = [f"# AN-ResNet-50 vs its BN twin in PyTorch on {env.get('gpu')}", "",
             f"torch {env['packages'].get('torch')}; input {cfg['input']}; {cfg['timing']}.",
             f"Check before timing: {cfg['check']}.", "",
             "| network | variant | dtype | batch | err vs float64 | bound | median ms | p90 ms | ms / image | "
             "images / s | AN overhead |", "|---|---|---|---|---|---|---|---|---|---|---|"]

    def fmt(v: float | None, spec: str) -> str:
        return "-" if v is None else format(v, spec)

    for r in report.rows:
        status = "" if r.checked else " (FAILED check)"
        lines.append(f"| {r.network} | {r.variant}{status} | {r.dtype} | {r.batch} | {fmt(r.err_vs_float64, '.2e')} | "
                     f"{r.bound:.2e} | {fmt(r.median_ms, '.3f')} | {fmt(r.p90_ms, '.3f')} | "
                     f"{fmt(r.per_image_ms, '.4f')} | {fmt(r.images_per_s, '.0f')} | "
                     f"{'-' if r.an_overhead is None else f'{100 * r.an_overhead:+.1f}%'} |")
    errors = [f"- {r.network} {r.variant} {r.dtype} batch {r.batch}: {r.error}" for r in report.rows if r.error]
    return "\n".join(lines + ([""] + errors if errors else [])) + "\n"


def summary_line(report: Report) -> str:
    """The last stdout line: ``PASSED``/``FAILED``, rows, failures and the fused op's AN overhead range."""
    failed = [r for r in report.rows if not r.checked or r.error]
    overheads = [r.an_overhead for r in report.rows if r.an_overhead is not None and r.variant.startswith("compile_op")]
    tail = f"AN overhead with the fused op {min(overheads):+.1%}..{max(overheads):+.1%}" if overheads else "no op rows"
    return f"{'FAILED' if failed else 'PASSED'} | {len(report.rows)} rows, {len(failed)} failed | {tail}"


def _graphed(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> Callable[[], torch.Tensor]:
    """Capture ``fn(x)`` in a CUDA graph (after warm-up on a side stream); the result replays it."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            fn(x)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = fn(x)

    def replay() -> torch.Tensor:
        graph.replay()
        return out

    return replay


def _runner(model: nn.Module, variant: str, x: torch.Tensor) -> Callable[[], torch.Tensor]:
    base, graph = variant.removesuffix("+graph"), variant.endswith("+graph")
    if base == "compile_op":
        model = swap_an_layers(model)[0]
    if base == "eager":
        return _graphed(model, x) if graph else (lambda: model(x))
    compiled = torch.compile(model, mode="reduce-overhead" if graph else None, fullgraph=True)
    return lambda: compiled(x)


def bench_network(network: str, model: nn.Module, args: argparse.Namespace, report: Report) -> None:
    """Every dtype x batch x variant of one network: check against float64, then time."""
    model64 = copy.deepcopy(model).double()
    for dtype in args.dtypes:
        typed = copy.deepcopy(model).to(DTYPES[dtype])
        for batch in args.batches:
            x32 = realistic_inputs((batch, 3, args.size, args.size), batch, seed=batch).cuda()
            x = x32.to(DTYPES[dtype])
            with torch.no_grad():
                ref = model64(x.double())
                eager_err = float((typed(x).double() - ref).abs().max())
                for variant in (v for v in args.variants if applies(network, v)):
                    bound = check_bound(eager_err, dtype)
                    try:
                        run = _runner(typed, variant, x)
                        err = float((run().double() - ref).abs().max())
                    except Exception as e:  # a variant that cannot run is a reported row, not a crash
                        report.rows.append(Row(network, variant, dtype, batch, None, bound, False,
                                               error=f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"))
                        continue
                    row = Row(network, variant, dtype, batch, err, bound, err <= bound)
                    if row.checked:
                        times = time_cuda(run, warmup=args.warmup, iters=args.iters)
                        row.median_ms = median(times)
                        row.p90_ms = p90(times)
                        row.per_image_ms = row.median_ms / batch
                        row.images_per_s = 1e3 * batch / row.median_ms
                    report.rows.append(row)
                    print(f"{network} {variant} {dtype} b{batch}: err {err:.2e} (bound {bound:.2e}) "
                          f"{'-' if row.median_ms is None else f'{row.median_ms:.3f} ms'}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Check and time every network, variant, dtype and batch; write the results; 0 when all passed."""
    args = parse_args(argv)
    if not torch.cuda.is_available():
        print("error: needs a CUDA device", file=sys.stderr)
        return 1
    calibration = realistic_inputs((16, 3, args.size, args.size), 16, seed=1)
    models = {"an_resnet50": calibrated_(an_resnet50(), calibration, seed=0),
              "resnet50": calibrated_(resnet50(), calibration, seed=0)}
    env = environment()
    report = Report(config={"input": f"Nx3x{args.size}x{args.size}", "batches": args.batches, "dtypes": args.dtypes,
                            "variants": args.variants, "iters": args.iters, "warmup": args.warmup,
                            "timing": f"CUDA events per call, {args.warmup} warm-up, median/p90 of {args.iters}",
                            "check": "max abs error vs the float64 model <= 3 x eager PyTorch's (same dtype) + "
                                     f"atol {ATOL}"},
                    environment=env)
    for network in NETWORKS:
        bench_network(network, models[network].cuda().eval(), args, report)
    add_overheads(report.rows)
    data = document(1, report.environment, config=report.config, rows=[asdict(r) for r in report.rows],
                    summary=summary_line(report))
    write_results(args.out_dir / f"network_gpu_{device_slug(env['gpu'] or 'gpu')}", data, render_markdown(report))
    print(data["summary"])
    return 0 if data["summary"].startswith("PASSED") else 1


if __name__ == "__main__":
    sys.exit(run_script(main))
