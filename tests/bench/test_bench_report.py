"""Latency statistics and reports: schema, ordering, Markdown, PNG. No timing value is asserted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from an_deploy.bench.report import SCHEMA_VERSION, BenchConfig, BenchReport, Environment, write_report
from an_deploy.bench.suite import Row, RowUnavailable, measure
from an_deploy.bench.timing import LatencyStats, time_cpu

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Double:
    name, device = "torch-fp32", "cpu"

    def run(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2


class _Broken:
    name, device = "broken", "cpu"

    def run(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("kernel exploded")


def _unavailable() -> _Double:
    raise RowUnavailable("tensorrt not importable")


def _report() -> BenchReport:
    rows = [
        Row("torch-fp32", "cpu", _Double),
        Row("ort-function", "cpu", _Double),
        Row("trt-plugin-fp16", "cuda", _unavailable),
        Row("broken", "cpu", _Broken),
    ]
    results = measure(rows, torch.ones(2, 3), warmup=2, iters=25)
    config = BenchConfig("tiny", [2, 3], warmup=2, iters=25, min_seconds=0.0, rows=[r.name for r in rows])
    return BenchReport(config, Environment.collect(), results)


def test_stats_are_ordered_and_count_every_sample() -> None:
    samples = time_cpu(lambda: sum(range(1000)), warmup=3, iters=50)
    assert len(samples) == 50
    s = LatencyStats.from_samples(samples, batch=4)
    assert s.iterations == 50
    assert s.min_ms <= s.p50_ms <= s.p90_ms <= s.p99_ms <= s.max_ms
    assert s.throughput == pytest.approx(4 / (s.p50_ms / 1e3))


def test_stats_of_known_samples() -> None:
    s = LatencyStats.from_samples([float(v) for v in range(1, 101)], batch=1)
    assert (s.p50_ms, s.min_ms, s.max_ms) == (50.5, 1.0, 100.0)
    assert s.p90_ms == pytest.approx(90.1) and s.p99_ms == pytest.approx(99.01)


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [-1.0]])
def test_stats_reject_bad_samples(bad: list[float]) -> None:
    with pytest.raises(ValueError):
        LatencyStats.from_samples(bad, batch=1)


def test_rows_are_ok_skipped_or_failed_and_the_others_still_run() -> None:
    report = _report()
    status = {r.name: r.status for r in report.results}
    assert status == {"torch-fp32": "ok", "ort-function": "ok", "trt-plugin-fp16": "skipped", "broken": "failed"}
    skipped = next(r for r in report.results if r.status == "skipped")
    assert skipped.reason == "tensorrt not importable"
    assert "kernel exploded" in (next(r for r in report.results if r.status == "failed").reason or "")
    assert report.summary["rows_ok"] == 2 and report.summary["rows_skipped"] == 1
    assert report.summary["baseline"] == "torch-fp32"
    assert report.summary["speedup_p50_vs_baseline"]["torch-fp32"] == 1.0


def test_written_report_has_the_schema_a_table_and_a_png(tmp_path: Path) -> None:
    paths = write_report(_report(), tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["tool"] == "an-deploy bench" and data["tool_version"]
    for key in ("python", "cpu", "cpu_cores", "packages", "gpu", "driver"):
        assert key in data["environment"]
    assert data["environment"]["packages"]["torch"]
    assert data["config"]["input_shape"] == [2, 3]
    for row in data["results"]:
        if row["status"] == "ok":
            st = row["stats"]
            assert st["p50_ms"] <= st["p90_ms"] <= st["p99_ms"]
            assert row["timer"] == "perf_counter"
        else:
            assert row["stats"] is None and row["reason"]
    md = paths["md"].read_text()
    assert "| torch-fp32 | cpu |" in md and "skipped: tensorrt not importable" in md
    assert data["environment"]["cpu"] in md
    assert paths["png"].read_bytes()[:8] == PNG_MAGIC
