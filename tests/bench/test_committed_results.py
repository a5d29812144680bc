"""The results files in benchmarks/results are still read by the scripts that wrote them: each script's renderer
turns the committed JSON back into the committed Markdown tables (the numbers are never recomputed)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.scripts import load_benchmark

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
RESULTS = BENCHMARKS / "results"


def load(name: str) -> ModuleType:
    return load_benchmark(name)


def committed(stem: str) -> tuple[dict[str, Any], str]:
    return json.loads((RESULTS / f"{stem}.json").read_text()), (RESULTS / f"{stem}.md").read_text()


def tables(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|")]


@pytest.mark.parametrize(("script", "stem"), [("bench_export_cpu", "export_cpu"),
                                              ("bench_exporters_cpu", "exporters_cpu"),
                                              ("bench_trt_build_cpu", "trt_build_cpu")])
def test_cpu_results_render_to_their_committed_tables(script: str, stem: str) -> None:
    data, md = committed(stem)
    rendered = load(script).markdown(data)
    assert tables(md) and tables(rendered) == tables(md)
    assert rendered.splitlines()[0] == md.splitlines()[0]  # the title
    assert data["environment"]["cpu"] in rendered  # the machine is named


def test_exporter_verdict_is_the_committed_one() -> None:
    data, md = committed("exporters_cpu")
    assert f"Verdict: {data['summary']}" in load("bench_exporters_cpu").markdown(data).splitlines()
    assert f"Verdict: {data['summary']}" in md.splitlines()


def test_kernel_results_render_to_their_committed_table_and_targets() -> None:
    bench = load("bench_plugin_kernel")
    data, md = committed("plugin_kernel_NVIDIA_H200_float16")
    fields = {k: v for k, v in data.items() if k not in ("host", "targets")}
    report = bench.Report(**fields | {"rows": [bench.Row(**r) for r in data["rows"]]})
    assert tables(bench.render_markdown(report)) == tables(md)
    assert bench.target_lines(report) == data["targets"]
    assert [line.removeprefix("- ") for line in md.splitlines() if line.startswith("- target")] == data["targets"]
