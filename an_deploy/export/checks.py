"""Checks every exported file passes. Writing files (path checks, atomic writes) lives in ``an_deploy.files``."""

from __future__ import annotations

from pathlib import Path

import onnx

from an_deploy.errors import UserError
from an_deploy.files import OutputPathError, check_output_file, write_bytes_atomic

__all__ = ["OnnxCheckError", "OutputPathError", "check_model", "ensure_writable", "save_atomic"]


class OnnxCheckError(UserError):
    """``onnx.checker`` (full check) or strict shape inference rejected the model."""


def check_model(model: onnx.ModelProto) -> onnx.ModelProto:
    """Run ``onnx.checker`` with ``full_check`` and strict shape inference.

    Args:
        model: the model to check.

    Returns:
        The model with inferred value_info (the argument is not modified).

    Raises:
        OnnxCheckError: the checker or shape inference failed.
    """
    try:
        onnx.checker.check_model(model, full_check=True)
        return onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise OnnxCheckError(f"the exported model fails onnx.checker / shape inference: {first}") from None


def ensure_writable(path: Path) -> None:
    """Fail early when ``path`` cannot be written (``an_deploy.files.check_output_file`` without inputs).

    Raises:
        OutputPathError: see ``check_output_file``.
    """
    check_output_file(path)


def save_atomic(model: onnx.ModelProto, path: Path) -> None:
    """Write ``model`` to ``path`` atomically and interrupt-safely (``an_deploy.files.write_bytes_atomic``).

    Raises:
        OutputPathError: the write failed (``path`` unchanged, no temporary file left behind).
    """
    write_bytes_atomic(path, model.SerializeToString())
