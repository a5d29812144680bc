"""``inspect`` and ``eval``: --json records, and a warning naming non-finite weights (they still run)."""

from __future__ import annotations

import json
from pathlib import Path

from an_deploy.models.digits import DEMO_CHECKPOINT
from tests.cli.harness import invoke, poisoned_demo


def _nan_checkpoint(folder: Path) -> Path:
    return poisoned_demo(folder / "nan.pt", "fc.weight", float("nan"), count=2)


def test_inspect_json() -> None:
    result = invoke(["inspect", str(DEMO_CHECKPOINT), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["command"] == "inspect" and data["result"]["arch"] == "an_resnet_demo"
    assert [la["k"] for la in data["result"]["an_layers"]] == [4, 4, 8]
    assert data["result"]["num_classes"] == 10 and data["result"]["nonfinite"] == []


def test_eval_json() -> None:
    result = invoke(["eval", str(DEMO_CHECKPOINT), "--json"])
    assert result.exit_code == 0, result.output
    r = json.loads(result.stdout)["result"]
    assert r["total"] == 359 and r["correct"] / r["total"] == r["accuracy"] > 0.9


def test_non_finite_weights_warn_by_tensor_name(tmp_path: Path) -> None:
    path = _nan_checkpoint(tmp_path)
    for command in ("inspect", "eval"):
        result = invoke([command, str(path)])
        assert result.exit_code == 0, result.output
        assert f"warning: {path} has non-finite weights in 1 tensor: fc.weight (2 NaN of 1280)" in result.stderr
    data = json.loads(invoke(["inspect", str(path), "--json"]).stdout)
    assert data["result"]["nonfinite"] == [{"name": "fc.weight", "nan": 2, "inf": 0, "numel": 1280}]

