"""A/B of plugin library builds in one run: the default kernel vs builds with the kernel's experiment switches.

Usage (on a GPU machine; benchmarks/gpu_check.sh builds the libraries and runs this)::

    python benchmarks/bench_kernel_variants.py default=build/plugins/libattentive_norm_plugin.so \\
        pdl=build/variants/pdl/libattentive_norm_plugin.so [more NAME=PATH ...] [--out DIR]

The first library is the baseline. The switches (AN_KERNEL_* in attentiveNormKernelCommon.cuh) change when and in
which order the kernel's work runs, never its arithmetic, so every variant must first give bitwise the
baseline's output on a set of cases (dtypes, layouts, odd and padded shapes, poisoned outputs); one that does not
is reported and not timed. Then at each shape and layout, event-timed batches of back-to-back calls alternate
between the libraries (drift hits all alike; inputs rotated over more than L2), and the report gives each
library's median, its ratio to the baseline and to the copy floor, and the per-kernel breakdown at the first
shape. Writes JSON and Markdown under --out, named after the device.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_plugin_kernel import (  # noqa: E402
    copy_bandwidth,
    kernel_breakdown,
    make_layer,
    per_call_us,
    plugin_calls,
    random_inputs,
    rotation_copies,
)
from common import (  # noqa: E402
    RESULTS,
    device_slug,
    environment,
    median,
    p10,
    p90,
    ratio,
    run_script,
    take_turns,
    write_results,
)

from an_deploy.plugin import kernel_api  # noqa: E402
from an_deploy.plugin.library import PluginLibraryError  # noqa: E402

SCHEMA_VERSION = 2  # 2: environment, p10/p90 linearly interpolated
# (N, C, H, W, K): the target shape first (AN-ResNet-50's first-stage layer at batch 32).
TIMED = [(32, 256, 56, 56, 10), (8, 256, 56, 56, 10), (1, 256, 56, 56, 10), (32, 512, 7, 7, 20)]
# Bitwise checks: every apply kernel the switches touch (plane, flat, channels-last exact/padded/scalar).
CHECKED = [(32, 256, 56, 56, 10), (1, 64, 7, 7, 5), (2, 20, 13, 11, 4), (3, 64, 5, 3, 5)]
LAYOUTS = {"nchw": kernel_api.LAYOUT_NCHW, "nhwc8": kernel_api.LAYOUT_NHWC8, "nhwc": kernel_api.LAYOUT_NHWC}


@dataclass
class Timing:
    shape: tuple[int, int, int, int]
    layout: str
    library: str
    median_us: float
    p10_us: float
    p90_us: float
    x_baseline: float
    x_floor: float


@dataclass
class Report:
    schema_version: int
    device: str
    libraries: dict[str, str]
    copy_gbps: float
    timing: str
    # library -> cases where it left an output element unwritten or (variants) differs from the baseline
    problems: dict[str, list[str]] = field(default_factory=dict)
    rows: list[Timing] = field(default_factory=list)
    breakdown: dict[str, dict[str, float]] = field(default_factory=dict)  # "library/layout" -> kernel -> us
    environment: dict[str, Any] = field(default_factory=dict)  # common.environment(): CPU, GPU, driver, packages


def in_layout(x: torch.Tensor, layout: str, padding: float) -> torch.Tensor:
    """x [N, C, H, W] in the memory of `layout`, as the logical [N, C, H, W] view the binding expects. kHWC8
    pads C to a multiple of 8 with `padding` (zero for inputs; NaN for outputs, which the kernel must zero)."""
    if layout == "nchw":
        return x.contiguous()
    n, c, h, w = x.shape
    stride = -(-c // 8) * 8 if layout == "nhwc8" else c
    storage = torch.full((n, h, w, stride), padding, dtype=x.dtype, device=x.device)
    storage[..., :c] = x.permute(0, 2, 3, 1)
    return storage[..., :c].permute(0, 3, 1, 2)


def layouts_for(dtype: torch.dtype) -> list[str]:
    """The layouts the kernel takes in ``dtype``: kHWC8 is fp16 only, kHWC fp32 only."""
    return ["nchw", "nhwc8"] if dtype == torch.float16 else ["nchw", "nhwc"]


def inputs(shape: tuple[int, int, int, int, int], dtype: torch.dtype, layout: str, copies: int
           ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """``copies`` inputs of ``shape`` in ``layout`` and as many NaN-poisoned outputs."""
    n, c, h, w, _ = shape
    xs = [in_layout(x, layout, 0.0) for x in random_inputs(n, c, h, w, dtype, copies)]
    nan = float("nan")
    ys = [in_layout(torch.full((n, c, h, w), nan, dtype=dtype, device="cuda"), layout, nan) for _ in range(copies)]
    return xs, ys


def storage(y: torch.Tensor) -> torch.Tensor:
    """Every element the kernel writes: the tensor, or the padded storage it is a view of."""
    return y if y._base is None else y._base


def storage_bits(y: torch.Tensor) -> torch.Tensor:
    """:func:`storage` as raw bits, so that NaN == NaN."""
    return storage(y).view(torch.int16 if y.dtype == torch.float16 else torch.int32)


def problem_cases(libs: dict[str, kernel_api.KernelLibrary]) -> dict[str, list[str]]:
    """For each library, the cases where an output element (padding included) is left NaN, and for each library
    after the first, the cases whose output is not bitwise the first library's."""
    names = list(libs)
    out: dict[str, list[str]] = {name: [] for name in names}
    for shape in CHECKED:
        for dtype in (torch.float16, torch.float32):
            layer = make_layer(shape[1], shape[4], dtype)
            for layout in layouts_for(dtype):
                xs, _ = inputs(shape, dtype, layout, copies=1)
                results = {}
                for name, lib in libs.items():
                    _, ys = inputs(shape, dtype, layout, copies=1)
                    plugin_calls(lib, layer, xs, ys, LAYOUTS[layout])(0)
                    torch.cuda.synchronize()
                    results[name] = storage_bits(ys[0]).clone()
                    if storage(ys[0]).isnan().any():
                        out[name].append(f"{list(shape[:4])} K={shape[4]} {dtype} {layout}: unwritten")
                for name in names[1:]:
                    if not torch.equal(results[name], results[names[0]]):
                        out[name].append(f"{list(shape[:4])} K={shape[4]} {dtype} {layout}: differs")
    return out


def time_interleaved(calls: dict[str, Callable[[int], object]], batches: int, per_batch: int
                     ) -> dict[str, list[float]]:
    """Per-call microseconds of `batches` batches per library, the libraries taking turns batch by batch."""
    for call in calls.values():
        per_call_us(call, batches=1, per_batch=per_batch)  # warm-up
    batch = {name: partial(per_call_us, call, batches=1, per_batch=per_batch, warmup=0) for name, call in calls.items()}
    return {name: [t for ts in runs for t in ts] for name, runs in take_turns(batch, rounds=batches).items()}


def render_markdown(report: Report) -> str:
    """The Markdown rendering: check outcome per library, then the timing table and breakdown."""
    lines = [f"# Kernel experiment switches on {report.device}", "",
             f"fp16; copy bandwidth {report.copy_gbps:.0f} GB/s (read + write); {report.timing}", "",
             "Libraries: " + ", ".join(f"`{k}` = {v}" for k, v in report.libraries.items()), ""]
    for name, cases in report.problems.items():
        check = "every output written" + (", bitwise the baseline's" if name != next(iter(report.problems)) else "")
        lines.append(f"- `{name}`: {check}, on all {len(CHECKED) * 4} cases: "
                     + ("yes" if not cases else f"NO: {'; '.join(cases)} (not timed)"))
    lines += ["", "| N, C, H, W | layout | library | median us | p10-p90 us | x baseline | x floor |",
              "|---|---|---|---|---|---|---|"]
    for r in report.rows:
        lines.append(f"| {', '.join(map(str, r.shape))} | {r.layout} | {r.library} | {r.median_us:.1f} | "
                     f"{r.p10_us:.1f}-{r.p90_us:.1f} | {r.x_baseline:.3f} | {r.x_floor:.2f} |")
    for key, kernels in report.breakdown.items():
        parts = ", ".join(f"{k} {v:.1f} us" for k, v in sorted(kernels.items(), key=lambda kv: -kv[1]))
        lines.append(f"\nKernels of {key} at {list(TIMED[0][:4])} (torch.profiler, per call): {parts or 'n/a'}")
    return "\n".join(lines) + "\n"


def parse_libraries(specs: list[str], at_least: int = 2) -> dict[str, Path]:
    """NAME=PATH arguments, in order; each name once, each path an existing file."""
    libs: dict[str, Path] = {}
    for item in specs:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"error: expected NAME=PATH, got {item!r}")
        if name in libs:
            raise SystemExit(f"error: library name {name!r} given twice")
        if not Path(path).is_file():
            raise SystemExit(f"error: {name}: no library at {path}")
        libs[name] = Path(path)
    if len(libs) < at_least:
        raise SystemExit("error: give the baseline library and at least one variant (NAME=PATH each)"
                         if at_least > 1 else "error: give at least one library (NAME=PATH)")
    return libs


def main() -> int:
    """Check every library bitwise against the baseline, time those that pass; write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("libraries", nargs="+", metavar="NAME=PATH", help="the baseline first, then the variants")
    parser.add_argument("--batches", type=int, default=30, help="event-timed batches per library, shape and layout")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    paths = parse_libraries(args.libraries)
    try:
        libs = {name: kernel_api.KernelLibrary(path) for name, path in paths.items()}
    except PluginLibraryError as e:  # not a shared library / not the plugin's (a C function missing)
        print(f"error: cannot load a plugin library: {e}", file=sys.stderr)
        return 1
    if not torch.cuda.is_available():
        print("FAILED | needs a CUDA device", file=sys.stderr)
        return 1
    name = torch.cuda.get_device_name()
    bandwidth = copy_bandwidth()
    report = Report(SCHEMA_VERSION, name, {k: str(v) for k, v in paths.items()}, bandwidth / 1e9,
                    f"CUDA events, {args.batches} batches per library taking turns, inputs rotated over >= 4x L2",
                    environment=environment())
    report.problems = problem_cases(libs)
    timed = [n for n in libs if not report.problems[n]]
    if next(iter(libs)) not in timed:
        timed = []  # a baseline that fails its own check is nothing to compare against
    for i, shape in enumerate(TIMED if timed else []):
        n, c, h, w, k = shape
        nbytes = n * c * h * w * 2
        copies = rotation_copies(nbytes)
        layer = make_layer(c, k, torch.float16)
        for layout in layouts_for(torch.float16):
            xs, ys = inputs(shape, torch.float16, layout, copies)
            calls = {lib: plugin_calls(libs[lib], layer, xs, ys, LAYOUTS[layout]) for lib in timed}
            times = time_interleaved(calls, args.batches, per_batch=max(1, min(50, copies)))
            base = median(times[timed[0]])
            floor_us = 3 * nbytes / bandwidth * 1e6
            for lib in timed:
                med = median(times[lib])
                report.rows.append(Timing((n, c, h, w), layout, lib, med, p10(times[lib]), p90(times[lib]),
                                          ratio(med, base), ratio(med, floor_us)))
            if i == 0:
                for lib in timed:
                    report.breakdown[f"{lib}/{layout}"] = kernel_breakdown(calls[lib])
        print(f"  measured {shape}", flush=True)
    write_results(args.out / f"kernel_variants_{device_slug(name)}", asdict(report), render_markdown(report))
    print(render_markdown(report))
    failed = [lib for lib, cases in report.problems.items() if cases]
    print(f"FAILED | unwritten outputs or not bitwise the baseline: {', '.join(failed)}" if failed
          else "PASSED | every output written, every variant bitwise the baseline")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_script(main))
