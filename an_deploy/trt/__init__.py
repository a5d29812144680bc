"""TensorRT side: plugin library discovery and loading, ONNX preparation for the parser, engine building.

Nothing here imports TensorRT (or onnx) at package import time; :func:`an_deploy.trt.availability.require_backend`
imports data-centre TensorRT or TensorRT-RTX (``--backend``) when a command actually needs it.
"""

from __future__ import annotations

import enum


class AnImpl(str, enum.Enum):
    """How TensorRT computes the AttentiveNorm nodes."""

    PLUGIN = "plugin"  # our fused CUDA plugin (the local function is stripped)
    NATIVE = "native"  # the function inlined into standard ops: the baseline the plugin must beat
