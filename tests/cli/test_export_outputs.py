"""``an-deploy export`` never destroys its input, refuses what cannot work before exporting, and writes a
file that says where it came from."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import onnx
import pytest

from an_deploy.models.digits import DEMO_CHECKPOINT
from tests.cli.harness import assert_user_error, invoke, poisoned_demo, snapshot


@pytest.fixture
def work(tmp_path: Path) -> Path:
    shutil.copy(DEMO_CHECKPOINT, tmp_path / "model.pt")
    return tmp_path


def _nan_checkpoint(folder: Path) -> Path:
    return poisoned_demo(folder / "nan.pt", "bn2.bias_", float("nan"))


CASES = [
    ("output-is-the-checkpoint", ["export", "{dir}/model.pt", "-o", "{dir}/model.pt"], "it is the input"),
    ("output-is-a-symlink-to-it", ["export", "{dir}/link.pt", "-o", "{dir}/model.pt"], "it is the input"),
    ("default-output-is-the-input", ["export", "{dir}/model.onnx"], "it is the input"),
    ("batch-beyond-memory", ["export", "{dir}/model.pt", "--input-shape", "100000x1x16x16", "-o", "{dir}/m.onnx"],
     "lower --input-shape to at most about"),
    ("nan-weights", ["export", "{dir}/nan.pt", "-o", "{dir}/m.onnx"], "has non-finite weights in 1 tensor: "),
]


@pytest.mark.parametrize(("args", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_export_refuses_before_work(work: Path, args: list[str], fragment: str) -> None:
    (work / "link.pt").symlink_to(work / "model.pt")
    shutil.copy(work / "model.pt", work / "model.onnx")
    _nan_checkpoint(work)
    before = snapshot(work)
    result = invoke([a.replace("{dir}", str(work)) for a in args])
    assert_user_error(result, fragment)
    assert snapshot(work) == before


def test_nan_weights_are_named_by_tensor(work: Path) -> None:
    result = invoke(["export", str(_nan_checkpoint(work)), "-o", str(work / "m.onnx")])
    assert_user_error(result, "layer1.0.bn2.bias_ (1 NaN of 32)")


def test_export_json_metadata_and_mode(work: Path) -> None:
    old = os.umask(0o022)
    try:
        result = invoke(["--quiet", "export", str(work / "model.pt"), "-o", str(work / "m.onnx"), "--json"])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["command"] == "export" and data["result"]["path"] == str(work / "m.onnx")
    assert data["result"]["an_nodes"] == 3 and data["result"]["validation"]["passed"] is True
    assert stat.S_IMODE((work / "m.onnx").stat().st_mode) == 0o644
    meta = {p.key: p.value for p in onnx.load(str(work / "m.onnx")).metadata_props}
    assert meta["an_deploy.source.sha256"] == hashlib.sha256((work / "model.pt").read_bytes()).hexdigest()
    assert meta["an_deploy.arch"] == "an_resnet_demo" and len(json.loads(meta["an_deploy.an_layers"])) == 3
    assert sorted(p.name for p in work.iterdir()) == ["m.onnx", "model.pt"]
