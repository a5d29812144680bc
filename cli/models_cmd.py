"""``an-deploy inspect`` and ``eval``: look at a checkpoint, evaluate the demo (``archs`` is in archs_cmd)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from an_deploy.cli.common import JSON_HELP, emit_json, user_errors, warn
from an_deploy.lazy import lazy_import

if TYPE_CHECKING:
    from an_deploy.checkpoint import LoadedModel
    from an_deploy.models.model_config import ModelConfig

# The library loads when a command runs, not for --help (it imports torch): see an_deploy.lazy.
checkpoint = lazy_import("an_deploy.checkpoint")
config_files = lazy_import("an_deploy.models.config_files")
records = lazy_import("an_deploy.json_records")
summary = lazy_import("an_deploy.summary")
weights_check = lazy_import("an_deploy.weights_check")

ArchOption = Annotated[
    str | None,
    typer.Option("--arch", help="Architecture name (see `an-deploy archs`); inferred from the checkpoint if omitted."),
]
CheckpointArg = Annotated[
    Path, typer.Argument(help="Checkpoint (.pth/.pt/.pth.tar): a state dict, optionally wrapped and prefixed.")
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", metavar="FILE", help="The model's training config (AOGNet-v2 .yaml or iVMCL-Release "
                 ".py): builds the model and states the options its checkpoint keys cannot show."),
]
AssumePublishedOption = Annotated[
    bool,
    typer.Option("--assume-published", help="When the checkpoint keys cannot show an option (attention mode 2/5/6 "
                 "or 0/4, use_rsd/use_maxpool/act_cfg) and no config says it, assume the authors' published setting "
                 "(printed as a warning) instead of refusing."),
]


def load_config(path: Path | None) -> ModelConfig | None:
    """Read ``--config FILE`` (``None`` when not given).

    Raises:
        UserError: the config cannot be read or describes a model this tool cannot build.
    """
    if path is None:
        return None
    return config_files.read_config(path)

JsonFlag = Annotated[bool, typer.Option("--json", help=JSON_HELP)]


def _load(model: Path, arch: str | None, config: Path | None, assume_published: bool, warn_nonfinite: bool
          ) -> LoadedModel:
    """Load the checkpoint once; warn (stderr) about NaN/Inf weights by tensor when asked."""
    loaded = checkpoint.load_model(model, arch, load_config(config), assume_published)
    message = weights_check.finite_warning(loaded.model, str(model)) if warn_nonfinite else None
    if message is not None:
        warn(message)
    return loaded


def inspect(model: CheckpointArg, arch: ArchOption = None, config: ConfigOption = None,
            assume_published: AssumePublishedOption = False, json_out: JsonFlag = False) -> None:
    """Load a checkpoint; list the options it uses (and where each came from) and its AttentiveNorm layers."""
    with user_errors():
        loaded = _load(model, arch, config, assume_published, warn_nonfinite=not json_out)
        if json_out:
            emit_json(records.inspect_record(loaded))  # the record lists non-finite tensors itself
            return
        typer.echo(summary.describe(loaded))


def evaluate(model: CheckpointArg, arch: ArchOption = None, config: ConfigOption = None,
             assume_published: AssumePublishedOption = False, json_out: JsonFlag = False) -> None:
    """Evaluate a demo-model checkpoint (16x16 digits) on the shipped held-out digits and print its accuracy."""
    with user_errors():
        result = summary.evaluate_digits(_load(model, arch, config, assume_published, warn_nonfinite=True))
        if json_out:
            emit_json(records.eval_record(result, model))
            return
        typer.echo(f"{result.arch}: held-out accuracy {result.accuracy:.4f} ({result.correct}/{result.total} digits)")
