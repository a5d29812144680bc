"""Checkpoints for export tests: the trained demo model when it exists, else a realistic random one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from models.digits import DEMO_CHECKPOINT
from models.randomize import realistic_
from models.registry import an_resnet_demo


@pytest.fixture(scope="session")
def demo_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trained demo checkpoint if present (100% top-1 agreement is then checked on real digits)."""
    if DEMO_CHECKPOINT.is_file():
        return DEMO_CHECKPOINT
    path = tmp_path_factory.mktemp("ckpt") / "an_resnet_demo.pt"
    torch.save({"arch": "an_resnet_demo", "state_dict": realistic_(an_resnet_demo(), seed=5).state_dict()}, path)
    return path


@pytest.fixture(scope="session")
def demo_model(demo_checkpoint: Path) -> nn.Module:
    from an_deploy.checkpoint import load_model

    return load_model(demo_checkpoint).model
