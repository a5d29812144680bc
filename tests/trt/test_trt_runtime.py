"""TensorRT end to end (skipped here: "tensorrt not importable"): plugin and native engines for the demo model
and AN-ResNet-50, compared with PyTorch, CUDA-graph replay, the bench rows and the CLI.

fp32 engines must match PyTorch fp32 within 1e-3 (abs + rel). fp16 engines are judged against a float64
reference relative to the error PyTorch itself makes in fp16 on the same GPU: err_trt <= 2 * err_torch + 1e-2.
"""

from __future__ import annotations

import copy
from pathlib import Path

import onnx
import pytest
import torch
from typer.testing import CliRunner

from an_deploy.trt import AnImpl
from an_deploy.trt.availability import Backend, tensorrt_available

pytestmark = [
    pytest.mark.trt,
    pytest.mark.skipif(
        not tensorrt_available(Backend.TENSORRT),
        reason="data-centre tensorrt not importable (TensorRT-RTX builds: tests/trt/test_rtx_build.py)",
    ),
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]

FP32_TOL = 1e-3
FP16_FACTOR, FP16_ATOL = 2.0, 1e-2


def _demo_model() -> torch.nn.Module:
    from an_deploy.checkpoint import load_model
    from an_deploy.models.digits import DEMO_CHECKPOINT

    return load_model(DEMO_CHECKPOINT).model.eval()


def _resnet50() -> torch.nn.Module:
    from an_deploy.accuracy.inputs import realistic_inputs
    from an_deploy.models.randomize import calibrated_
    from an_deploy.models.registry import an_resnet50

    return calibrated_(an_resnet50(), realistic_inputs((8, 3, 224, 224), 8, seed=1), seed=0)


def _export(model: torch.nn.Module, shape: tuple[int, ...], path: Path) -> Path:
    from an_deploy.export.torch_export import export_model

    onnx.save(export_model(model, (1, *shape[1:]), form="function").model, path)
    return path


def _check(model: torch.nn.Module, onnx_path: Path, shape: tuple[int, ...], plugin: Path) -> None:
    from an_deploy.trt.runner import runner_from_onnx

    x = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref64 = copy.deepcopy(model).double()(x.double()).float()
        torch32 = copy.deepcopy(model).cuda()(x.cuda()).cpu()
        torch16 = copy.deepcopy(model).cuda().half()(x.cuda().half()).float().cpu()
    err_torch16 = (torch16 - ref64).abs().max().item()
    for impl in (AnImpl.PLUGIN, AnImpl.NATIVE):
        for fp16 in (False, True):
            runner = runner_from_onnx(onnx_path, impl, fp16, shape, plugin=plugin)
            out = runner.run(x).float().cpu()
            assert out.shape == ref64.shape
            if fp16:
                err = (out - ref64).abs().max().item()
                assert err <= FP16_FACTOR * err_torch16 + FP16_ATOL, (runner.name, err, err_torch16)
            else:
                bound = FP32_TOL + FP32_TOL * torch32.abs()
                assert bool(((out - torch32).abs() <= bound).all()), (runner.name, (out - torch32).abs().max())


def test_demo_plugin_and_native_engines_match_pytorch(tmp_path: Path, plugin_library: Path) -> None:
    model = _demo_model()
    _check(model, _export(model, (8, 1, 16, 16), tmp_path / "demo.onnx"), (8, 1, 16, 16), plugin_library)


@pytest.mark.slow
def test_an_resnet50_plugin_and_native_engines_match_pytorch(tmp_path: Path, plugin_library: Path) -> None:
    model = _resnet50()
    _check(model, _export(model, (4, 3, 224, 224), tmp_path / "r50.onnx"), (4, 3, 224, 224), plugin_library)


def test_cli_build_summary_counts_plugin_layers_and_engine_runs(tmp_path: Path, plugin_library: Path) -> None:
    from an_deploy.cli.main import app
    from an_deploy.trt.runner import TensorRTRunner

    onnx_path = _export(_demo_model(), (1, 1, 16, 16), tmp_path / "demo.onnx")
    for impl, plugin_layers in (("plugin", 3), ("native", 0)):
        engine = tmp_path / f"demo.{impl}.engine"
        args = ["trt-build", str(onnx_path), "-o", str(engine), "--an-impl", impl, "--batch", "1:4:8", "--fp16"]
        args += ["--timing-cache", str(tmp_path / "cache.bin"), "--plugin", str(plugin_library)]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert f"{plugin_layers} plugin layers" in result.stdout and "trtexec " in result.stdout
        assert engine.is_file() and (tmp_path / "cache.bin").is_file()
        runner = TensorRTRunner(engine, name=f"trt-{impl}-fp16", plugin=plugin_library, cuda_graph=True)
        x = torch.randn(4, 1, 16, 16, device="cuda")
        plain = TensorRTRunner(engine, name="plain", plugin=plugin_library).run(x)
        torch.testing.assert_close(runner.run(x), plain)
        torch.testing.assert_close(runner.run(x[:2]), plain[:2])  # new shape: re-captured


def test_bench_times_the_trt_rows(tmp_path: Path, plugin_library: Path) -> None:
    from an_deploy.bench.report import BenchConfig, BenchReport, Environment, write_report
    from an_deploy.bench.suite import Row, measure
    from an_deploy.trt.runner import row_name, runner_from_onnx

    onnx_path = _export(_demo_model(), (1, 1, 16, 16), tmp_path / "demo.onnx")
    shape = (8, 1, 16, 16)
    rows = [
        Row(row_name(impl, fp16), "cuda",
            lambda i=impl, h=fp16: runner_from_onnx(onnx_path, i, h, shape, plugin_library))
        for impl in AnImpl
        for fp16 in (False, True)
    ]
    results = measure(rows, torch.randn(shape), warmup=5, iters=50)
    assert [r.status for r in results] == ["ok"] * 4, [r.reason for r in results]
    assert all(r.timer == "cuda-events" for r in results)
    report = BenchReport(
        BenchConfig("demo", list(shape), 5, 50, 0.0, [r.name for r in rows]), Environment.collect(), results
    )
    paths = write_report(report, tmp_path)
    assert report.environment.gpu and paths["png"].is_file()
