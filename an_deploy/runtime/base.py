"""The protocol every backend runner implements.

Our models have one image input and one output, so a runner maps a tensor to a tensor. Tensors are
the common currency: CPU tensors for CPU backends, CUDA tensors for GPU backends (a runner moves
inputs to its own device and returns outputs on it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class Runner(Protocol):
    name: str  # the row label in reports, e.g. "torch-fp32", "ort-function", "trt-plugin-fp16"
    device: str  # "cpu" or "cuda"

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Run one batch; the output is on the runner's device."""
        ...


# ---------------------------------------------------------------------------------------------------------
# TensorRT rows of the parity matrix: the interface between an_deploy/parity and an_deploy/runtime/trt_runner.
#
# ``an_deploy.runtime.trt_runner`` exposes
#
#     def parity_runners(onnx_path: Path, *, input_shape: tuple[int, int, int, int], max_batch: int) -> list[Runner]
#
# It builds what it needs from the function-form ONNX file (stripping the local function with
# ``an_deploy.export.functions.strip_an_functions`` to bind the plugin) and returns one runner per row, e.g.
# "trt-plugin-fp32", "trt-plugin-fp16". Each runner has, besides ``name``/``device``/``run``, a ``precision``
# attribute ("fp32" or "fp16") that selects its row in ``an_deploy.parity.tolerances.TOLERANCES[("trt", p)]``;
# ``run`` accepts any batch up to ``max_batch`` of ``input_shape[1:]`` and returns the output (any device).
# Parity calls :func:`trt_rows` only when ``importlib.util.find_spec("tensorrt")`` finds TensorRT.
# ---------------------------------------------------------------------------------------------------------


def trt_rows(onnx_path: Path, *, input_shape: tuple[int, int, int, int], max_batch: int) -> list[Runner]:
    """The TensorRT runners of the parity matrix (see the interface above).

    Raises:
        ImportError: ``an_deploy.runtime.trt_runner`` (or TensorRT) cannot be imported.
    """
    from an_deploy.runtime import trt_runner

    return list(trt_runner.parity_runners(onnx_path, input_shape=input_shape, max_batch=max_batch))
