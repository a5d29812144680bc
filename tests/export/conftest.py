"""Checkpoints for export tests: the trained demo model shipped in models/demo/."""

from __future__ import annotations

from pathlib import Path

import pytest
from torch import nn

from an_deploy.models.digits import DEMO_CHECKPOINT


@pytest.fixture(scope="session")
def demo_checkpoint() -> Path:
    """The trained demo checkpoint (100% top-1 agreement is checked on its real held-out digits)."""
    assert DEMO_CHECKPOINT.is_file(), f"the shipped demo checkpoint is missing: {DEMO_CHECKPOINT}"
    return DEMO_CHECKPOINT


@pytest.fixture(scope="session")
def demo_model(demo_checkpoint: Path) -> nn.Module:
    from an_deploy.checkpoint import load_model

    return load_model(demo_checkpoint).model
