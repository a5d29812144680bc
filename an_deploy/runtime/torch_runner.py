"""PyTorch eager runner: the float32 row and the float64 reference row of the parity matrix."""

from __future__ import annotations

import copy

import torch
from torch import nn


class TorchRunner:
    """Run a model in eager mode in one dtype (float64 = the reference, float32 = what was trained)."""

    def __init__(self, model: nn.Module, dtype: torch.dtype = torch.float32, name: str | None = None) -> None:
        self.dtype = dtype
        self.precision = {torch.float64: "fp64", torch.float32: "fp32", torch.float16: "fp16"}[dtype]
        self.name = name or f"torch-{self.precision}"
        self.device = "cpu"
        self.model = copy.deepcopy(model).to(dtype).eval() if dtype != torch.float32 else model.eval()

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Run one batch on the CPU; the output has the runner's dtype."""
        with torch.no_grad():
            return self.model(x.to(device="cpu", dtype=self.dtype))
