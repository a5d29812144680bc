"""Reading an ONNX file given on the command line (one clear error for every way it can be wrong) and its image
input."""

from __future__ import annotations

from pathlib import Path

import onnx

from an_deploy.errors import UserError

Dim = int | str  # a static size or a symbolic name


class OnnxFileError(UserError):
    """The ONNX file is missing, unreadable, empty, or rejected by ``onnx.checker``."""


def checker_error(model: onnx.ModelProto) -> str | None:
    """The first line of what ``onnx.checker.check_model`` rejects in ``model``, or None when it passes."""
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as e:
        return str(e).splitlines()[0]
    return None


def load_onnx(path: Path, check: bool = True) -> onnx.ModelProto:
    """Read an ONNX file (external data included) and, with ``check``, run ``onnx.checker`` on it.

    Raises:
        OnnxFileError: missing, not a file, not ONNX, no nodes, or (with ``check``) rejected by the checker.
    """
    if not path.exists():
        raise OnnxFileError(f"ONNX file not found: {path}")
    if not path.is_file():
        raise OnnxFileError(f"not a file: {path}")
    try:
        model = onnx.load(str(path))
    except Exception as e:  # protobuf's DecodeError and friends carry no common public base
        raise OnnxFileError(f"{path} is not a readable ONNX model: {type(e).__name__}: {e}") from None
    if not model.graph.node:
        raise OnnxFileError(f"{path} is not a readable ONNX model: its graph has no nodes")
    error = checker_error(model) if check else None
    if error is not None:
        raise OnnxFileError(f"{path} fails onnx.checker: {error}")
    return model


def graph_dims(value: onnx.ValueInfoProto) -> list[Dim]:
    """The dimensions of a graph input or output: static sizes, or symbolic names (``"?"`` when unnamed)."""
    return [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else (d.dim_param or "?")
            for d in value.type.tensor_type.shape.dim]


def image_input(model: onnx.ModelProto) -> tuple[str, list[Dim]]:
    """Name and dimensions of the model's one input that is not an initializer (our models take one image batch).

    Raises:
        OnnxFileError: the model has no such input or more than one.
    """
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise OnnxFileError(f"expected one image input, the model has {len(inputs)}: {[i.name for i in inputs]}")
    return inputs[0].name, graph_dims(inputs[0])
