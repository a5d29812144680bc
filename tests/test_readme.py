"""Tested docs: the README's main command, run as written (its an-deploy steps, in a temporary folder)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _main_command() -> list[list[str]]:
    """The an-deploy steps of the README's first set-up command (the venv and pip steps are CI's own set-up)."""
    text = (REPO / "README.md").read_text()
    block = re.search(r"Main job on the shipped demo model.*?```\n(.*?)\n```", text, re.S)
    assert block, "the README lost its main command"
    steps = [shlex.split(step) for step in block.group(1).split("&&")]
    return [s for s in steps if s and s[0].endswith("an-deploy")]


def test_readme_main_command_runs_and_passes(tmp_path: Path) -> None:
    steps = _main_command()
    assert [s[1] for s in steps] == ["eval", "export", "parity"], steps
    (tmp_path / "out").mkdir()
    for step in steps:
        args = [str(REPO / a) if a.startswith("models/") else a for a in step[1:]]
        r = subprocess.run([sys.executable, "-m", "an_deploy.cli.main", *args], cwd=tmp_path, capture_output=True,
                           text=True, timeout=900, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert r.returncode == 0, f"{' '.join(step)}\n{r.stdout}\n{r.stderr}"
        assert r.stdout.strip().splitlines()[-1].startswith("PASSED") or step[1] == "eval", r.stdout
    assert (tmp_path / "out" / "demo.onnx").is_file() and (tmp_path / "out" / "parity.json").is_file()
