"""Shared fixtures: repository paths and AN layer configurations covering both code families."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

# The test models are tiny: extra intra-op threads only add barrier waits on a small, shared CI machine.
torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO
