"""Latency of the plugin's fused CUDA kernel vs the PyTorch AN layer (eager and torch.compile) vs a copy floor.

Usage (on a machine with a CUDA GPU and the plugin built, see plugins/README.md)::

    python benchmarks/bench_plugin_kernel.py [--dtype float16] [--out benchmarks/results]

The layer is the one of the published AN-ResNets (MixtureBatchNorm2d, attention mode 2) with realistic weights;
the plugin runs on the tensors that ``an_deploy.fold`` makes of it, through the library's C entry point, on
linear NCHW and on channels-last (kHWC8) input. GPU
time with CUDA events: per method, batches of back-to-back calls (inputs rotated over enough copies to exceed
L2) after warm-up, median of the per-call times of all batches. The floor is 3 * bytes(x) / copy bandwidth (the
fused op reads x twice and writes y once), the bandwidth measured once on a 1 GiB device-to-device copy.
Writes JSON and Markdown under --out, named after the device.
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from common import RESULTS, device_slug, environment, median, p10, p90, ratio, run_script, write_results  # noqa: E402

from an_deploy.fold import fold  # noqa: E402
from an_deploy.models.attentive_norm import MixtureBatchNorm2d  # noqa: E402
from an_deploy.models.randomize import realistic_  # noqa: E402
from an_deploy.plugin import kernel_api  # noqa: E402
from an_deploy.reference import an_layer_reference  # noqa: E402

SCHEMA_VERSION = 4  # 3: per-kernel breakdown at the first shape; 4: environment, p10/p90 linearly interpolated
# (N, C, H, W, K): the target shape first (AN-ResNet-50's first-stage layer at batch 32), the batch sweep at that
# width, then AN-ResNet-50's bn2 layers at 224x224 with their K (the published K = 10, 10, 20, 20 per stage).
SHAPES = [(32, 256, 56, 56, 10), (1, 256, 56, 56, 10), (8, 256, 56, 56, 10),
          (32, 64, 56, 56, 10), (32, 128, 28, 28, 10), (32, 256, 14, 14, 20), (32, 512, 7, 7, 20)]
TARGETS = {"x_floor_max": 1.3, "vs_eager_min": 3.0, "vs_compile_min": 1.5}
METHODS = ("plugin_kernel", "plugin_kernel_nhwc8", "torch_eager_layer", "torch_compile_layer")


@dataclass
class Row:
    shape: tuple[int, int, int, int]
    k: int
    method: str
    median_us: float
    p10_us: float
    p90_us: float
    floor_us: float
    x_floor: float
    max_rel_err: float  # max |out - ref| / max |ref| against the float64 reference of the layer


@dataclass
class Report:
    schema_version: int
    device: str
    cuda: str
    torch_version: str
    dtype: str
    copy_gbps: float
    timing: str
    rows: list[Row] = field(default_factory=list)
    # per-kernel device us per call of the plugin at the first shape, by layout (torch.profiler)
    breakdown: dict[str, dict[str, float]] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)  # common.environment(): CPU, GPU, driver, packages


def per_call_us(fn: Callable[[int], object], batches: int, per_batch: int, warmup: int = 10) -> list[float]:
    """Per-call microseconds of `batches` event-timed batches of `per_batch` back-to-back calls."""
    for i in range(warmup):
        fn(i)
    torch.cuda.synchronize()
    out, i = [], 0
    for _ in range(batches):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(per_batch):
            fn(i)
            i += 1
        end.record()
        end.synchronize()
        out.append(start.elapsed_time(end) * 1e3 / per_batch)
    return out


def copy_bandwidth() -> float:
    """Bytes per second of a 1 GiB device-to-device copy, counting bytes read plus bytes written."""
    src = torch.randn(1 << 28, device="cuda")
    dst = torch.empty_like(src)
    times = per_call_us(lambda i: dst.copy_(src), batches=20, per_batch=1, warmup=3)
    return 2 * src.numel() * src.element_size() / (median(times) * 1e-6)


def rotation_copies(nbytes: int) -> int:
    """How many copies of an input of `nbytes` to rotate over so that together they exceed 4x L2."""
    return max(2, -(-4 * torch.cuda.get_device_properties(0).L2_cache_size // nbytes))


def random_inputs(n: int, c: int, h: int, w: int, dtype: torch.dtype, copies: int) -> list[torch.Tensor]:
    """`copies` NCHW inputs with per-channel offsets, the same for the same arguments."""
    g = torch.Generator(device="cuda").manual_seed(0)
    offset = 0.5 * torch.randn(1, c, 1, 1, device="cuda", generator=g)
    return [(offset + 1.5 * torch.randn(n, c, h, w, device="cuda", generator=g)).to(dtype) for _ in range(copies)]


def make_layer(c: int, k: int, dtype: torch.dtype) -> torch.nn.Module:
    """A published-configuration AN layer (attention mode 2) with realistic weights, on the GPU in ``dtype``."""
    return realistic_(MixtureBatchNorm2d(c, k, attention_mode=2), seed=c + k).cuda().to(dtype)


def plugin_calls(lib: kernel_api.KernelLibrary, layer: torch.nn.Module, xs: list[torch.Tensor],
                 ys: list[torch.Tensor], layout: int) -> Callable[[int], object]:
    """One prepared ctypes call per input copy, so that Python adds as little as it can per launch."""
    folded = fold(layer.float().cpu())
    layer.cuda().to(xs[0].dtype)
    params = {name: t.cuda() for name, t in folded.to(torch.float32).items()}
    attrs = kernel_api.Attributes.from_mapping(folded.attrs)
    ws = torch.empty(lib.workspace_size(xs[0].shape[0], attrs), dtype=torch.uint8, device="cuda")
    calls = [lib.bind(x, y, params, ws, attrs, layout) for x, y in zip(xs, ys, strict=True)]

    def call(i: int) -> int:
        rc = calls[i % len(calls)]()
        if rc != kernel_api.STATUS_SUCCESS:
            raise RuntimeError(f"an_attentive_norm_forward failed ({rc}): {lib.last_error()}")
        return rc

    return call


def bench_shape(shape: tuple[int, int, int, int, int], dtype: torch.dtype, bandwidth: float, batches: int,
                lib: kernel_api.KernelLibrary, breakdown: dict[str, dict[str, float]] | None = None) -> list[Row]:
    """Check every method against the float64 layer, then time them at one (N, C, H, W, K)."""
    n, c, h, w, k = shape
    nbytes = n * c * h * w * torch.empty(0, dtype=dtype).element_size()
    copies = rotation_copies(nbytes)
    xs = random_inputs(n, c, h, w, dtype, copies)
    ys = [torch.full_like(x, float("nan")) for x in xs]
    xs_cl = [x.contiguous(memory_format=torch.channels_last) for x in xs]  # C % 8 == 0: kHWC8 == channels last
    ys_cl = [torch.full_like(x, float("nan")) for x in xs_cl]
    layer = make_layer(c, k, dtype)
    compiled = torch.compile(layer, dynamic=False)
    methods: dict[str, Callable[[int], object]] = {
        "plugin_kernel": plugin_calls(lib, layer, xs, ys, kernel_api.LAYOUT_NCHW),
        "plugin_kernel_nhwc8": plugin_calls(lib, layer, xs_cl, ys_cl, kernel_api.LAYOUT_NHWC8),
        "torch_eager_layer": lambda i: layer(xs[i % copies]),
        "torch_compile_layer": lambda i: compiled(xs[i % copies]),
    }
    with torch.no_grad():
        ref = an_layer_reference(layer, xs[0], upcast=True)
        outputs = {"plugin_kernel": lambda: (methods["plugin_kernel"](0), ys[0])[1],
                   "plugin_kernel_nhwc8": lambda: (methods["plugin_kernel_nhwc8"](0), ys_cl[0])[1],
                   "torch_eager_layer": lambda: layer(xs[0]), "torch_compile_layer": lambda: compiled(xs[0])}
        errors = {m: ((outputs[m]().double() - ref).abs().max() / ref.abs().max()).item() for m in METHODS}
        per_batch = max(1, min(50, copies))
        times = {m: per_call_us(fn, batches, per_batch) for m, fn in methods.items()}
        if breakdown is not None:
            for m in ("plugin_kernel", "plugin_kernel_nhwc8"):
                breakdown[m] = kernel_breakdown(methods[m])
    floor_us = 3 * nbytes / bandwidth * 1e6
    rows = []
    for m in METHODS:
        med = median(times[m])
        rows.append(Row((n, c, h, w), k, m, med, p10(times[m]), p90(times[m]), floor_us, med / floor_us, errors[m]))
    return rows


def kernel_breakdown(call: Callable[[int], object], calls: int = 20) -> dict[str, float]:
    """Device microseconds per call of each CUDA kernel ``call`` launches (torch.profiler sees the plugin
    library's kernels too: CUPTI records every launch in the process). Empty if the profiler is unavailable."""
    from torch.profiler import ProfilerActivity, profile

    try:
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for i in range(calls):
                call(i)
            torch.cuda.synchronize()
        out: dict[str, float] = {}
        for event in prof.key_averages():
            total = getattr(event, "device_time_total", None)
            if total is None:
                total = getattr(event, "cuda_time_total", 0.0)
            if total:
                name = event.key.split("(")[0].split("::")[-1].split("<")[0]
                out[name] = out.get(name, 0.0) + total / calls
        return out
    except Exception as e:  # the breakdown is diagnostic: never lose the timings for it
        print(f"  kernel breakdown unavailable: {type(e).__name__}: {e}", flush=True)
        return {}


def render_markdown(report: Report) -> str:
    """The Markdown table of a report, with speed-ups relative to eager and compile per shape."""
    lines = [f"# AttentiveNorm plugin kernel vs PyTorch on {report.device}", "",
             f"{report.dtype}; CUDA {report.cuda}, torch {report.torch_version}; copy bandwidth "
             f"{report.copy_gbps:.0f} GB/s (read + write); {report.timing}", "",
             "| N, C, H, W | K | method | median us | p10-p90 us | x floor | vs this: eager | vs this: compile "
             "| max rel err vs fp64 |", "|---|---|---|---|---|---|---|---|---|"]
    by_shape: dict[tuple[int, ...], dict[str, Row]] = {}
    for r in report.rows:
        by_shape.setdefault(tuple(r.shape), {})[r.method] = r
    for shape, rows in by_shape.items():
        for m, r in rows.items():
            eager = ratio(rows["torch_eager_layer"].median_us, r.median_us)
            comp = ratio(rows["torch_compile_layer"].median_us, r.median_us)
            lines.append(f"| {', '.join(map(str, shape))} | {r.k} | {m} | {r.median_us:.1f} | "
                         f"{r.p10_us:.1f}-{r.p90_us:.1f} | {r.x_floor:.2f} | {eager:.2f}x | {comp:.2f}x | "
                         f"{r.max_rel_err:.2e} |")
    for method, kernels in report.breakdown.items():
        parts = ", ".join(f"{k} {v:.1f} us" for k, v in sorted(kernels.items(), key=lambda kv: -kv[1]))
        lines += ["", f"Kernels of {method} at {list(SHAPES[0][:4])} (torch.profiler, per call): {parts or 'n/a'}"]
    return "\n".join(lines) + "\n"


def target_lines(report: Report) -> list[str]:
    """Each target at the first shape, with its measured value and whether it was met."""
    first = [r for r in report.rows if tuple(r.shape) == SHAPES[0][:4]]
    got = {r.method: r for r in first}
    plug = got["plugin_kernel"]
    checks = [
        ("plugin x floor", plug.x_floor, "<=", TARGETS["x_floor_max"]),
        ("eager / plugin", ratio(got["torch_eager_layer"].median_us, plug.median_us), ">=", TARGETS["vs_eager_min"]),
        ("compile / plugin", ratio(got["torch_compile_layer"].median_us, plug.median_us), ">=",
         TARGETS["vs_compile_min"]),
    ]
    out = []
    for name, value, op, target in checks:
        met = value <= target if op == "<=" else value >= target
        out.append(f"target at {SHAPES[0][:4]} {report.dtype}: {name} = {value:.2f} ({op} {target}): "
                   f"{'met' if met else 'MISSED'}")
    return out


def main() -> int:
    """Measure the copy bandwidth, then every shape; write the results and print the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=30, help="event-timed batches per method and shape")
    parser.add_argument("--dtype", choices=["float16", "float32"], default="float16")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("FAILED | needs a CUDA device", file=sys.stderr)
        return 1
    lib = kernel_api.KernelLibrary()
    dtype = getattr(torch, args.dtype)
    name = torch.cuda.get_device_name()
    bandwidth = copy_bandwidth()
    report = Report(SCHEMA_VERSION, name, torch.version.cuda or "", torch.__version__, args.dtype, bandwidth / 1e9,
                    f"CUDA events, {args.batches} batches of back-to-back calls per method after warm-up, "
                    "inputs rotated over >= 4x L2", environment=environment())
    for i, shape in enumerate(SHAPES):
        report.rows.extend(bench_shape(shape, dtype, bandwidth, args.batches, lib,
                                       report.breakdown if i == 0 else None))
        print(f"  measured {shape}", flush=True)
    summary = target_lines(report)
    write_results(args.out / f"plugin_kernel_{device_slug(name)}_{args.dtype}",
                  asdict(report) | {"host": platform.node(), "targets": summary},
                  render_markdown(report) + "\n" + "\n".join(f"- {s}" for s in summary))
    print(render_markdown(report))
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
