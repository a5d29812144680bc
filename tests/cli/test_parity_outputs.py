"""``an-deploy parity``: report paths, ONNX/checkpoint mismatches, runtime refusals and oversized batches are
one error line before the run, and a report never lands in a file named for another format."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from an_deploy.models.digits import DEMO_CHECKPOINT
from tests.cli.harness import assert_user_error, invoke, poisoned_demo, snapshot
from tests.test_preflight import identity_onnx


def _unknown_op_onnx() -> onnx.ModelProto:
    """Parses, has the demo's input and output shapes, but ONNX Runtime knows no kernel for its node."""
    node = helper.make_node("NoSuchOp", ["x"], ["y"], domain="com.example")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.example", 1)])


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The demo checkpoint, a NaN copy of it and ONNX files that do not fit it in one way or another."""
    shutil.copy(DEMO_CHECKPOINT, tmp_path / "model.pt")
    poisoned_demo(tmp_path / "inf.pt", "bn2.weight_", float("inf"))
    onnx.save(identity_onnx(["N", 1, 16, 16], ["N", 10]), tmp_path / "fits.onnx")
    onnx.save(identity_onnx(["N", 1, 16, 16], ["N", 10]), tmp_path / "fits.json")
    onnx.save(identity_onnx(["N", 3, 224, 224], ["N", 1000]), tmp_path / "r50.onnx")
    onnx.save(identity_onnx(["N", 1, 64, 64], ["N", 10]), tmp_path / "big.onnx")
    onnx.save(_unknown_op_onnx(), tmp_path / "unknown_op.onnx")
    (tmp_path / "folder.json").mkdir()
    return tmp_path


CASES = [
    ("report-is-the-checkpoint", ["--onnx", "{dir}/fits.onnx", "--report", "{dir}/model.pt"], "give a .json or .md"),
    ("report-is-the-onnx", ["--onnx", "{dir}/fits.onnx", "--report", "{dir}/fits.onnx"], "give a .json or .md"),
    ("report-pair-hits-an-input", ["--onnx", "{dir}/fits.json", "--report", "{dir}/fits.md"], "it is the input"),
    ("report-folder-missing", ["--onnx", "{dir}/fits.onnx", "--report", "{dir}/no/p.json"], "does not exist"),
    ("report-folder-unwritable", ["--onnx", "{dir}/fits.onnx", "--report", "/proc/p.json"], "cannot create files"),
    ("report-is-a-folder", ["--onnx", "{dir}/fits.onnx", "--report", "{dir}/folder.json"], "is a folder"),
    ("onnx-of-another-model", ["--onnx", "{dir}/r50.onnx"], "r50.onnx takes 3x224x224 inputs, which"),
    ("onnx-runtime-refuses", ["--onnx", "{dir}/unknown_op.onnx"], "ONNX Runtime cannot load the model for ort-"),
    ("batch-beyond-memory", ["--onnx", "{dir}/big.onnx", "--batch", "1000000000"], "lower --batch to at most"),
]


@pytest.mark.parametrize(("args", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_parity_refuses_before_the_run(work: Path, args: list[str], fragment: str) -> None:
    before = snapshot(work)
    result = invoke(["parity", str(work / "model.pt"), *[a.replace("{dir}", str(work)) for a in args]])
    assert_user_error(result, fragment)
    assert "running torch-fp64" not in result.stderr
    assert snapshot(work) == before


def test_non_finite_weights_are_named(work: Path) -> None:
    result = invoke(["parity", str(work / "inf.pt"), "--onnx", str(work / "fits.onnx")])
    assert_user_error(result, "inf.pt has non-finite weights in 1 tensor: layer1.0.bn2.weight_ (1 Inf of ")


@pytest.mark.slow
def test_report_given_as_markdown_writes_markdown_there_and_json_beside(tmp_path: Path) -> None:
    shutil.copy(DEMO_CHECKPOINT, tmp_path / "model.pt")
    assert invoke(["-q", "export", str(tmp_path / "model.pt"), "-o", str(tmp_path / "m.onnx")]).exit_code == 0
    result = invoke(["parity", str(tmp_path / "model.pt"), "--onnx", str(tmp_path / "m.onnx"), "--report",
                     str(tmp_path / "rep.md")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "rep.md").read_text().startswith("# Parity: an_resnet_demo")
    data = json.loads((tmp_path / "rep.json").read_text())
    assert data["kind"] == "parity" and data["summary"]["passed"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "model.pt", "rep.json", "rep.md"]
