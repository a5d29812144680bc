"""The inputs every check runs: one place decides what a model of a given input shape is checked on.

A model whose input is the shipped demo's (1 x 16 x 16 digits) is checked on the demo's held-out digits, real data
with a known label. Any other model is checked on random images with per-channel offsets and scales (statistics
far from 0/1, like normalised photos), seeded so that a run can be repeated.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from an_deploy.models.digits import load_heldout
from an_deploy.models.registry import DEMO_INPUT_SHAPE


@dataclass(frozen=True)
class CheckInputs:
    """A batch of inputs and how it was made, in words (for reports)."""

    x: torch.Tensor
    description: str


def uses_held_out_data(chw: tuple[int, ...]) -> bool:
    """Whether inputs of shape C x H x W come from the demo's held-out digits (their count is fixed)."""
    return tuple(chw) == DEMO_INPUT_SHAPE[1:]


def random_images(input_shape: tuple[int, ...], batch: int, seed: int = 0) -> torch.Tensor:
    """``batch`` random images of ``input_shape[1:]`` with per-channel offsets and scales."""
    c, h, w = input_shape[1:]
    g = torch.Generator().manual_seed(seed)
    scale = 0.5 + torch.rand(1, c, 1, 1, generator=g)
    shift = 0.3 * torch.randn(1, c, 1, 1, generator=g)
    return torch.randn(batch, c, h, w, generator=g) * scale + shift


def check_inputs(chw: tuple[int, ...], batch: int, seed: int = 0) -> CheckInputs:
    """The inputs to check a model with input C x H x W on: all the demo's held-out digits for its shape,
    otherwise ``batch`` random images (see the module docstring)."""
    if uses_held_out_data(chw):
        x, _ = load_heldout()
        return CheckInputs(x, f"the demo's {x.shape[0]} held-out digits")
    desc = f"{batch} random images {'x'.join(map(str, chw))} (per-channel offsets/scales, seed {seed})"
    return CheckInputs(random_images((batch, *chw), batch, seed), desc)


def realistic_inputs(input_shape: tuple[int, ...], batch: int, seed: int = 0) -> torch.Tensor:
    """At most ``batch`` of :func:`check_inputs`' inputs for ``input_shape[1:]``: the first ``batch`` held-out digits
    for the demo's shape (fewer when there are fewer), otherwise ``batch`` random images."""
    return check_inputs(tuple(input_shape[1:]), batch, seed).x[:batch].contiguous()
