"""The demo data set: scikit-learn's 8x8 handwritten digits, upsampled to 16x16.

The held-out split ships with the repository (``models/demo/digits_heldout.pt``, raw 0..16 pixels), so
evaluating or checking the demo model needs no scikit-learn; training (``python scripts/train_demo.py``)
does.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

DEMO_DIR = Path(__file__).resolve().parent / "demo"
HELDOUT_PATH = DEMO_DIR / "digits_heldout.pt"
DEMO_CHECKPOINT = DEMO_DIR / "an_resnet_demo.pt"
DEMO_BN_CHECKPOINT = DEMO_DIR / "resnet_demo.pt"
SPLIT_SEED = 0
HELDOUT_FRACTION = 0.2


def preprocess(pixels: torch.Tensor) -> torch.Tensor:
    """Raw digits [N, 64] or [N, 8, 8] with values 0..16 -> float32 [N, 1, 16, 16], zero mean, unit scale."""
    x = pixels.reshape(-1, 1, 8, 8).to(torch.float32) / 16.0
    x = F.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False)
    return (x - 0.3) / 0.4


def split_indices(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Deterministic train / held-out index split."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(SPLIT_SEED))
    n_held = int(round(n * HELDOUT_FRACTION))
    return perm[n_held:], perm[:n_held]


def load_heldout() -> tuple[torch.Tensor, torch.Tensor]:
    """The shipped held-out images (preprocessed, [N, 1, 16, 16]) and labels [N]."""
    data = torch.load(HELDOUT_PATH, map_location="cpu", weights_only=True)
    return preprocess(data["pixels"]), data["labels"].to(torch.int64)
