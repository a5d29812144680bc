"""SIGINT and SIGTERM sent to a real ``an-deploy`` process while it writes its output: no temporary file, no
partial output, the previous output intact, one ``error:`` line and the shell's exit code (128 + signal).

The write is slowed by the test-only hook ``AN_DEPLOY_TEST_WRITE_DELAY`` (a sleep after half of each file),
and the signal is sent once the hidden temporary file exists, so it lands mid-write every time.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from an_deploy.files import WRITE_DELAY_ENV
from an_deploy.models.digits import DEMO_CHECKPOINT
from tests.cli.harness import error_lines, snapshot, start_cli

pytestmark = pytest.mark.slow
STARTUP_LIMIT_S = 240  # import, load, export and validate on a busy 2-core machine


def _wait_for_temp(proc: subprocess.Popen[str], folder: Path) -> list[Path]:
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while time.monotonic() < deadline:
        temps = [p for p in folder.rglob(".*.tmp")]
        if temps:
            return temps
        if proc.poll() is not None:
            raise AssertionError(f"the command ended before writing: {proc.communicate()}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("no temporary file appeared")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"])
def test_signal_during_export_write_keeps_the_old_output_and_leaves_no_temp(
    tmp_path: Path, signum: int, code: int
) -> None:
    shutil.copy(DEMO_CHECKPOINT, tmp_path / "model.pt")
    (tmp_path / "model.onnx").write_bytes(b"previous export")
    before = snapshot(tmp_path)
    proc = start_cli(["export", "model.pt", "-o", "model.onnx", "--static"], tmp_path, **{WRITE_DELAY_ENV: "60"})
    temps = _wait_for_temp(proc, tmp_path)
    assert [t.name.startswith(".model.onnx.") for t in temps] == [True]
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert len(error_lines(stderr)) == 1 and "interrupted" in error_lines(stderr)[0]
    assert "Traceback" not in stderr
    assert snapshot(tmp_path) == before


def test_sigterm_during_bench_report_write_leaves_no_report_and_no_temp(tmp_path: Path) -> None:
    args = ["bench", "--batch", "2", "--iters", "1", "--warmup", "0", "--no-compile", "--no-trt", "--out", "r"]
    proc = start_cli(args, tmp_path, **{WRITE_DELAY_ENV: "60"})
    _wait_for_temp(proc, tmp_path)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert len(error_lines(stderr)) == 1 and "Traceback" not in stderr
    assert snapshot(tmp_path) == {}
