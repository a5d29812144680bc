"""Running ``an-deploy`` as a new user would, and the checks every bad input must pass: the exit code,
exactly one ``error:`` line and no traceback, inputs unchanged, nothing left behind."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import torch
from typer.testing import CliRunner, Result

from an_deploy.cli.main import app
from an_deploy.models.digits import DEMO_CHECKPOINT

REPO = Path(__file__).resolve().parents[2]


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (hidden ones included), by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def poisoned_demo(path: Path, key_suffix: str, value: float, count: int = 1) -> Path:
    """A copy of the demo checkpoint (its wrapper and metadata kept) with ``value`` (NaN/Inf) written into the first
    ``count`` elements of the first tensor whose name ends with ``key_suffix``."""
    wrapper = torch.load(DEMO_CHECKPOINT, map_location="cpu", weights_only=True)
    sd = wrapper["state_dict"]
    sd[next(k for k in sd if k.endswith(key_suffix))].view(-1)[:count] = value
    torch.save(wrapper, path)
    return path


def invoke(args: list[str]) -> Result:
    """Run the command in-process (no terminal: progress comes as plain lines)."""
    return CliRunner().invoke(app, args)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def assert_user_error(result: Result, fragment: str, code: int = 1) -> None:
    """One ``error:`` line containing ``fragment``, exit ``code``, no traceback."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output and result.stdout == ""


def assert_usage_error(result: Result, fragment: str) -> None:
    """Exit 2 with the usage line and click's ``Error:`` line naming the problem."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stderr.startswith("Usage: an-deploy"), result.stderr
    assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.output


def start_cli(args: list[str], cwd: Path, **env: str) -> subprocess.Popen[str]:
    """``an-deploy ARGS`` as a real process (its own signal handling, as a user's shell runs it)."""
    environ = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "an_deploy.cli.main", *args], cwd=cwd, env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
