"""Checks every exported file passes, and the atomic write."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import onnx

from an_deploy.errors import UserError


class OnnxCheckError(UserError):
    """``onnx.checker`` (full check) or strict shape inference rejected the model."""


class OutputPathError(UserError):
    """The output file cannot be written."""


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
    """Fail early when ``path`` cannot be created.

    Raises:
        OutputPathError: the parent folder is missing or not writable, or the path is a folder.
    """
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputPathError(f"output path {path} is a folder")
    if not parent.is_dir():
        raise OutputPathError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputPathError(f"cannot write {path}: folder {parent} is not writable")


def save_atomic(model: onnx.ModelProto, path: Path) -> None:
    """Write ``model`` to ``path`` via a temporary file in the same folder and ``os.replace``.

    Raises:
        OutputPathError: the write failed (no partial file is left behind).
    """
    ensure_writable(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(model.SerializeToString())
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise OutputPathError(f"cannot write {path}: {e.strerror or e}") from None
