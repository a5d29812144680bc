"""ONNX Runtime runner (the CPU provider unless told otherwise)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnxruntime.capi import onnxruntime_pybind11_state as state

from an_deploy.errors import UserError, first_line


class OrtLoadError(UserError):
    """ONNX Runtime refuses a model that parsed (an unknown op or domain, an invalid graph)."""


class OrtRunner:
    """One ``onnxruntime.InferenceSession`` over a model with one image input and one output."""

    family = "ort"

    def __init__(self, model: onnx.ModelProto | Path | str, name: str = "ort", providers: list[str] | None = None,
                 threads: int | None = None) -> None:
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: no warnings about initializers folded away
        if threads is not None:
            options.intra_op_num_threads = threads
        source = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
        try:
            self.session = ort.InferenceSession(source, options, providers=providers or ["CPUExecutionProvider"])
        except (state.Fail, state.InvalidGraph, state.InvalidArgument, state.NotImplemented, state.InvalidProtobuf,
                state.RuntimeException) as e:
            first = first_line(e)
            raise OrtLoadError(f"ONNX Runtime cannot load the model for {name}: {first}") from None
        self.name = name
        self.precision = "fp32"
        self.backend_label = f"ONNX Runtime {ort.__version__}"
        self.device = "cuda" if self.session.get_providers()[0] == "CUDAExecutionProvider" else "cpu"
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]

    def run_all(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every output of one batch, as CPU tensors."""
        feed = {self.input_name: np.ascontiguousarray(x.detach().cpu().to(torch.float32).numpy())}
        return [torch.from_numpy(np.asarray(o)) for o in self.session.run(None, feed)]

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """The first output of one batch (CPU tensor)."""
        return self.run_all(x)[0]
