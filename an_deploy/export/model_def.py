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
from pathlib import Path

import torch
from torch import nn

from an_deploy.checkpoint import read_state_dict
from an_deploy.errors import UserError

_MAX_LISTED = 6


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


def _listing(title: str, items: list[str]) -> str:
    more = f" (+{len(items) - _MAX_LISTED} more)" if len(items) > _MAX_LISTED else ""
    return f"{len(items)} {title}: {', '.join(items[:_MAX_LISTED])}{more}"


def load_strict(model: nn.Module, state_dict: Mapping[str, torch.Tensor], what: str) -> None:
    """Load ``state_dict`` into ``model`` with every key and shape matching.

    Raises:
        ModelDefError: missing or unexpected keys or shape mismatches (listed in one line).
    """
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    shapes = [f"{k} {tuple(state_dict[k].shape)} vs model {tuple(expected[k].shape)}"
              for k in sorted(set(state_dict) & set(expected)) if state_dict[k].shape != expected[k].shape]
    problems = [_listing(t, items) for t, items in (("missing keys", missing), ("unexpected keys", unexpected),
                                                    ("shape mismatches", shapes)) if items]
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
