"""benchmarks/common.py, the scaffolding every benchmark script shares: statistics against numpy, file names,
atomic paired writes, the environment block and the take-turns loop. No timing is asserted beyond a lower bound
that ``time.sleep`` guarantees."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from an_deploy.errors import UserError
from an_deploy.files import OutputPathError
from tests.scripts import load_benchmark

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def common() -> ModuleType:
    return load_benchmark("common")


@pytest.mark.parametrize("size", [1, 2, 7, 30, 101])
def test_percentiles_are_numpys_linear_percentiles(common: ModuleType, size: int) -> None:
    samples = list(np.random.default_rng(size).lognormal(0.0, 1.0, size))  # skewed, unsorted, like latencies
    for q in (0, 10, 25, 50, 90, 99, 100):
        assert common.percentile(samples, q) == pytest.approx(float(np.percentile(samples, q)), rel=1e-12)
    assert common.median(samples) == pytest.approx(float(np.median(samples)), rel=1e-12)
    assert common.p10(samples) == pytest.approx(float(np.percentile(samples, 10)), rel=1e-12)
    assert common.p90(samples) == pytest.approx(float(np.percentile(samples, 90)), rel=1e-12)


def test_percentiles_of_a_small_sample_by_hand(common: ModuleType) -> None:
    samples = [4.0, 1.0, 3.0, 2.0, 10.0]  # sorted 1 2 3 4 10; rank of p90 = 0.9 * 4 = 3.6
    assert common.median(samples) == 3.0
    assert common.p90(samples) == pytest.approx(4.0 + 0.6 * (10.0 - 4.0))
    assert common.p10(samples) == pytest.approx(1.0 + 0.4 * (2.0 - 1.0))
    assert common.ratio(3.0, 2.0) == 1.5 and np.isnan(common.ratio(1.0, 0.0))
    for bad, q in (([], 50.0), ([1.0], 101.0), ([1.0], -1.0)):
        with pytest.raises(ValueError):
            common.percentile(bad, q)


def test_device_names_become_file_names(common: ModuleType) -> None:
    assert common.device_slug("NVIDIA H200") == "NVIDIA_H200"
    assert common.device_slug("NVIDIA H200 (MIG 1g.18gb)") == "NVIDIA_H200_MIG_1g_18gb"
    # the names of the results already in the repository
    assert (BENCHMARKS / "results" / f"plugin_kernel_{common.device_slug('NVIDIA H200')}_float16.json").is_file()


def test_results_are_written_as_a_pair_replacing_the_old_ones(common: ModuleType, tmp_path: Path) -> None:
    stem = tmp_path / "new" / "bench_cpu"
    stem.parent.mkdir()
    stem.with_suffix(".json").write_text("old")
    before = os.umask(0o022)
    try:
        paths = common.write_results(stem, {"schema_version": 1, "rows": [1.5]}, "# title\n\n| a |")
    finally:
        os.umask(before)
    assert paths == (stem.with_suffix(".json"), stem.with_suffix(".md"))
    assert json.loads(paths[0].read_text()) == {"schema_version": 1, "rows": [1.5]}
    assert paths[1].read_text() == "# title\n\n| a |\n"
    assert {stat.S_IMODE(p.stat().st_mode) for p in paths} == {0o644}
    assert sorted(p.name for p in stem.parent.iterdir()) == ["bench_cpu.json", "bench_cpu.md"]
    # a dotted device name keeps its dots: the suffixes are added, not substituted
    assert common.write_results(tmp_path / "x_1g.18gb", {}, "")[0].name == "x_1g.18gb.json"


def test_a_failed_write_changes_neither_file(common: ModuleType, tmp_path: Path) -> None:
    stem = tmp_path / "bench"
    stem.with_suffix(".json").write_text("old json")
    stem.with_suffix(".md").mkdir()  # a folder where the Markdown goes: refused before either file is written
    with pytest.raises(OutputPathError, match="is a folder"):
        common.write_results(stem, {"new": True}, "new")
    assert stem.with_suffix(".json").read_text() == "old json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.json", "bench.md"]


def test_environment_names_the_hardware(common: ModuleType) -> None:
    env = common.environment(load_average_1_5_15={"start": (0.1, 0.2, 0.3)})
    assert env["cpu"] and env["cpu_cores"] >= 1 and env["packages"]["torch"]
    assert env["load_average_1_5_15"] == {"start": (0.1, 0.2, 0.3)}
    line = common.machine_line(env)
    assert env["cpu"] in line and f"torch {env['packages']['torch']}" in line
    assert env["code_revision"] is None or f"code {env['code_revision']};" in line
    gpu = env | {"gpu": "NVIDIA H200", "driver": "580.1"}
    assert "NVIDIA H200 (driver 580.1)" in common.machine_line(gpu) and "no GPU" not in common.machine_line(gpu)
    assert ("no GPU" in line) == (env["gpu"] is None)
    doc = common.document(3, env, config={"a": 1}, results=[])
    assert list(doc) == ["schema_version", "tool", "environment", "config", "results"]
    assert doc["schema_version"] == 3 and doc["tool"]["version"]


def test_code_revision_is_the_checkout_head_marked_when_modified(common: ModuleType, tmp_path: Path) -> None:
    assert common.code_revision(tmp_path) is None  # not a git checkout
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "r.md").write_text("old")
    subprocess.run([*git, "add", "a.py", "benchmarks"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a"], check=True)
    head = subprocess.run([*git, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True).stdout.strip()
    (tmp_path / "untracked.txt").write_text("notes")
    (tmp_path / "benchmarks" / "results" / "r.md").write_text("new")  # a benchmark's own output is not code
    assert common.code_revision(tmp_path) == head
    (tmp_path / "a.py").write_text("x = 2\n")
    assert common.code_revision(tmp_path) == head + "+"


def test_candidates_take_turns_and_warmup_rounds_are_dropped(common: ModuleType) -> None:
    order: list[str] = []
    counters = {"a": iter(range(100)), "b": iter(range(100, 200))}

    def call(name: str):
        return lambda: (order.append(name), next(counters[name]))[1]

    seen: list[tuple[str, int, int]] = []
    out = common.take_turns({"a": call("a"), "b": call("b")}, rounds=3, warmup=1,
                            after=lambda n, r, v: seen.append((n, r, v)))
    assert order == ["a", "b"] * 4
    assert out == {"a": [1, 2, 3], "b": [101, 102, 103]}
    assert seen == [("a", 0, 1), ("b", 0, 101), ("a", 1, 2), ("b", 1, 102), ("a", 2, 3), ("b", 2, 103)]
    order.clear()
    common.take_turns({"a": call("a"), "b": call("b")}, rounds=4, alternate=True)
    assert order == ["a", "b", "b", "a", "a", "b", "b", "a"]


def test_a_user_error_is_one_line_and_a_bug_keeps_its_traceback(common: ModuleType,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    def missing_backend() -> int:
        raise UserError("the tensorrt_rtx Python package is not importable")

    def bug() -> int:
        raise ZeroDivisionError("division by zero")

    assert common.run_script(missing_backend) == 1
    assert capsys.readouterr().err == "error: the tensorrt_rtx Python package is not importable\n"
    assert common.run_script(lambda: None) == 0 and common.run_script(lambda: 3) == 3
    with pytest.raises(ZeroDivisionError):
        common.run_script(bug)


def test_wall_time_is_at_least_what_the_call_sleeps(common: ModuleType) -> None:
    timed = common.wall_ms(lambda: time.sleep(0.002))
    assert all(timed() >= 2.0 for _ in range(3))
