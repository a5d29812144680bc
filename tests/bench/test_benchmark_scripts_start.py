"""Every benchmark script imports and parses its arguments (``--help``), so that a renamed or removed library
name fails here rather than at the start of a benchmark run on a GPU machine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FOLDER = Path(__file__).resolve().parents[2] / "benchmarks"
# the scripts; the modules they share (benchmarks/common.py) have no command line
BENCHMARKS = sorted(p for p in FOLDER.glob("*.py") if 'if __name__ == "__main__":' in p.read_text())


def test_every_script_is_started_and_the_shared_module_is_not_a_script() -> None:
    names = {p.stem for p in BENCHMARKS}
    assert {"bench_export_cpu", "bench_exporters_cpu", "bench_trt_build_cpu", "bench_network_gpu",
            "bench_plugin_kernel", "bench_kernel_variants", "kernel_traffic"} <= names
    assert "common" not in names


@pytest.mark.parametrize("script", BENCHMARKS, ids=[p.stem for p in BENCHMARKS])
def test_benchmark_script_starts(script: Path) -> None:
    result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("usage:"), result.stdout[:500]
