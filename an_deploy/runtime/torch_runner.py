"""PyTorch eager runner: the float32 row and the float64 reference row of the parity matrix, and the PyTorch rows
of the benchmark (CPU, or CUDA in fp32/fp16)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class TorchRunner:
    """Run a model in eager mode in one dtype (float64 = the reference, float32 = what was trained) on one device."""

    family = "torch"

    def __init__(self, model: nn.Module, dtype: torch.dtype = torch.float32, name: str | None = None,
                 device: str = "cpu") -> None:
        self.backend_label = f"PyTorch {torch.__version__}"
        self.dtype = dtype
        self.precision = {torch.float64: "fp64", torch.float32: "fp32", torch.float16: "fp16"}[dtype]
        self.name = name or f"torch-{self.precision}"
        self.device = device
        same = dtype == torch.float32 and device == "cpu"
        self.model = model.eval() if same else copy.deepcopy(model).to(device=device, dtype=dtype).eval()

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Run one batch on the runner's device; the output has the runner's dtype."""
        with torch.no_grad():
            return self.model(x.to(device=self.device, dtype=self.dtype))
