"""Bad inputs and mistakes a new user makes, through the CLI: each is one ``error:`` line (exit 1) or a usage
error (exit 2), no traceback, every input unchanged and nothing left behind in the folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import an_deploy
from an_deploy.cli.main import app
from an_deploy.models.digits import DEMO_CHECKPOINT
from tests.cli.harness import assert_usage_error, assert_user_error, invoke, snapshot


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A user's folder: the demo checkpoint and an unrelated notes file."""
    shutil.copy(DEMO_CHECKPOINT, tmp_path / "model.pt")
    (tmp_path / "notes.txt").write_text("my notes\n")
    return tmp_path


# (case id, arguments with {dir} for the user's folder, a fragment of the one error line)
ERRORS = [
    ("bench-out-is-the-checkpoint", ["bench", "{dir}/model.pt", "--out", "{dir}/model.pt"], "it is the input"),
    ("bench-out-is-a-file", ["bench", "{dir}/model.pt", "--out", "{dir}/notes.txt"], "is a file; give a folder"),
    ("bench-out-unwritable", ["bench", "{dir}/model.pt", "--out", "/proc/an-deploy-out"], "cannot create files in"),
    ("bench-batch-beyond-memory", ["bench", "{dir}/model.pt", "--batch", "1000000000", "--out", "{dir}/r"],
     "lower --batch to at most about"),
    ("bench-missing-checkpoint", ["bench", "{dir}/missing.pt", "--out", "{dir}/r"], "checkpoint not found"),
    ("export-into-proc", ["export", "{dir}/model.pt", "-o", "/proc/an-deploy.onnx"], "cannot create files in /proc"),
    ("export-missing-folder", ["export", "{dir}/model.pt", "-o", "{dir}/no/such/x.onnx"], "does not exist"),
    ("export-output-is-a-folder", ["export", "{dir}/model.pt", "-o", "{dir}"], "is a folder"),
]


@pytest.mark.parametrize(("args", "fragment"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_bad_input_is_one_error_line_and_touches_nothing(work: Path, args: list[str], fragment: str) -> None:
    before = snapshot(work)
    result = invoke([a.replace("{dir}", str(work)) for a in args])
    assert_user_error(result, fragment)
    assert snapshot(work) == before


USAGE = [
    ("batch-zero", ["bench", "--batch", "0"], "Invalid value for '--batch'"),
    ("iters-not-a-number", ["bench", "--iters", "many"], "Invalid value for '--iters'"),
    ("warmup-negative", ["bench", "--warmup", "-1"], "Invalid value for '--warmup'"),
    ("verbose-and-quiet", ["--verbose", "--quiet", "archs"], "exclude each other"),
    ("unknown-command", ["expor"], "No such command 'expor'"),
    ("unknown-option", ["archs", "--bogus"], "No such option: --bogus"),
    ("missing-argument", ["export"], "Missing argument 'MODEL'"),
]


@pytest.mark.parametrize(("args", "fragment"), [c[1:] for c in USAGE], ids=[c[0] for c in USAGE])
def test_usage_errors_exit_2_with_the_usage_line(work: Path, args: list[str], fragment: str) -> None:
    before = snapshot(work)
    assert_usage_error(invoke(args), fragment)
    assert snapshot(work) == before


def test_version() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"an-deploy {an_deploy.__version__}"


COMMANDS = ["archs", "inspect", "eval", "export", "parity", "trt-build", "bench"]


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS]], ids=["root", *COMMANDS])
def test_help_fits_80_columns_with_conventional_metavars(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, [line for line in lines if len(line) > 80]
    for odd in ("<bool>", "<path>", "<int>", "<str>", "{model}", "…", "╭"):
        assert odd not in result.stdout, odd
    if command:
        assert not any(line.rstrip().endswith("...") for line in lines[1:])


def test_root_help_states_the_overwrite_convention_and_exit_codes() -> None:
    text = " ".join(CliRunner().invoke(app, ["--help"], terminal_width=80).stdout.split())
    assert "replaced atomically" in text and "inputs is refused" in text and "2 usage error" in text
    assert "bench Time every backend on one model and write JSON, Markdown and a PNG chart naming the hardware" in text


def test_export_help_shows_the_argument_as_a_conventional_metavar() -> None:
    text = CliRunner().invoke(app, ["export", "--help"], terminal_width=80).stdout
    assert text.startswith("Usage: an-deploy export [OPTIONS] MODEL")
    assert "--opset INTEGER" in text and "-o, --output PATH" in text


def test_archs_json_is_one_object_with_the_common_envelope() -> None:
    result = invoke(["archs", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["schema_version"] == 1 and data["command"] == "archs"
    assert data["tool"] == {"name": "an-deploy", "version": an_deploy.__version__}
    demo = next(a for a in data["result"]["archs"] if a["name"] == "an_resnet_demo")
    assert demo["input_shape"] == [1, 1, 16, 16]


def test_quiet_hides_progress_but_not_the_error(work: Path) -> None:
    args = ["export", str(work / "model.pt"), "--opset", "99", "-o", str(work / "m.onnx")]
    loud, quiet = invoke(args), invoke(["--quiet", *args])
    assert "[an-deploy] loading" in loud.stderr
    assert "[an-deploy]" not in quiet.stderr
    assert_user_error(quiet, "opset")



def test_verbose_times_each_finished_step(work: Path) -> None:
    args = ["bench", str(work / "model.pt"), "--batch", "2", "--iters", "1", "--warmup", "0", "--no-compile",
            "--no-trt", "--out", str(work / "r")]
    loud, verbose = invoke(args), invoke(["--verbose", *args])
    assert loud.exit_code == verbose.exit_code == 0, verbose.output
    assert "done in" not in loud.stderr
    assert any(line.startswith("[an-deploy] done in ") and line.endswith(": timing torch-fp32 (0 warm-up, >= 1 calls)")
               for line in verbose.stderr.splitlines()), verbose.stderr
