"""Checks every exported file passes (writing files lives in ``an_deploy.files``)."""

from __future__ import annotations

import onnx

from an_deploy.errors import UserError, first_line


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
        first = first_line(e)
        raise OnnxCheckError(f"the exported model fails onnx.checker / shape inference: {first}") from None
