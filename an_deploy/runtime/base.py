"""The protocol every backend runner implements.

Our models have one image input and one output, so a runner maps a tensor to a tensor. Tensors are
the common currency: CPU tensors for CPU backends, CUDA tensors for GPU backends (a runner moves
inputs to its own device and returns outputs on it).

What reports need to know about a row is carried as attributes, never parsed out of its name: ``family``
(``torch``, ``ort`` or ``trt``: the key of the tolerance table together with ``precision``), ``precision``
(``fp64``, ``fp32``, ``fp16``) and ``backend_label`` (the runtime and its version, e.g. ``TensorRT-RTX 1.7.1.116``).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class Runner(Protocol):
    name: str  # the row label in reports, e.g. "torch-fp32", "ort-function", "trt-plugin-fp16"
    device: str  # "cpu" or "cuda"
    family: str  # "torch", "ort" or "trt"
    precision: str  # "fp64", "fp32" or "fp16"
    backend_label: str  # e.g. "PyTorch 2.13.0", "ONNX Runtime 1.23.0", "TensorRT-RTX 1.7.1.116"

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Run one batch; the output is on the runner's device."""
        ...
