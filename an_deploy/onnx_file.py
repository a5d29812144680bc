"""Reading an ONNX file given on the command line: one clear error for every way it can be wrong."""

from __future__ import annotations

from pathlib import Path

import onnx

from an_deploy.errors import UserError


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
