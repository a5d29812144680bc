"""Describe a checkpoint's AN layers and evaluate the demo model on its held-out digits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from an_deploy.checkpoint import LoadedModel, load_model
from an_deploy.discover import find_an_layers
from an_deploy.errors import UserError
from an_deploy.models.model_config import ModelConfig
from an_deploy.models.registry import ARCHS, DEMO_INPUT_SHAPE, get_arch


def option_lines(loaded: LoadedModel) -> list[str]:
    """One line per option that changes the numbers: ``name = value  (source)``."""
    return [f"{name} = {option.value!r}  ({option.source})" for name, option in loaded.options.items()]


def describe(path: Path, arch: str | None = None, config: ModelConfig | None = None,
             assume_published: bool = False) -> str:
    """A short text description of a checkpoint: architecture, parameters, options used and AN layers.

    Args:
        path: the checkpoint.
        arch: registry name (see :func:`an_deploy.checkpoint.load_model`).
        config: the model's training config, if given.
        assume_published: take the authors' published setting for options the keys cannot show.

    Returns:
        Several lines of text.

    Raises:
        UserError: the checkpoint cannot be loaded as asked.
    """
    loaded = load_model(path, arch, config=config, assume_published=assume_published)
    layers = find_an_layers(loaded.model)
    params = sum(p.numel() for p in loaded.model.parameters())
    what = get_arch(loaded.arch).description if loaded.arch in ARCHS and config is None else "from its config"
    lines = [
        f"{path}: {loaded.arch} ({what}), {params / 1e6:.2f} M parameters, "
        f"{loaded.num_classes} classes, {len(layers)} AttentiveNorm layers",
        f"  weights: {loaded.layout}",
        "  options:",
        *(f"    {line}" for line in option_lines(loaded)),
    ]
    for name, m in layers:
        k, c = m.weight_.shape
        lines.append(f"  {name}: {type(m).__name__} C={c} K={k}")
    return "\n".join(lines)


@dataclass
class EvalResult:
    arch: str
    accuracy: float
    correct: int
    total: int


def evaluate_digits(path: Path, arch: str | None = None, config: ModelConfig | None = None,
                    assume_published: bool = False) -> EvalResult:
    """Top-1 accuracy of a demo-shaped checkpoint on the shipped held-out digits.

    Args:
        path: the checkpoint.
        arch: registry name (see :func:`an_deploy.checkpoint.load_model`).
        config: the model's training config, if given.
        assume_published: take the authors' published setting for options the keys cannot show.

    Returns:
        The accuracy and counts.

    Raises:
        UserError: the checkpoint is bad or its model does not take the demo's 1x16x16 input.
    """
    from an_deploy.models.digits import load_heldout

    loaded = load_model(path, arch, config=config, assume_published=assume_published)
    if loaded.input_shape[1:] != DEMO_INPUT_SHAPE[1:]:
        raise UserError(f"{loaded.arch} does not take the demo's 1x16x16 digits; eval works on demo models only")
    x, y = load_heldout()
    with torch.no_grad():
        pred = loaded.model(x).argmax(1)
    correct = int((pred == y).sum())
    return EvalResult(loaded.arch, correct / len(y), correct, len(y))
