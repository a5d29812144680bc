"""Latency statistics and reports: schema, ordering, Markdown, PNG. No timing value is asserted."""

from __future__ import annotations

import json
import math
import os
import stat
import time
from pathlib import Path

import pytest
import torch

from an_deploy.bench.report import (
    SCHEMA_VERSION,
    BenchConfig,
    BenchReport,
    BenchResult,
    Environment,
    to_markdown,
    write_chart,
    write_report,
)
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
    calls = []

    def nap() -> None:
        calls.append(None)
        time.sleep(0.001)

    samples = time_cpu(nap, warmup=3, iters=20)
    assert len(calls) == 23 and len(samples) == 20  # warm-up calls run, only timed calls counted
    assert min(samples) >= 1.0  # each timed call sleeps at least 1 ms, so a sample below that is a timer bug
    # an unsorted, skewed sample whose statistics are known by hand: sorted 1 2 3 4 10
    s = LatencyStats.from_samples([4.0, 1.0, 10.0, 3.0, 2.0], batch=4)
    assert s.iterations == 5 and (s.min_ms, s.p50_ms, s.max_ms) == (1.0, 3.0, 10.0)
    assert s.p90_ms == pytest.approx(7.6) and s.p99_ms == pytest.approx(9.76)  # rank 0.9 * 4 = 3.6, 0.99 * 4 = 3.96
    assert s.mean_ms == pytest.approx(4.0) and s.std_ms == pytest.approx(math.sqrt(10.0))  # population std
    assert s.throughput == pytest.approx(4 / 3e-3)  # 4 samples per 3 ms


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
    assert data["kind"] == "latency" and data["tool"]["name"] == "an-deploy" and data["tool"]["version"]
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


def _stats(p50: float, p99: float) -> LatencyStats:
    return LatencyStats(iterations=100, mean_ms=p50, std_ms=0.0, min_ms=p50, p50_ms=p50, p90_ms=p50, p99_ms=p99,
                        max_ms=p99, throughput=1e3 / p50, batch=1)


def _fixed_report() -> BenchReport:
    results = [
        BenchResult("torch-fp32", "cpu", "ok", timer="perf_counter", stats=_stats(2.0, 2.5)),
        BenchResult("ort-function", "cpu", "ok", timer="perf_counter", stats=_stats(1.0, 50.0)),
        BenchResult("torch-compile-fp32", "cpu", "ok", timer="perf_counter", stats=_stats(400.0, 410.0)),
    ]
    config = BenchConfig("tiny", [4, 3], warmup=1, iters=100, min_seconds=0.0, rows=[r.name for r in results])
    return BenchReport(config, Environment.collect(), results)


def test_a_row_whose_p99_is_far_above_its_p50_is_flagged_unstable() -> None:
    report = _fixed_report()
    assert report.summary["unstable_rows"] == ["ort-function"]
    assert any(n.startswith("unstable timing in ort-function: p99 50.000 ms is 50x") for n in report.notes)
    assert "Note: unstable timing in ort-function" in to_markdown(report)


def test_the_chart_has_a_log_axis_and_a_label_on_every_bar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.pyplot as plt

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    write_chart(_fixed_report(), tmp_path / "c.png")
    (ax,) = figures[0].axes
    assert ax.get_xscale() == "log"
    labels = {t.get_text() for t in ax.texts}
    assert {"p50 2 ms", "p50 1 ms", "p50 400 ms"} <= labels
    assert "input 4x3" in ax.get_title()
    assert (tmp_path / "c.png").read_bytes()[:8] == PNG_MAGIC


def test_reports_are_replaced_atomically_with_ordinary_permissions(tmp_path: Path) -> None:
    old = tmp_path / "latency.json"
    old.write_text("old")
    before = os.umask(0o022)
    try:
        paths = write_report(_fixed_report(), tmp_path)
    finally:
        os.umask(before)
    assert json.loads(old.read_text())["kind"] == "latency"
    assert {stat.S_IMODE(p.stat().st_mode) for p in paths.values()} == {0o644}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latency.json", "latency.md", "latency.png"]


def test_parity_and_latency_reports_share_one_schema(tmp_path: Path) -> None:
    from an_deploy.parity.report import ParityReport

    latency = _fixed_report().to_dict()
    parity = ParityReport(config={"arch": "x"}).to_json()
    assert list(latency) == list(parity)
    assert set(latency["environment"]) == set(parity["environment"])
    assert (latency["kind"], parity["kind"]) == ("latency", "parity")
    assert latency["tool"] == parity["tool"]
