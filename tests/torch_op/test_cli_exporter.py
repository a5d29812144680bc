"""``an-deploy export --exporter``: the torch.export-based path from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import onnx
import pytest

from an_deploy.onnx_graph.nodes import an_nodes

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "an_deploy.cli.main", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=900)


def test_unknown_exporter_is_one_error_line(demo_checkpoint: Path, tmp_path: Path) -> None:
    r = _cli("export", str(demo_checkpoint), "-o", str(tmp_path / "out.onnx"), "--exporter", "jit")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "unknown exporter" in lines[0], r.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_dynamo_exporter_end_to_end(demo_checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "demo.onnx"
    r = _cli("export", str(demo_checkpoint), "-o", str(out), "--exporter", "dynamo")
    assert r.returncode == 0, r.stderr
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("PASSED | ") and "dynamo exporter" in last and "3 AttentiveNorm nodes / 3 AN layers" in last
    assert "deprecat" not in (r.stdout + r.stderr).lower()
    assert len(an_nodes(onnx.load(str(out)))) == 3
