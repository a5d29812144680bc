"""TensorRT runner: one engine, torch CUDA tensors as I/O buffers, ``execute_async_v3``, optional CUDA graph.

Rows of the parity matrix and the benchmark: ``trt-plugin-fp32``, ``trt-plugin-fp16``, ``trt-native-fp32``
and ``trt-native-fp16`` (:func:`runner_from_onnx` builds the engine in memory from a function-form file).
Importing this module needs neither TensorRT nor CUDA; constructing a runner needs both.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch

from an_deploy.errors import UserError
from an_deploy.onnx_file import image_input, load_onnx
from an_deploy.plugin.library import find_plugin_library
from an_deploy.trt import AnImpl
from an_deploy.trt.availability import Backend, TensorRTUnavailable, TrtBackend, require_backend
from an_deploy.trt.isolated import build_rtx_plugin_network, parser_finds_core
from an_deploy.trt.network import build_serialized, make_logger
from an_deploy.trt.onnx_prep import prepare
from an_deploy.trt.plugin_library import load_into_tensorrt
from an_deploy.trt.profiles import resolve_profile

if TYPE_CHECKING:
    import tensorrt as trt


def require_cuda() -> None:
    """Raises TensorRTUnavailable without a CUDA device visible to torch."""
    if not torch.cuda.is_available():
        raise TensorRTUnavailable("TensorRT needs a CUDA GPU, and torch sees none (torch.cuda.is_available() is False)")


def _torch_dtype(backend: TrtBackend, dtype: trt.DataType) -> torch.dtype:
    if TYPE_CHECKING:  # type-check the calls against the data-centre stubs; RTX has the same API
        import tensorrt as trt_mod
    else:
        trt_mod = backend.module
    table = {
        trt_mod.DataType.FLOAT: torch.float32,
        trt_mod.DataType.HALF: torch.float16,
        trt_mod.DataType.BF16: torch.bfloat16,
        trt_mod.DataType.INT32: torch.int32,
        trt_mod.DataType.INT64: torch.int64,
        trt_mod.DataType.INT8: torch.int8,
        trt_mod.DataType.UINT8: torch.uint8,
        trt_mod.DataType.BOOL: torch.bool,
    }
    if dtype not in table:
        raise UserError(f"engine I/O type {dtype} has no torch equivalent")
    return table[dtype]


def row_name(impl: AnImpl, fp16: bool) -> str:
    """The report label: ``trt-plugin-fp32`` etc."""
    return f"trt-{impl.value}-{'fp16' if fp16 else 'fp32'}"


class TensorRTRunner:
    """Runs a serialized engine with one input and one output (the :class:`~an_deploy.runtime.base.Runner` protocol).

    Args:
        engine: serialized engine bytes or an engine file.
        name: the row label in reports.
        plugin: plugin library to register first (plugin engines cannot deserialize without it).
        cuda_graph: capture ``execute_async_v3`` in a CUDA graph per input shape and replay it.
        backend: the TensorRT that built the engine (``auto``: TensorRT, else TensorRT-RTX).
        precision: ``fp32`` or ``fp16``, what the engine was built for (the row's key in the tolerance table).

    Raises:
        UserError: TensorRT or CUDA missing, a bad engine file, or an engine with other than one input/output.
    """

    device = "cuda"
    family = "trt"

    def __init__(
        self,
        engine: bytes | Path,
        name: str = "trt",
        plugin: Path | None = None,
        cuda_graph: bool = False,
        backend: Backend = Backend.AUTO,
        precision: str = "fp32",
    ) -> None:
        self.backend = require_backend(backend)
        require_cuda()
        if TYPE_CHECKING:  # type-check the calls against the data-centre stubs; RTX has the same API
            import tensorrt as trt_mod
        else:
            trt_mod = self.backend.module
        if plugin is not None:
            load_into_tensorrt(plugin, self.backend)
        what = "engine"
        if isinstance(engine, Path):
            what = str(engine)
            if not engine.is_file():
                raise UserError(f"engine file not found: {engine}")
            engine = engine.read_bytes()
        self.name = name
        self.precision = precision  # what the engine was built for (its I/O may stay float32)
        self.backend_label = self.backend.label  # e.g. "TensorRT 10.14.1" or "TensorRT-RTX 1.7.1.116", for reports
        self.cuda_graph = cuda_graph
        self._logger, errors = make_logger(self.backend, None)
        self._runtime = trt_mod.Runtime(self._logger)
        cuda_engine = self._runtime.deserialize_cuda_engine(engine)
        if cuda_engine is None:
            detail = "; ".join(errors) or "not a TensorRT engine for this TensorRT version and GPU"
            raise UserError(f"cannot deserialize {what}: {detail} (plugin engines also need --plugin)")
        self._engine: trt.ICudaEngine = cuda_engine
        names = [cuda_engine.get_tensor_name(i) for i in range(cuda_engine.num_io_tensors)]
        inputs = [n for n in names if cuda_engine.get_tensor_mode(n) == trt_mod.TensorIOMode.INPUT]
        outputs = [n for n in names if cuda_engine.get_tensor_mode(n) == trt_mod.TensorIOMode.OUTPUT]
        if len(inputs) != 1 or len(outputs) != 1:
            raise UserError(f"expected an engine with one input and one output, got inputs {inputs}, outputs {outputs}")
        self.input_name, self.output_name = inputs[0], outputs[0]
        self.input_dtype = _torch_dtype(self.backend, cuda_engine.get_tensor_dtype(self.input_name))
        self.output_dtype = _torch_dtype(self.backend, cuda_engine.get_tensor_dtype(self.output_name))
        self._context: trt.IExecutionContext = cuda_engine.create_execution_context()
        self._stream = torch.cuda.Stream()
        self._graph: torch.cuda.CUDAGraph | None = None
        self._static_in: torch.Tensor | None = None
        self._static_out: torch.Tensor | None = None

    def _bind(self, x: torch.Tensor) -> torch.Tensor:
        """Set the input shape and both tensor addresses; returns the (new) output buffer."""
        if not self._context.set_input_shape(self.input_name, tuple(x.shape)):
            raise UserError(f"{self.name}: input shape {tuple(x.shape)} is outside the engine's optimization profile")
        dims = self._context.get_tensor_shape(self.output_name)
        shape = tuple(dims[i] for i in range(len(dims)))
        out = torch.empty(shape, dtype=self.output_dtype, device=x.device)
        self._context.set_tensor_address(self.input_name, x.data_ptr())
        self._context.set_tensor_address(self.output_name, out.data_ptr())
        return out

    def _enqueue(self) -> None:
        if not self._context.execute_async_v3(self._stream.cuda_stream):
            raise RuntimeError(f"{self.name}: execute_async_v3 failed (see the TensorRT log)")

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Run one batch; returns a CUDA tensor of the engine's output type."""
        x = x.to(device="cuda", dtype=self.input_dtype).contiguous()
        if self.cuda_graph:
            return self._run_graph(x)
        out = self._bind(x)
        self._stream.wait_stream(torch.cuda.current_stream())
        self._enqueue()
        x.record_stream(self._stream)
        out.record_stream(self._stream)
        torch.cuda.current_stream().wait_stream(self._stream)
        return out

    def _run_graph(self, x: torch.Tensor) -> torch.Tensor:
        if self._graph is None or self._static_in is None or self._static_in.shape != x.shape:
            self._capture(x)
        assert self._graph is not None and self._static_in is not None and self._static_out is not None
        self._static_in.copy_(x)
        self._graph.replay()
        return self._static_out.clone()

    def _capture(self, x: torch.Tensor) -> None:
        """One plain enqueue at the new shape (TensorRT sets up there), then capture the next one."""
        torch.cuda.synchronize()
        self._static_in = x.clone()
        self._static_out = self._bind(self._static_in)
        self._stream.wait_stream(torch.cuda.current_stream())  # the clone above runs on the current stream
        self._enqueue()
        self._stream.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, stream=self._stream):
            self._enqueue()
        self._graph = graph


def runner_from_onnx(
    onnx_path: Path,
    impl: AnImpl,
    fp16: bool,
    input_shape: tuple[int, ...],
    plugin: Path | None = None,
    cuda_graph: bool = False,
    workspace_mib: int | None = None,
    backend: Backend = Backend.AUTO,
) -> TensorRTRunner:
    """Build an engine in memory from a function-form ONNX file and wrap it (a parity/bench row).

    The profile covers batch 1 to ``input_shape[0]`` (opt at that batch) when the model's batch is dynamic.

    Raises:
        UserError: TensorRT/CUDA/plugin library missing, or the model does not prepare or build.
    """
    trt_backend = require_backend(backend)
    require_cuda()
    model = load_onnx(onnx_path)
    _, dims = image_input(model)
    profile = None
    if not all(isinstance(d, int) for d in dims):
        shape = tuple(input_shape)
        lo = (1, *shape[1:]) if not isinstance(dims[0], int) else shape
        profile = resolve_profile(model, lo, shape, shape)
    prepared = prepare(model, impl)
    library = None
    if impl is AnImpl.PLUGIN:
        library = find_plugin_library(plugin).path
        load_into_tensorrt(library, trt_backend)
    if library is not None and trt_backend.is_rtx and not parser_finds_core():
        built = build_rtx_plugin_network(
            prepared.model, plugin=library, profile=profile, workspace_mib=workspace_mib, timing_cache=None,
            version_compatible=False,
        )
    else:
        built = build_serialized(
            trt_backend, prepared.model, profile=profile, fp16=fp16, workspace_mib=workspace_mib, plugin=library
        )
    return TensorRTRunner(
        built.engine, name=row_name(impl, fp16), plugin=library, cuda_graph=cuda_graph, backend=trt_backend.backend,
        precision="fp16" if fp16 else "fp32",
    )


def trt_rows(onnx_path: Path, *, input_shape: tuple[int, ...], backend: Backend = Backend.AUTO) -> list[TensorRTRunner]:
    """The TensorRT rows of the parity matrix: plugin and native, fp32 and (where the builder has an FP16 flag;
    TensorRT-RTX builds strongly typed networks only) fp16, each an engine built in memory by
    :func:`runner_from_onnx` with a profile covering batch 1 to ``input_shape[0]``.

    Raises:
        UserError: TensorRT, CUDA or the plugin library is missing, or an engine does not build.
    """
    precisions = (False, True) if require_backend(backend).has_fp16_flag else (False,)
    return [
        runner_from_onnx(onnx_path, impl, fp16, input_shape, backend=backend) for impl in AnImpl for fp16 in precisions
    ]
