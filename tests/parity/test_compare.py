"""Comparison statistics, the tolerance table and the report's JSON/Markdown shape (no model needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from an_deploy.accuracy.compare import compare, compare_with_rule
from an_deploy.accuracy.tolerances import (
    DEFAULT_RULE,
    TOLERANCES,
    RelativeRule,
    Tolerance,
    rule_from_options,
    tolerance_for,
)
from an_deploy.errors import UserError
from an_deploy.parity.report import SCHEMA_VERSION, Comparison, ParityReport
from an_deploy.trt import AnImpl
from an_deploy.trt.runner import row_name


def test_required_tolerances_and_rule_boundary() -> None:
    ref = torch.tensor([[1.0, -2.0, 4.0], [0.5, 3.0, -1.0]], dtype=torch.float64)
    out = ref + torch.tensor([[1e-3, 0.0, -2e-3], [0.0, 0.0, 0.0]], dtype=torch.float64)
    s = compare(out, ref, Tolerance(atol=0.0, rtol=1e-3), classifier=True)
    assert s.max_abs == pytest.approx(2e-3) and s.required_atol == pytest.approx(2e-3)
    assert s.max_rel == pytest.approx(1e-3) and s.required_rtol == pytest.approx(1e-3)
    assert s.passed  # exactly on the boundary of |a - b| <= atol + rtol * |b| (rel 1e-3 at both entries)
    assert not compare(out, ref, Tolerance(atol=0.0, rtol=9e-4)).passed
    assert compare(out, ref, Tolerance(atol=2e-3, rtol=0.0)).passed
    assert s.top1_agreement == 1.0 and s.cosine == pytest.approx(1.0, abs=1e-6)
    assert s.num_values == 6


def test_top1_disagreement_and_nan_fail() -> None:
    ref = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    out = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    assert compare(out, ref, Tolerance(10.0, 0.0), classifier=True).top1_agreement == 0.5
    assert not compare(torch.full((2, 2), float("nan")), ref, Tolerance(10.0, 10.0)).passed
    with pytest.raises(ValueError, match="shape"):
        compare(out[:1], ref, Tolerance(1.0, 1.0))


@pytest.mark.parametrize("key", sorted(TOLERANCES), ids="-".join)
def test_tolerance_table_is_explicit(key: tuple[str, str]) -> None:
    tol = tolerance_for(*key)
    assert tol.atol > 0 and tol.rtol > 0  # both always given, never a silent default
    # the documented rule |out - ref| <= atol + rtol * |ref|, at zero and at logit-sized references, errors of both
    # signs: every entry just inside passes, and any one entry just outside fails the whole output
    ref = torch.tensor([[0.0, -10.0, 3.0, 12.5]], dtype=torch.float64)
    step = torch.tensor([[1.0, -1.0, -1.0, 1.0]], dtype=torch.float64) * (tol.atol + tol.rtol * ref.abs())
    inside = ref + step * (1 - 1e-6)
    assert compare(inside, ref, tol).passed
    for i in range(ref.shape[1]):
        outside = inside.clone()
        outside[0, i] = ref[0, i] + step[0, i] * (1 + 1e-6)
        assert not compare(outside, ref, tol).passed, (key, i)
    if key[1] == "fp32":  # documented: float32 reordering error on logits ~10 is at most 2e-5; with headroom
        assert tol.atol + tol.rtol * 10.0 >= 10 * 2e-5


def test_tolerance_table_covers_every_row_that_uses_it() -> None:
    # TensorRT rows (trt-<impl>-<fp32|fp16>) are judged by the table under the precision their engine was built for
    for impl in AnImpl:
        for fp16 in (False, True):
            assert row_name(impl, fp16).endswith("fp16" if fp16 else "fp32")
            tolerance_for("trt", "fp16" if fp16 else "fp32")  # KeyError: a row with no entry
    # half precision is looser than single, and TensorRT fp32 (TF32 tactics) no tighter than ONNX Runtime fp32
    fp16, fp32, ort = tolerance_for("trt", "fp16"), tolerance_for("trt", "fp32"), tolerance_for("ort", "fp32")
    assert fp16.atol > fp32.atol >= ort.atol and fp16.rtol > fp32.rtol >= ort.rtol
    with pytest.raises(KeyError, match="add it"):
        tolerance_for("ort", "int8")


def test_report_json_and_markdown(tmp_path: Path) -> None:
    ref = torch.ones(2, 3)
    report = ParityReport(config={"arch": "x", "onnx": "m.onnx", "inputs": "test"})
    report.comparisons.append(Comparison("ort-function", "torch-fp64", "output", "fp32",
                                         compare(ref, ref, tolerance_for("ort", "fp32"), classifier=True)))
    report.skipped["trt"] = "tensorrt is not importable"
    md = report.write(tmp_path / "p.json")
    data = json.loads((tmp_path / "p.json").read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert {"tool", "environment", "config", "results", "summary"} <= set(data)
    assert data["environment"]["packages"]["onnxruntime"]
    assert data["summary"]["passed"] is True
    assert "| ort-function | torch-fp64 |" in md.read_text()
    assert report.verdict().startswith("PASSED | ")
    report.comparisons.append(Comparison("bad", "torch-fp64", "output", "fp32",
                                         compare(ref + 1, ref, Tolerance(1e-4, 1e-4))))
    assert report.verdict().startswith("FAILED | ") and "bad vs torch-fp64" in report.verdict()


def test_relative_rule_bound_and_slack() -> None:
    ref = torch.zeros(4, dtype=torch.float64)
    rule = RelativeRule(multiple=3.0, atol_floor=1e-5)
    assert rule.bound(1e-4) == pytest.approx(3.1e-4)
    at_bound = compare_with_rule(ref + 3.1e-4 * (1 - 1e-9), ref, rule, torch_error=1e-4)
    assert at_bound.passed and at_bound.atol == pytest.approx(3.1e-4) and at_bound.rtol == 0.0
    assert "3 x max |PyTorch fp32 - fp64| + 1e-05" in at_bound.rule and "bound 3.10e-04" in at_bound.rule
    assert not compare_with_rule(ref + 3.2e-4, ref, rule, torch_error=1e-4).passed
    assert compare_with_rule(ref + 3.2e-4, ref, rule, torch_error=1e-4, slack=1e-4).passed
    with pytest.raises(ValueError, match="PyTorch fp32"):
        compare_with_rule(ref, ref, rule)
    plain = compare_with_rule(ref + 1e-3, ref, Tolerance(atol=1e-3, rtol=0.0))
    assert plain.passed and plain.rule == "|out - ref| <= atol + rtol * |ref| (atol 0.001, rtol 0)"


def test_rule_from_options() -> None:
    assert rule_from_options(None, None) == DEFAULT_RULE == RelativeRule(5.0, 1e-5)
    assert rule_from_options(1e-3, None) == Tolerance(atol=1e-3, rtol=0.0)
    assert rule_from_options(None, 2e-3) == Tolerance(atol=0.0, rtol=2e-3)
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(UserError, match="finite and >= 0"):
            rule_from_options(bad, 1e-3)
