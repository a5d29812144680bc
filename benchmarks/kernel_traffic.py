"""DRAM bytes and time of each of the plugin kernel's three launches at the target shape, read from the GPU's
hardware counters by Nsight Compute (ncu), for one or more builds of the plugin library.

Usage (on a GPU machine whose runtime lets ncu read counters; benchmarks/gpu_check.sh runs it)::

    python benchmarks/kernel_traffic.py default=build/plugins/libattentive_norm_plugin.so \\
        reversed=build/variants/reversed/libattentive_norm_plugin.so [--out DIR]

It runs itself under ``ncu --cache-control none --clock-control none`` (caches are kept as the previous kernel
left them, so what the apply pass finds of x in L2 after the statistics pass is what this measures; clocks are
left alone), once per library and layout, with inputs rotated over more than L2, and reports per launch the
median over the calls of dram__bytes_read.sum, dram__bytes_write.sum and gpu__time_duration.sum, next to
bytes(x). The model behind the copy floor is: statistics read x, apply reads x and writes y, each from/to DRAM.
ncu serialises launches, so the times have no launch overlap (programmatic dependent launch shows nothing here).
Writes JSON and Markdown under --out, named after the device.
"""

from __future__ import annotations

import argparse
import csv
import glob
import io
import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from common import RESULTS, device_slug, environment, median, run_script, write_results  # noqa: E402

SHAPE = (32, 256, 56, 56, 10)  # the target shape (AN-ResNet-50's first stage at batch 32), fp16
CALLS = 5
METRICS = ("dram__bytes_read.sum", "dram__bytes_write.sum", "gpu__time_duration.sum")
KERNELS = "regex:stats(Nchw|Nhwc)|attentionKernel|apply(Plane|Flat|Nchw|Nhwc)"
STAGES = ("stats", "attention", "apply")


@dataclass
class Launch:
    library: str
    layout: str
    stage: str
    kernel: str
    dram_read_mb: float
    dram_write_mb: float
    time_us: float


@dataclass
class Report:
    schema_version: int
    device: str
    shape: tuple[int, int, int, int, int]
    x_mb: float
    ncu: str
    calls: int
    rows: list[Launch] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)  # common.environment(): CPU, GPU, driver, packages


def parse_ncu_csv(text: str) -> list[dict[str, str]]:
    """The rows of ``ncu --csv`` output (one per kernel and metric); lines before the header (``==PROF==``
    messages, the program's own output) are skipped."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if '"Metric Name"' in line and '"Kernel Name"' in line), None)
    if start is None:
        return []
    body = [line for line in lines[start:] if line.startswith('"')]
    return list(csv.DictReader(io.StringIO("\n".join(body))))


def launches(rows: list[dict[str, str]]) -> list[dict[str, float | str]]:
    """One dict per profiled launch, in launch order: kernel name and every metric as a float (base units)."""
    by_id: dict[int, dict[str, float | str]] = {}
    for row in rows:
        launch = by_id.setdefault(int(row["ID"]), {"kernel": row["Kernel Name"]})
        launch[row["Metric Name"]] = float(row["Metric Value"].replace(",", ""))
    return [by_id[i] for i in sorted(by_id)]


def short_name(kernel: str) -> str:
    """statsNchwKernel etc. out of ncu's demangled name (namespaces, template arguments, parameters)."""
    match = re.search(r"\b(stats\w*|attention\w*|apply\w*)", kernel)
    if match is None:
        raise ValueError(f"not one of the plugin's kernels: {kernel}")
    return match.group(1)


def median_of(profiled: list[dict[str, float | str]], metric: str) -> float:
    """The median of one metric over launches."""
    return median([float(p[metric]) for p in profiled])


def summarize(library: str, layout: str, profiled: list[dict[str, float | str]], calls: int) -> list[Launch]:
    """Median per stage over `calls` calls of three launches each."""
    if len(profiled) != 3 * calls:
        raise ValueError(f"{library}/{layout}: expected {3 * calls} launches under ncu, got {len(profiled)}")
    out = []
    for k, stage in enumerate(STAGES):
        mine = profiled[k::3]
        names = {short_name(str(p["kernel"])) for p in mine}
        if len(names) != 1 or not next(iter(names)).startswith(stage):
            raise ValueError(f"{library}/{layout}: launch {k} of each call is not one {stage} kernel: {names}")
        out.append(Launch(library, layout, stage, names.pop(), median_of(mine, METRICS[0]) * 1e-6,
                          median_of(mine, METRICS[1]) * 1e-6, median_of(mine, METRICS[2]) * 1e-3))
    return out


def render_markdown(report: Report) -> str:
    """The Markdown table: per library, layout and launch, DRAM bytes (as a share of bytes(x)) and time."""
    n, c, h, w, k = report.shape
    lines = [f"# DRAM traffic of the plugin kernel's launches on {report.device}", "",
             f"{n}x{c}x{h}x{w} fp16, K={k}; bytes(x) = {report.x_mb:.1f} MB; ncu {report.ncu}, caches kept between "
             f"launches, clocks left alone; median of {report.calls} calls, inputs rotated over more than L2.", "",
             "| library | layout | launch | DRAM read MB (x bytes(x)) | DRAM write MB | time us |",
             "|---|---|---|---|---|---|"]
    for r in report.rows:
        share = r.dram_read_mb / report.x_mb
        lines.append(f"| {r.library} | {r.layout} | {r.stage} | {r.dram_read_mb:.1f} ({share:.2f}) "
                     f"| {r.dram_write_mb:.1f} | {r.time_us:.1f} |")
    return "\n".join(lines) + "\n"


def find_ncu() -> str:
    """Nsight Compute's ``ncu``: on PATH, else the newest under /opt/nvidia, else the bare name."""
    found = shutil.which("ncu") or next(iter(sorted(glob.glob("/opt/nvidia/nsight-compute/*/ncu"), reverse=True)), None)
    return found or "ncu"


def workload(library: str, path: str, layout: str, calls: int) -> None:
    """What ncu profiles: `calls` calls of one library on one layout, inputs rotated."""
    import torch
    from bench_kernel_variants import LAYOUTS, inputs
    from bench_plugin_kernel import make_layer, plugin_calls, rotation_copies

    from an_deploy.plugin import kernel_api

    n, c, h, w, k = SHAPE
    xs, ys = inputs(SHAPE, torch.float16, layout, rotation_copies(n * c * h * w * 2))
    call = plugin_calls(kernel_api.KernelLibrary(path), make_layer(c, k, torch.float16), xs, ys, LAYOUTS[layout])
    torch.cuda.synchronize()
    for i in range(calls):
        call(i)
    torch.cuda.synchronize()
    print(f"workload {library}/{layout}: {calls} calls", flush=True)


def main() -> int:
    """Profile each library and layout under ncu in a child process; write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("libraries", nargs="+", metavar="NAME=PATH")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--ncu", default=find_ncu(), help="Nsight Compute's ncu (default: PATH, then /opt/nvidia)")
    parser.add_argument("--workload", nargs=2, metavar=("NAME", "LAYOUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    from bench_kernel_variants import parse_libraries

    libs = parse_libraries(args.libraries, at_least=1)
    if args.workload:
        name, layout = args.workload
        workload(name, str(libs[name]), layout, CALLS)
        return 0
    if shutil.which(args.ncu) is None:
        print(f"FAILED | Nsight Compute not found ({args.ncu})", file=sys.stderr)
        return 1
    import torch

    if not torch.cuda.is_available():
        print("FAILED | needs a CUDA device", file=sys.stderr)
        return 1
    version = subprocess.run([args.ncu, "--version"], capture_output=True, text=True).stdout.strip().splitlines()
    n, c, h, w, _ = SHAPE
    report = Report(2, torch.cuda.get_device_name(), SHAPE, n * c * h * w * 2 / 1e6, version[-1] if version else "?",
                    CALLS, environment=environment())
    args.out.mkdir(parents=True, exist_ok=True)
    for name in libs:
        for layout in ("nchw", "nhwc8"):
            log = args.out / f"ncu_{name}_{layout}.csv"
            cmd = [args.ncu, "--csv", "--print-units", "base", "--cache-control", "none", "--clock-control", "none",
                   "--metrics", ",".join(METRICS), "--kernel-name", KERNELS, "--log-file", str(log),
                   sys.executable, __file__, *args.libraries, "--workload", name, layout]
            result = subprocess.run(cmd, capture_output=True, text=True, env=os.environ | {"PYTHONUNBUFFERED": "1"})
            text = log.read_text() if log.is_file() else ""
            if result.returncode != 0 or not text:
                print(f"FAILED | ncu on {name}/{layout} (exit {result.returncode}):\n{result.stdout[-2000:]}"
                      f"\n{result.stderr[-2000:]}\n{text[-2000:]}", file=sys.stderr)
                return 1
            report.rows += summarize(name, layout, launches(parse_ncu_csv(text)), CALLS)
            print(f"  profiled {name}/{layout}", flush=True)
    write_results(args.out / f"kernel_traffic_{device_slug(report.device)}", asdict(report), render_markdown(report))
    print(render_markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
