"""The CPU-side logic of the GPU benchmark scripts, so that time on a GPU machine is not lost to a parsing or
argument bug: ncu CSV -> per-launch medians (kernel_traffic.py), library arguments and kHWC8 padding
(bench_kernel_variants.py). No timing is asserted; nothing here needs a GPU."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

from tests.scripts import load_benchmark

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

KERNELS = [
    "void an_deploy::plugin::(anonymous namespace)::statsNchwKernel<__half, 8, 32>(const T1 *, long, long, float *, "
    "float *, float *)",
    "an_deploy::plugin::(anonymous namespace)::attentionKernel(an_deploy::plugin::(anonymous namespace)::"
    "AttentionArgs, an_deploy::plugin::(anonymous namespace)::Workspace)",
    "void an_deploy::plugin::(anonymous namespace)::applyPlaneKernel<__half, 8>(const T1 *, T1 *, const float *, "
    "const float *, long)",
]
HEADER = ('"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size","Grid Size",'
          '"Device","CC","Section Name","Metric Name","Metric Unit","Metric Value"')


def load(name: str) -> ModuleType:
    return load_benchmark(name)


def ncu_csv(calls: int, read_bytes: tuple[int, int, int]) -> str:
    """ncu --csv --print-units base output as it comes: messages and the program's prints before the header,
    thousands separators in values, one row per launch and metric."""
    lines = ["==PROF== Connected to process 4242 (/usr/bin/python3)", "workload default/nchw: 5 calls", HEADER]
    launch = 0
    for call in range(calls):
        for k, kernel in enumerate(KERNELS):
            metrics = [("dram__bytes_read.sum", "byte", f"{read_bytes[k] + call:,}"),
                       ("dram__bytes_write.sum", "byte", "2,048"),
                       ("gpu__time_duration.sum", "nsecond", f"{(k + 1) * 1000 + call}")]
            for metric, unit, value in metrics:
                lines.append(f'"{launch}","4242","python3","host","{kernel}","1","7","(256, 1, 1)","(1024, 1, 1)",'
                             f'"0","9.0","Command line profiler metrics","{metric}","{unit}","{value}"')
            launch += 1
    return "\n".join([*lines, "==PROF== Disconnected from process 4242"])


def test_ncu_csv_becomes_per_stage_medians() -> None:
    traffic = load("kernel_traffic")
    profiled = traffic.launches(traffic.parse_ncu_csv(ncu_csv(5, (51_380_224, 4_096, 20_000_000))))
    rows = traffic.summarize("default", "nchw", profiled, 5)
    assert [(r.stage, r.kernel) for r in rows] == [
        ("stats", "statsNchwKernel"), ("attention", "attentionKernel"), ("apply", "applyPlaneKernel")]
    assert rows[0].dram_read_mb == pytest.approx(51.380226)  # median of +0..+4 bytes
    assert rows[2].dram_read_mb == pytest.approx(20.000002) and rows[2].dram_write_mb == pytest.approx(0.002048)
    assert rows[1].time_us == pytest.approx(2.002)
    report = traffic.Report(1, "GPU", traffic.SHAPE, 51.38, "ncu", 5, rows)
    assert "| default | nchw | apply | 20.0 (0.39) | 0.0 | 3.0 |" in traffic.render_markdown(report)


def test_ncu_launches_that_do_not_match_the_calls_are_an_error() -> None:
    traffic = load("kernel_traffic")
    profiled = traffic.launches(traffic.parse_ncu_csv(ncu_csv(5, (1, 2, 3))))
    with pytest.raises(ValueError, match="expected 15 launches"):
        traffic.summarize("default", "nchw", profiled[:-1], 5)
    with pytest.raises(ValueError, match="not one stats kernel"):
        traffic.summarize("default", "nchw", profiled[1:] + profiled[:1], 5)
    assert traffic.parse_ncu_csv("==PROF== Failed to initialize the profiler\n") == []


def test_variant_libraries_are_name_path_pairs_of_existing_files(tmp_path: Path) -> None:
    variants = load("bench_kernel_variants")
    lib = tmp_path / "lib.so"
    lib.write_bytes(b"")
    assert variants.parse_libraries([f"default={lib}", f"pdl={lib}"]) == {"default": lib, "pdl": lib}
    assert variants.parse_libraries([f"default={lib}"], at_least=1) == {"default": lib}  # kernel_traffic.py
    for bad, message in [([f"default={lib}"], "at least one variant"), ([f"default={lib}", "pdl"], "NAME=PATH"),
                         ([f"a={lib}", f"a={lib}"], "twice"), ([f"a={lib}", f"b={tmp_path / 'no.so'}"], "no library")]:
        with pytest.raises(SystemExit, match=message):
            variants.parse_libraries(bad)


def test_khwc8_inputs_pad_channels_and_outputs_poison_the_padding() -> None:
    variants = load("bench_kernel_variants")
    x = torch.randn(2, 20, 3, 5)
    v = variants.in_layout(x, "nhwc8", float("nan"))
    assert v.shape == x.shape and torch.equal(v, x)
    assert v._base is not None and v._base.shape == (2, 3, 5, 24) and v._base[..., 20:].isnan().all()
    assert variants.storage_bits(v).shape == (2, 3, 5, 24)  # the padding is compared too
    assert variants.in_layout(x, "nchw", 0.0).is_contiguous()


def test_variant_report_names_each_library_that_failed_its_check() -> None:
    variants = load("bench_kernel_variants")
    report = variants.Report(1, "GPU", {"default": "a.so", "pdl": "b.so"}, 4000.0, "t",
                             {"default": [], "pdl": ["[1, 64, 7, 7] K=5 torch.float16 nchw: differs"]})
    text = variants.render_markdown(report)
    assert "- `default`: every output written, on all 16 cases: yes" in text
    assert "- `pdl`: every output written, bitwise the baseline's, on all 16 cases: NO: [1, 64, 7, 7]" in text


def test_a_file_that_is_not_the_plugin_library_is_one_error_line(tmp_path: Path, monkeypatch, capsys) -> None:
    variants = load("bench_kernel_variants")
    text = tmp_path / "notes.so"
    text.write_text("not a library\n")
    monkeypatch.setattr(sys, "argv", ["bench_kernel_variants.py", f"default={text}", f"pdl={text}"])
    assert variants.main() == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot load a plugin library:"), err
