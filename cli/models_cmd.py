"""``an-deploy inspect`` and ``eval``: look at a checkpoint, evaluate the demo (``archs`` is in archs_cmd)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from an_deploy.cli.common import JSON_HELP, emit_json, user_errors, warn

ArchOption = Annotated[
    str | None,
    typer.Option("--arch", help="Architecture name (see `an-deploy archs`); inferred from the checkpoint if omitted."),
]
CheckpointArg = Annotated[
    Path, typer.Argument(help="Checkpoint (.pth/.pt): a state dict, optionally wrapped and `module.`-prefixed.")
]
JsonFlag = Annotated[bool, typer.Option("--json", help=JSON_HELP)]


def _warn_nonfinite(path: Path) -> None:
    from an_deploy.checkpoint import read_state_dict
    from an_deploy.weights_check import finite_warning

    message = finite_warning(read_state_dict(path)[0], str(path))
    if message is not None:
        warn(message)


def inspect(model: CheckpointArg, arch: ArchOption = None, json_out: JsonFlag = False) -> None:
    """Load a checkpoint and list its AttentiveNorm layers."""
    from an_deploy.checkpoint import load_model
    from an_deploy.json_records import inspect_record
    from an_deploy.summary import describe

    with user_errors():
        if json_out:
            emit_json(inspect_record(load_model(model, arch)))
            return
        typer.echo(describe(model, arch))
        _warn_nonfinite(model)


def evaluate(model: CheckpointArg, arch: ArchOption = None, json_out: JsonFlag = False) -> None:
    """Evaluate a demo-model checkpoint (16x16 digits) on the shipped held-out digits and print its accuracy."""
    from an_deploy.json_records import eval_record
    from an_deploy.summary import evaluate_digits

    with user_errors():
        result = evaluate_digits(model, arch)
        _warn_nonfinite(model)
        if json_out:
            emit_json(eval_record(result, model))
            return
        typer.echo(f"{result.arch}: held-out accuracy {result.accuracy:.4f} ({result.correct}/{result.total} digits)")
