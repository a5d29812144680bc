"""``an-deploy bench`` on the demo architecture on CPU: rows, report files, skipped TensorRT rows."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from an_deploy.cli.main import app
from an_deploy.trt.availability import SKIP_REASON, tensorrt_available
from tests.cli.harness import poisoned_demo


def test_bench_demo_writes_the_report_and_skips_trt_with_the_reason(tmp_path: Path) -> None:
    args = ["bench", "--batch", "2", "--iters", "5", "--warmup", "1", "--no-compile", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "latency.json").read_text())
    rows = {r["name"]: r for r in data["results"]}
    assert {"torch-fp32", "ort-function", "ort-decomposed"} <= set(rows)
    assert all(
        rows[n]["status"] == "ok" and rows[n]["stats"]["iterations"] >= 5 for n in ("torch-fp32", "ort-function")
    )
    if not tensorrt_available():
        assert rows["trt-plugin-fp16"]["status"] == "skipped" and rows["trt-plugin-fp16"]["reason"] == SKIP_REASON
    assert data["config"]["input_shape"] == [2, 1, 16, 16]
    assert (tmp_path / "latency.png").read_bytes()[:4] == b"\x89PNG"
    assert "| torch-fp32 | cpu |" in result.stdout and result.stdout.strip().splitlines()[-1].startswith("PASSED |")


def test_bench_out_of_range_options_are_usage_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "--iters", "0", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "Invalid value for '--iters'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_bench_missing_checkpoint_is_one_error_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", str(tmp_path / "missing.pth"), "--out", str(tmp_path)])
    assert result.exit_code == 1 and result.stderr.startswith("error: ") and "Traceback" not in result.output


def test_bench_times_the_batch_it_reports_beyond_the_demo_digits(tmp_path: Path) -> None:
    args = ["bench", "--batch", "400", "--iters", "2", "--warmup", "0", "--no-compile", "--no-trt",
            "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "latency.json").read_text())
    assert data["config"]["input_shape"] == [400, 1, 16, 16]
    assert {r["stats"]["batch"] for r in data["results"] if r["status"] == "ok"} == {400}
    assert "input 400x1x16x16" in (tmp_path / "latency.md").read_text()


def test_bench_warns_about_non_finite_weights(tmp_path: Path) -> None:
    path = poisoned_demo(tmp_path / "nan.pt", "fc.weight", float("nan"), count=2)
    args = ["bench", str(path), "--batch", "1", "--iters", "1", "--warmup", "0", "--no-compile", "--no-trt",
            "--out", str(tmp_path / "r")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "warning: " in result.stderr and "fc.weight (2 NaN of 1280)" in result.stderr
    assert "fc.weight (2 NaN of 1280)" in (tmp_path / "r" / "latency.md").read_text()


def test_bench_takes_the_loader_options_of_export(tmp_path: Path) -> None:
    """A bare AN state dict does not say its attention mode: bench refuses like export, and takes
    --assume-published (or --config) like export."""
    import torch

    from an_deploy.models.digits import DEMO_CHECKPOINT

    bare = tmp_path / "bare.pt"
    torch.save(torch.load(DEMO_CHECKPOINT, map_location="cpu", weights_only=True)["state_dict"], bare)
    base = ["bench", str(bare), "--iters", "1", "--warmup", "0", "--no-compile", "--no-trt"]
    refused = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "a")])
    assert refused.exit_code == 1 and "--assume-published" in refused.stderr
    assert not (tmp_path / "a" / "latency.json").exists()
    result = CliRunner().invoke(app, [*base, "--assume-published", "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert "assuming the authors' published setting" in result.stderr
    assert json.loads((tmp_path / "b" / "latency.json").read_text())["config"]["model"].startswith("an_resnet_demo")
