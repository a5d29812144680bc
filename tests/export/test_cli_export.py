"""``an-deploy export`` / ``parity`` from the command line: bad input gives one line, exit 1, no file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "an_deploy.cli.main", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=900)


@pytest.mark.parametrize(
    "extra,match",
    [
        (["--arch", "no_such_arch"], "unknown architecture"),
        (["--input-shape", "1x3x16x16"], "rejects input shape"),
        (["--input-shape", "1x1x16"], "expected 4 positive dims"),
        (["--opset", "13"], "unsupported opset"),
        (["--form", "plugin"], "unknown form"),
    ],
)
def test_export_bad_input_is_one_line_no_traceback_no_file(demo_checkpoint: Path, tmp_path: Path,
                                                           extra: list[str], match: str) -> None:
    out = tmp_path / "out.onnx"
    r = _cli("export", str(demo_checkpoint), "-o", str(out), *extra)
    assert r.returncode == 1, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and match in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert not list(tmp_path.iterdir()), "a partial file was left behind"


def test_export_unwritable_output(demo_checkpoint: Path, tmp_path: Path) -> None:
    r = _cli("export", str(demo_checkpoint), "-o", str(tmp_path / "missing" / "out.onnx"))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "does not exist" in r.stderr
    assert not (tmp_path / "missing").exists()


@pytest.mark.slow
def test_export_then_parity_end_to_end(demo_checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "demo.onnx"
    r = _cli("export", str(demo_checkpoint), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1].startswith("PASSED | ")
    assert out.is_file() and not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    report = tmp_path / "parity.json"
    r = _cli("parity", str(demo_checkpoint), "--onnx", str(out), "--report", str(report))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1].startswith("PASSED | ")
    data = json.loads(report.read_text())
    assert {"schema_version", "tool", "environment", "config", "results", "summary"} <= set(data)
    backends = {(c["backend"], c["reference"]) for c in data["results"]}
    expected = {("torch-fp32", "torch-fp64"), ("ort-function", "torch-fp32"), ("ort-decomposed", "ort-function")}
    assert expected <= backends
    assert all(c["stats"]["top1_agreement"] == 1.0 for c in data["results"] if c["backend"].startswith("ort"))
    assert report.with_suffix(".md").is_file()


@pytest.mark.parametrize(
    "onnx_content,checkpoint,match",
    [
        (b"\x08\x07garbage\xff\xff\xff", None, "not a readable ONNX model"),
        (None, None, "ONNX file not found"),
        (b"", "missing.pt", "checkpoint not found"),
    ],
    ids=["corrupt-onnx", "missing-onnx", "missing-checkpoint"],
)
def test_parity_bad_input_is_one_line_no_traceback_no_report(demo_checkpoint: Path, tmp_path: Path,
                                                             onnx_content: bytes | None, checkpoint: str | None,
                                                             match: str) -> None:
    onnx_path = tmp_path / "model.onnx"
    if onnx_content is not None:
        onnx_path.write_bytes(onnx_content)
    ckpt = tmp_path / checkpoint if checkpoint else demo_checkpoint
    report = tmp_path / "parity.json"
    r = _cli("parity", str(ckpt), "--onnx", str(onnx_path), "--report", str(report))
    assert r.returncode == 1, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and match in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert not report.exists()
