"""The benchmark's rows for one model: PyTorch eager (fp32; fp32 and fp16 on a GPU), ``torch.compile``,
ONNX Runtime on the function and decomposed forms, and the four TensorRT rows when TensorRT and CUDA exist."""

from __future__ import annotations

import copy
from pathlib import Path

import onnx
import torch
from torch import nn

from an_deploy.bench.suite import Row, RowUnavailable
from an_deploy.onnx_graph.functions import inline_an_functions
from an_deploy.runtime.base import Runner
from an_deploy.runtime.ort_runner import OrtRunner
from an_deploy.runtime.torch_runner import TorchRunner
from an_deploy.trt import AnImpl
from an_deploy.trt.availability import SKIP_REASON, Backend, import_backend
from an_deploy.trt.runner import row_name, runner_from_onnx


def _cuda_torch(model: nn.Module, dtype: torch.dtype, name: str) -> Runner:
    if not torch.cuda.is_available():
        raise RowUnavailable("no CUDA device")
    return TorchRunner(model, dtype, name=name, device="cuda")


def _compiled(model: nn.Module) -> Runner:
    return TorchRunner(torch.compile(copy.deepcopy(model).eval()), torch.float32, name="torch-compile-fp32")


def _trt(
    onnx_path: Path, impl: AnImpl, fp16: bool, shape: tuple[int, ...], plugin: Path | None, backend: Backend
) -> Runner:
    found = import_backend(backend)
    if found is None:
        raise RowUnavailable(SKIP_REASON)
    if not torch.cuda.is_available():
        raise RowUnavailable("no CUDA device")
    if fp16 and not found.has_fp16_flag:
        raise RowUnavailable(f"{found.label} has no FP16 builder flag (strongly typed networks)")
    return runner_from_onnx(onnx_path, impl, fp16, shape, plugin=plugin, backend=backend)


def default_rows(
    model: nn.Module,
    function_model: onnx.ModelProto,
    shape: tuple[int, ...],
    work_dir: Path,
    compile_row: bool = True,
    trt_rows: bool = True,
    plugin: Path | None = None,
    decomposed: onnx.ModelProto | None = None,
    backend: Backend = Backend.AUTO,
) -> list[Row]:
    """Every row for ``model`` and its function-form export at input ``shape`` (``work_dir`` holds the ONNX file
    TensorRT parses; ``decomposed`` saves inlining again when the caller has it; ``backend`` is ``--backend``'s
    choice for the TensorRT rows)."""
    decomposed = decomposed if decomposed is not None else inline_an_functions(function_model)
    rows = [Row("torch-fp32", "cpu", lambda: TorchRunner(model, torch.float32))]
    if compile_row:
        rows.append(Row("torch-compile-fp32", "cpu", lambda: _compiled(model)))
    rows += [
        Row("ort-function", "cpu", lambda: OrtRunner(function_model, name="ort-function")),
        Row("ort-decomposed", "cpu", lambda: OrtRunner(decomposed, name="ort-decomposed")),
    ]
    if torch.cuda.is_available():
        rows += [
            Row("torch-cuda-fp32", "cuda", lambda: _cuda_torch(model, torch.float32, "torch-cuda-fp32")),
            Row("torch-cuda-fp16", "cuda", lambda: _cuda_torch(model, torch.float16, "torch-cuda-fp16")),
        ]
    if trt_rows:
        onnx_path = work_dir / "model.function.onnx"
        onnx.save(function_model, onnx_path)
        rows += [
            Row(row_name(i, h), "cuda", lambda i=i, h=h: _trt(onnx_path, i, h, shape, plugin, backend))
            for i in AnImpl
            for h in (False, True)
        ]
    return rows
