"""Latency of the plugin's fused CUDA kernel vs PyTorch eager / torch.compile of fused_op vs a copy floor.

Usage (on a machine with a CUDA GPU and the plugin built, see plugins/README.md)::

    python benchmarks/bench_plugin_kernel.py [--iters 200] [--dtype float16] [--out benchmarks/results]

GPU time with CUDA events after warm-up, median/p90 of >= 100 iterations, inputs rotated over enough copies to
exceed L2. The floor is 3 * bytes(x) / copy bandwidth (the fused op reads x twice and writes y once).
Writes JSON and Markdown under --out named after the device.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from an_deploy import spec  # noqa: E402
from an_deploy.fused_op import fused_op  # noqa: E402

SCHEMA_VERSION = 1
SHAPES = [(1, 256, 56, 56), (8, 256, 56, 56), (32, 512, 28, 28), (32, 1024, 14, 14), (32, 2048, 7, 7)]


@dataclass
class Row:
    shape: tuple[int, ...]
    method: str
    median_ms: float
    p90_ms: float
    gbps: float
    ratio_to_floor: float


@dataclass
class Report:
    schema_version: int
    device: str
    driver: str
    torch_version: str
    dtype: str
    iterations: int
    timing: str
    rows: list[Row] = field(default_factory=list)


def load_binding() -> ModuleType:
    path = REPO / "plugins" / "python" / "attentive_norm_ctypes.py"
    module_spec = importlib.util.spec_from_file_location("attentive_norm_ctypes", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def time_ms(fn: Callable[[int], object], iters: int, warmup: int = 20) -> list[float]:
    """Per-iteration CUDA-event times; fn gets the iteration index (to rotate inputs)."""
    for i in range(warmup):
        fn(i)
    torch.cuda.synchronize()
    times = []
    for i in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn(i)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return times


def make_params(c: int, k: int, device: torch.device) -> tuple[dict[str, torch.Tensor], dict[str, int | float]]:
    attrs: dict[str, int | float] = {"num_channels": c, "num_affine": k, "attn_hidden": k, "activation": 1}
    shapes = spec.input_shapes(spec.resolve_attributes(attrs))
    t = {name: torch.randn(*s, device=device) * 0.1 for name, s in shapes.items()}
    t["attn_w2"] = torch.eye(k, device=device)
    t["mix_weight"] += 1.0
    t["norm_scale"] = torch.ones(c, device=device)
    return t, attrs


def bench_shape(shape: tuple[int, int, int, int], dtype: torch.dtype, iters: int, binding: ModuleType,
                lib: object) -> list[Row]:
    device = torch.device("cuda")
    nbytes = torch.empty(shape, dtype=dtype).element_size() * int(torch.tensor(shape).prod())
    l2 = torch.cuda.get_device_properties(device).L2_cache_size
    copies = max(2, -(-4 * l2 // nbytes))
    xs = [torch.randn(shape, device=device, dtype=dtype) for _ in range(copies)]
    ys = [torch.empty_like(x) for x in xs]
    t, attrs = make_params(shape[1], 10, device)
    a = binding.Attributes.from_mapping(attrs)
    ws = torch.empty(lib.workspace_size(shape[0], a), dtype=torch.uint8, device=device)
    eager = lambda x: fused_op(x, t, attrs, upcast=False)  # noqa: E731
    compiled = torch.compile(eager)
    methods: dict[str, Callable[[int], object]] = {
        "plugin_kernel": lambda i: lib.forward(xs[i % copies], ys[i % copies], t, ws, a, binding.LAYOUT_NCHW),
        "torch_eager": lambda i: eager(xs[i % copies]),
        "torch_compile": lambda i: compiled(xs[i % copies]),
        "copy": lambda i: ys[i % copies].copy_(xs[i % copies]),
    }
    times = {name: time_ms(fn, iters) for name, fn in methods.items()}
    copy_bw = 2 * nbytes / (statistics.median(times["copy"]) * 1e-3)  # read + write
    floor_ms = 3 * nbytes / copy_bw * 1e3
    rows = []
    for name, ts in times.items():
        med = statistics.median(ts)
        moved = 2 * nbytes if name == "copy" else 3 * nbytes
        rows.append(Row(shape, name, med, statistics.quantiles(ts, n=10)[-1], moved / (med * 1e-3) / 1e9,
                        med / floor_ms))
    return rows


def render_markdown(report: Report) -> str:
    lines = [f"# AttentiveNorm plugin kernel on {report.device}", "",
             f"dtype {report.dtype}, {report.iterations} iterations, {report.timing}", "",
             "| shape | method | median ms | p90 ms | GB/s | x floor |", "|---|---|---|---|---|---|"]
    lines += [f"| {list(r.shape)} | {r.method} | {r.median_ms:.4f} | {r.p90_ms:.4f} | {r.gbps:.0f} | "
              f"{r.ratio_to_floor:.2f} |" for r in report.rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=200)
    parser.add_argument("--dtype", choices=["float16", "float32"], default="float16")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("FAILED | needs a CUDA device", file=sys.stderr)
        return 1
    iters = max(args.iters, 100)
    binding = load_binding()
    lib = binding.KernelLibrary()
    dtype = getattr(torch, args.dtype)
    name = torch.cuda.get_device_name()
    report = Report(SCHEMA_VERSION, name, torch.version.cuda or "", torch.__version__, args.dtype, iters,
                    "CUDA events, 20 warm-up, median/p90, inputs rotated over >= 4x L2")
    for shape in SHAPES:
        report.rows.extend(bench_shape(shape, dtype, iters, binding, lib))
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "plugin_kernel_" + "".join(ch if ch.isalnum() else "_" for ch in name) + f"_{args.dtype}"
    (args.out / f"{stem}.json").write_text(json.dumps(asdict(report) | {"host": platform.node()}, indent=2))
    (args.out / f"{stem}.md").write_text(render_markdown(report))
    print(render_markdown(report))
    worst = max(r.ratio_to_floor for r in report.rows if r.method == "plugin_kernel")
    print(f"PASSED | {len(report.rows)} timings on {name}, plugin kernel worst {worst:.2f}x the 3-pass floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
