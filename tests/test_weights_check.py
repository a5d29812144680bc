"""Non-finite weights are named by tensor (refused for export/parity, a warning elsewhere)."""

from __future__ import annotations

import pytest
import torch

from an_deploy.checkpoint import load_model
from an_deploy.models.digits import DEMO_CHECKPOINT
from an_deploy.weights_check import NonFiniteWeightsError, finite_warning, nonfinite_tensors, require_finite


def test_finite_demo_passes() -> None:
    model = load_model(DEMO_CHECKPOINT).model
    assert nonfinite_tensors(model) == [] and finite_warning(model, "demo") is None
    require_finite(model, "demo")


def test_nan_and_inf_are_counted_and_named() -> None:
    sd = load_model(DEMO_CHECKPOINT).model.state_dict()
    name = next(k for k in sd if k.endswith("bn2.weight_"))
    sd[name].view(-1)[:3] = float("nan")
    sd[name].view(-1)[5] = float("inf")
    sd["fc.bias"][0] = -float("inf")
    bad = {b.name: (b.nan, b.inf) for b in nonfinite_tensors(sd)}
    assert bad == {name: (3, 1), "fc.bias": (0, 1)}
    with pytest.raises(NonFiniteWeightsError, match=rf"2 tensors: {name} \(3 NaN, 1 Inf of \d+\); fc.bias \(1 Inf"):
        require_finite(sd, "m.pt")
    assert (finite_warning(sd, "m.pt") or "").startswith("m.pt has non-finite weights in 2 tensors")


def test_integer_buffers_are_ignored_and_long_lists_are_cut() -> None:
    sd = {f"t{i}": torch.full((2,), float("nan")) for i in range(8)} | {"n": torch.tensor(3)}
    message = finite_warning(sd, "x") or ""
    assert "in 8 tensors" in message and "(+3 more)" in message and "n (" not in message
