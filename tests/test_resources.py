"""The memory estimate that refuses an oversized batch before the work starts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from an_deploy.checkpoint import load_model
from an_deploy.models.digits import DEMO_CHECKPOINT
from an_deploy.resources import GIB, ResourceError, activation_bytes_per_sample, available_memory, check_memory


def test_activation_bytes_count_every_leaf_output() -> None:
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 10))
    # input 1x8x8, conv 4x8x8, relu 4x8x8, flatten 256, linear 10 floats
    assert activation_bytes_per_sample(model, (1, 8, 8)) == 4 * (64 + 256 + 256 + 256 + 10)


def test_the_meta_estimate_matches_a_real_forward() -> None:
    model = load_model(DEMO_CHECKPOINT).model
    real = 0

    def hook(_m: nn.Module, _i: object, out: torch.Tensor) -> None:
        nonlocal real
        real += out.numel() * 4

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    with torch.no_grad():
        model(torch.zeros(1, 1, 16, 16))
    for h in handles:
        h.remove()
    assert activation_bytes_per_sample(model, (1, 16, 16)) == real + 16 * 16 * 4


def test_an_oversized_batch_is_refused_with_the_batch_that_fits() -> None:
    model = load_model(DEMO_CHECKPOINT).model
    per_sample = activation_bytes_per_sample(model, (1, 16, 16))
    with pytest.raises(ResourceError, match=r"lower --input-shape to at most about \d+"):
        check_memory(model, (100000, 1, 16, 16), "export", "--input-shape", available=16 * GIB)
    need = check_memory(model, (8, 1, 16, 16), "export", "--input-shape", available=16 * GIB)
    assert need == int(per_sample * 8 * 1.5)


def test_available_memory_is_measured_here() -> None:
    avail = available_memory()
    assert avail is not None and 0 < avail < 1 << 50


def test_an_input_the_model_cannot_take_counts_only_the_input() -> None:
    model = load_model(DEMO_CHECKPOINT).model
    assert activation_bytes_per_sample(model, (3, 16, 16)) == 3 * 16 * 16 * 4
