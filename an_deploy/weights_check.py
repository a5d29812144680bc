"""Find NaN and Inf in a model's weights and name the tensors, so a user learns which layer is broken instead
of reading "max abs nan" after a whole export.

Where it must be called: right after a checkpoint is loaded (``an_deploy.checkpoint.load_model`` returns the
state dict's model), by ``export`` and ``parity`` through :func:`require_finite` (a non-finite weight makes
every comparison meaningless, so they refuse), and by ``inspect``, ``eval`` and ``bench`` through
:func:`finite_warning` (they still run, with one warning line on stderr).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from an_deploy.errors import UserError

MAX_NAMED = 5


class NonFiniteWeightsError(UserError):
    """Some weights are NaN or infinite."""


@dataclass(frozen=True)
class NonFinite:
    """One tensor with NaN or Inf values."""

    name: str
    nan: int
    inf: int
    numel: int

    def describe(self) -> str:
        parts = [f"{self.nan} NaN" if self.nan else "", f"{self.inf} Inf" if self.inf else ""]
        return f"{self.name} ({', '.join(p for p in parts if p)} of {self.numel})"


def nonfinite_tensors(weights: nn.Module | Mapping[str, torch.Tensor]) -> list[NonFinite]:
    """Every floating-point tensor (parameters and buffers) holding NaN or Inf, in state-dict order.

    Args:
        weights: a module (its ``state_dict()``) or a state dict.

    Returns:
        One entry per bad tensor (empty when every value is finite).
    """
    sd = weights.state_dict() if isinstance(weights, nn.Module) else weights
    bad = []
    for name, t in sd.items():
        if not isinstance(t, torch.Tensor) or not t.is_floating_point() or t.device.type == "meta":
            continue
        nan = int(torch.isnan(t).sum())
        inf = int(torch.isinf(t).sum())
        if nan or inf:
            bad.append(NonFinite(name, nan, inf, t.numel()))
    return bad


def _summary(bad: list[NonFinite], source: str) -> str:
    named = "; ".join(b.describe() for b in bad[:MAX_NAMED])
    more = f" (+{len(bad) - MAX_NAMED} more)" if len(bad) > MAX_NAMED else ""
    return f"{source} has non-finite weights in {len(bad)} tensor{'s' if len(bad) != 1 else ''}: {named}{more}"


def require_finite(weights: nn.Module | Mapping[str, torch.Tensor], source: str) -> None:
    """Refuse weights with NaN or Inf, naming the tensors.

    Args:
        weights: a module or a state dict.
        source: how the message names them (usually the checkpoint path).

    Raises:
        NonFiniteWeightsError: at least one tensor is not finite.
    """
    bad = nonfinite_tensors(weights)
    if bad:
        raise NonFiniteWeightsError(_summary(bad, source) + "; the checkpoint is broken (a diverged training run?)")


def finite_warning(weights: nn.Module | Mapping[str, torch.Tensor], source: str) -> str | None:
    """A one-line warning naming the non-finite tensors, or None when every weight is finite."""
    bad = nonfinite_tensors(weights)
    return _summary(bad, source) + "; outputs will be NaN" if bad else None
