"""The protocol every backend runner implements.

Our models have one image input and one output, so a runner maps a tensor to a tensor. Tensors are
the common currency: CPU tensors for CPU backends, CUDA tensors for GPU backends (a runner moves
inputs to its own device and returns outputs on it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import torch

from an_deploy.trt.availability import Backend


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
# ``trt_runner.runner_from_onnx(onnx_path, impl, fp16, input_shape)`` builds an engine in memory from the
# function-form ONNX file (``impl`` PLUGIN strips the local function with
# ``an_deploy.onnx_graph.functions.strip_an_functions`` so the nodes bind the plugin; NATIVE inlines it) and
# returns a Runner named ``trt-<impl>-<fp32|fp16>`` whose ``backend_label`` attribute names the TensorRT that
# built it ("TensorRT 10.14.1", "TensorRT-RTX 1.7.1.116"). The profile covers batch 1..input_shape[0].
# TensorRT-RTX (and TensorRT 11) has no FP16 builder flag (strongly typed networks): no fp16 rows then.
# The precision of a row (its key in ``an_deploy.parity.tolerances.TOLERANCES[("trt", precision)]``) is the
# runner's ``precision`` attribute when it has one, else the last ``-`` part of its name.
# Parity calls :func:`trt_rows` only when ``an_deploy.trt.availability.tensorrt_available()`` finds a TensorRT.
# ---------------------------------------------------------------------------------------------------------


def precision_of(runner: Runner) -> str:
    """``fp32``/``fp16``/``fp64`` of a runner: its ``precision`` attribute, else the suffix of its name."""
    return str(getattr(runner, "precision", runner.name.rsplit("-", 1)[-1]))


def trt_rows(
    onnx_path: Path, *, input_shape: tuple[int, int, int, int], backend: Backend = Backend.AUTO
) -> list[Runner]:
    """The TensorRT runners of the parity matrix: plugin and native, fp32 and fp16 (see the interface above).

    ``backend`` is ``--backend``'s choice.

    Raises:
        ImportError: ``an_deploy.runtime.trt_runner`` cannot be imported.
        UserError: TensorRT, CUDA or the plugin library is missing, or an engine does not build.
    """
    from an_deploy.runtime import trt_runner
    from an_deploy.trt import AnImpl
    from an_deploy.trt.availability import require_backend

    precisions = (False, True) if require_backend(backend).has_fp16_flag else (False,)
    return [
        trt_runner.runner_from_onnx(onnx_path, impl, fp16, input_shape, backend=backend)
        for impl in AnImpl
        for fp16 in precisions
    ]
