"""The protocol every backend runner implements.

Our models have one image input and one output, so a runner maps a tensor to a tensor. Tensors are
the common currency: CPU tensors for CPU backends, CUDA tensors for GPU backends (a runner moves
inputs to its own device and returns outputs on it).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class Runner(Protocol):
    name: str  # the row label in reports, e.g. "torch-fp32", "ort-function", "trt-plugin-fp16"
    device: str  # "cpu" or "cuda"

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Run one batch; the output is on the runner's device."""
        ...
