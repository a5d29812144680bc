"""Describe a checkpoint's AN layers and evaluate the demo model on its held-out digits."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from an_deploy.checkpoint import LoadedModel
from an_deploy.discover import find_an_layers
from an_deploy.errors import UserError
from an_deploy.models.digits import load_heldout
from an_deploy.models.registry import ARCHS, DEMO_INPUT_SHAPE, get_arch


def option_lines(loaded: LoadedModel) -> list[str]:
    """One line per option that changes the numbers: ``name = value  (source)``."""
    return [f"{name} = {option.value!r}  ({option.source})" for name, option in loaded.options.items()]


def describe(loaded: LoadedModel) -> str:
    """A short text description of a loaded checkpoint: architecture, parameters, options used and AN layers.

    Args:
        loaded: what :func:`an_deploy.checkpoint.load_model` returned.

    Returns:
        Several lines of text.
    """
    path = loaded.path
    layers = find_an_layers(loaded.model)
    params = sum(p.numel() for p in loaded.model.parameters())
    by_name = loaded.arch in ARCHS and "config" not in loaded.options
    what = get_arch(loaded.arch).description if by_name else "from its config"
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


def evaluate_digits(loaded: LoadedModel) -> EvalResult:
    """Top-1 accuracy of a loaded demo-shaped checkpoint on the shipped held-out digits.

    Args:
        loaded: what :func:`an_deploy.checkpoint.load_model` returned.

    Returns:
        The accuracy and counts.

    Raises:
        UserError: its model does not take the demo's 1x16x16 input.
    """
    if loaded.input_shape[1:] != DEMO_INPUT_SHAPE[1:]:
        raise UserError(f"{loaded.arch} does not take the demo's 1x16x16 digits; eval works on demo models only")
    x, y = load_heldout()
    with torch.no_grad():
        pred = loaded.model(x).argmax(1)
    correct = int((pred == y).sum())
    return EvalResult(loaded.arch, correct / len(y), correct, len(y))
