"""``an-deploy archs``, ``inspect`` and ``eval``: list architectures, look at a checkpoint, evaluate the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from an_deploy.cli.common import user_errors

ArchOption = Annotated[
    str | None,
    typer.Option("--arch", help="Architecture name (see `an-deploy archs`); inferred from the checkpoint if omitted."),
]
CheckpointArg = Annotated[
    Path, typer.Argument(help="Checkpoint (.pth/.pt): a state dict, optionally wrapped and `module.`-prefixed.")
]


def archs() -> None:
    """List the architectures this tool can load."""
    from an_deploy.models.registry import ARCHS

    for info in ARCHS.values():
        typer.echo(f"{info.name:18s} input {'x'.join(map(str, info.input_shape)):12s} {info.description}")


def inspect(model: CheckpointArg, arch: ArchOption = None) -> None:
    """Load a checkpoint and list its AttentiveNorm layers."""
    from an_deploy.summary import describe

    with user_errors():
        typer.echo(describe(model, arch))


def evaluate(model: CheckpointArg, arch: ArchOption = None) -> None:
    """Evaluate a demo-model checkpoint (16x16 digits) on the shipped held-out digits and print its accuracy."""
    from an_deploy.summary import evaluate_digits

    with user_errors():
        result = evaluate_digits(model, arch)
        typer.echo(f"{result.arch}: held-out accuracy {result.accuracy:.4f} ({result.correct}/{result.total} digits)")
