"""Bring your own model code: ``package.module:callable`` builds the user's ``nn.Module``, a checkpoint fills it.

The callable is imported (the current folder first on ``sys.path``, as ``python -m`` would have it), called
without arguments and must return an ``nn.Module``; the checkpoint's state dict (read by
:func:`an_deploy.checkpoint.read_state_dict`) is loaded strictly. Every AN layer's options then come from the
live module (see :mod:`an_deploy.fold`).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from an_deploy.checkpoint import LoadedModel, load_model, read_state_dict, state_dict_mismatch
from an_deploy.errors import UserError
from an_deploy.models.model_config import ModelConfig


class ModelDefError(UserError):
    """The ``--model-def`` spec cannot be imported or called, or its module does not fit the checkpoint."""


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0]}" if text else type(e).__name__


def build_model(model_def: str) -> nn.Module:
    """Import and call ``package.module:callable``.

    Args:
        model_def: ``module.path:attribute`` (the attribute may be dotted, e.g. ``pkg.nets:Net.build``).

    Returns:
        The module the callable returned (not yet in eval mode).

    Raises:
        ModelDefError: a malformed spec, a failed import, a missing or non-callable attribute, an exception in the
            callable, or a result that is not an ``nn.Module``.
    """
    module_name, sep, attr = model_def.partition(":")
    if not sep or not module_name or not attr:
        raise ModelDefError(f"--model-def must look like package.module:callable, got {model_def!r}")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        target = importlib.import_module(module_name)
    except Exception as e:  # the user's module may raise anything while importing
        raise ModelDefError(f"cannot import {module_name!r} for --model-def: {_first_line(e)}") from None
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ModelDefError(f"{module_name!r} has no attribute {attr!r} (--model-def {model_def})")
        target = getattr(target, part)
    if not callable(target):
        raise ModelDefError(f"--model-def {model_def} is a {type(target).__name__}, not a callable")
    try:
        model = target()
    except Exception as e:  # an error in the user's code, reported in one line
        raise ModelDefError(f"calling {model_def}() failed: {_first_line(e)}") from None
    if not isinstance(model, nn.Module):
        raise ModelDefError(f"{model_def}() returned a {type(model).__name__}, not a torch.nn.Module")
    return model


def load_strict(model: nn.Module, state_dict: Mapping[str, torch.Tensor], what: str) -> None:
    """Load ``state_dict`` into ``model`` with every key and shape matching.

    Raises:
        ModelDefError: missing or unexpected keys or shape mismatches (listed in one line).
    """
    problems = state_dict_mismatch(model, state_dict)
    if problems:
        raise ModelDefError(f"the checkpoint does not fit {what}: " + "; ".join(problems))
    model.load_state_dict(state_dict, strict=True)


def load_with_model_def(checkpoint: str | Path, model_def: str) -> nn.Module:
    """Build the user's module and fill it from ``checkpoint``; float32, eval mode.

    Raises:
        CheckpointError: the checkpoint cannot be read.
        ModelDefError: see :func:`build_model` and :func:`load_strict`.
    """
    state_dict, _ = read_state_dict(checkpoint)
    model = build_model(model_def)
    load_strict(model, state_dict, f"the module of --model-def {model_def}")
    return model.float().eval()


def declared_input_shape(model: nn.Module) -> tuple[int, ...] | None:
    """The example input shape a module declares in an ``input_shape`` attribute (N x C x H x W, or C x H x W
    with batch 1), if any."""
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, (tuple, list)) and all(isinstance(d, int) for d in shape) and len(shape) in (3, 4):
        return tuple(shape) if len(shape) == 4 else (1, *shape)
    return None


@dataclass(frozen=True)
class CheckpointModel:
    """A checkpoint's model, built by the registry or a config (``loaded``) or by the user's code (``--model-def``).

    Attributes:
        model: the eval-mode float32 module.
        name: the architecture name, or the ``--model-def`` spec.
        input_shape: the example input N x C x H x W it was made for, when known.
        loaded: the loader's result (options and their sources); ``None`` with ``--model-def``, whose AN options
            are read from the live module.
    """

    model: nn.Module
    name: str
    input_shape: tuple[int, ...] | None
    loaded: LoadedModel | None


def load_checkpoint_model(checkpoint: str | Path, arch: str | None = None, model_def: str | None = None,
                          config: ModelConfig | None = None, assume_published: bool = False) -> CheckpointModel:
    """The model of ``checkpoint``: built by ``model_def`` (the user's code) or by :func:`load_model`.

    Raises:
        UserError: ``model_def`` together with ``arch`` or ``config``; see :func:`load_with_model_def` and
            :func:`an_deploy.checkpoint.load_model`.
    """
    if model_def is not None:
        if arch is not None or config is not None:
            raise UserError("--model-def and --arch/--config exclude each other: the model definition builds the model")
        model = load_with_model_def(checkpoint, model_def)
        return CheckpointModel(model, model_def, declared_input_shape(model), None)
    loaded = load_model(checkpoint, arch, config=config, assume_published=assume_published)
    return CheckpointModel(loaded.model, loaded.arch, loaded.input_shape, loaded)
