"""The CPU-side logic of benchmarks/bench_network_gpu.py (arguments, check rule, overheads, report), so that a
parsing or report bug shows here and not after a GPU run. No timing is asserted; nothing here needs a GPU."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.scripts import load_benchmark

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_benchmark("bench_network_gpu")


def test_defaults_cover_every_variant_batch_and_dtype(bench: ModuleType) -> None:
    args = bench.parse_args([])
    assert args.batches == [1, 32] and args.dtypes == ["fp32", "fp16"]
    assert set(args.variants) == {"eager", "eager+graph", "compile", "compile+graph", "compile_op",
                                  "compile_op+graph"}
    assert not bench.applies("resnet50", "compile_op+graph") and bench.applies("an_resnet50", "compile_op")


@pytest.mark.parametrize("argv", [["--variants", "jit"], ["--dtypes", "bf16"], ["--batches", "0"],
                                  ["--iters", "0"]])
def test_bad_arguments_exit_with_a_usage_error(bench: ModuleType, argv: list[str],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        bench.parse_args(argv)
    assert info.value.code == 2 and "error:" in capsys.readouterr().err


def test_main_without_cuda_is_one_error_line(bench: ModuleType, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench.torch.cuda, "is_available", lambda: False)
    assert bench.main([]) == 1
    assert capsys.readouterr().err.strip() == "error: needs a CUDA device"


def _row(bench: ModuleType, network: str, variant: str, median: float | None, checked: bool = True):
    return bench.Row(network, variant, "fp16", 32, 1e-3, 2e-3, checked, median_ms=median)


def test_overhead_pairs_an_rows_with_the_bn_twin(bench: ModuleType) -> None:
    rows = [_row(bench, "an_resnet50", "compile", 12.0), _row(bench, "resnet50", "compile", 10.0),
            _row(bench, "an_resnet50", "compile_op", 11.0), _row(bench, "an_resnet50", "eager", None, checked=False)]
    bench.add_overheads(rows)
    assert rows[0].an_overhead == pytest.approx(0.2)
    assert rows[1].an_overhead is None and rows[2].an_overhead is None and rows[3].an_overhead is None


def test_report_and_summary(bench: ModuleType) -> None:
    rows = [_row(bench, "an_resnet50", "compile_op", 11.0), _row(bench, "resnet50", "compile_op", 10.0),
            bench.Row("an_resnet50", "eager+graph", "fp32", 1, None, 1e-5, False, error="RuntimeError: capture")]
    rows[0].an_overhead = 0.1
    report = bench.Report(config={"input": "Nx3x224x224", "timing": "CUDA events", "check": "3x eager"},
                          environment={"gpu": "NVIDIA H200", "packages": {"torch": "2.13.0"}}, rows=rows)
    md = bench.render_markdown(report)
    assert "| an_resnet50 | compile_op | fp16 | 32 | 1.00e-03 | 2.00e-03 | 11.000 |" in md
    assert "+10.0%" in md and "(FAILED check)" in md and "RuntimeError: capture" in md
    assert bench.summary_line(report).startswith("FAILED | 3 rows, 1 failed | AN overhead with the fused op +10.0%")
    assert bench.check_bound(1e-3, "fp16") == pytest.approx(4e-3)
    assert bench.device_slug("NVIDIA H200 (MIG 1g.18gb)") == "NVIDIA_H200_MIG_1g_18gb"
