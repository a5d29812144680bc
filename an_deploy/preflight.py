"""Checks that compare two inputs before any expensive work: an ONNX file against the checkpoint it should
come from (``parity``), so a mismatch is one clear line instead of a shape error deep in a runtime."""

from __future__ import annotations

import copy
from pathlib import Path

import onnx
import torch
from torch import nn

from an_deploy.errors import UserError
from an_deploy.onnx_file import Dim, OnnxFileError, graph_dims, image_input


class MismatchError(UserError):
    """The ONNX file does not fit the checkpoint's model."""


def _static(dims: list[Dim]) -> tuple[int | None, ...]:
    return tuple(d if isinstance(d, int) else None for d in dims)


def _fmt(dims: tuple[int | None, ...]) -> str:
    return "x".join("N" if d is None else str(d) for d in dims)


def onnx_io_dims(model: onnx.ModelProto) -> tuple[tuple[int | None, ...], tuple[int | None, ...]]:
    """(input dims, first output dims) of a single-input model; ``None`` for a symbolic dimension.

    Raises:
        MismatchError: the graph has not exactly one input apart from initializers, or no output.
    """
    try:
        _, dims = image_input(model)
    except OnnxFileError as e:
        raise MismatchError(str(e)) from None
    if not model.graph.output:
        raise MismatchError("the ONNX graph has no output")
    return _static(dims), _static(graph_dims(model.graph.output[0]))


def model_output_shape(model: nn.Module, chw: tuple[int, ...]) -> tuple[int, ...] | None:
    """The output shape of ``model`` for one sample of ``chw`` (a ``meta``-device forward), or None when the
    model cannot take that input."""
    try:
        probe = copy.deepcopy(model).to("meta").eval()
        with torch.no_grad():
            return tuple(probe(torch.zeros((1, *chw), device="meta")).shape)
    except (RuntimeError, ValueError, TypeError, IndexError):
        return None


def check_onnx_fits_model(model: nn.Module, arch: str, arch_input: tuple[int, ...] | None,
                          onnx_model: onnx.ModelProto, onnx_path: Path, checkpoint: Path) -> None:
    """Refuse an ONNX file whose input the checkpoint's model cannot take, or whose output differs from it.

    Args:
        model: the checkpoint's model.
        arch: its architecture name.
        arch_input: the architecture's usual input N x C x H x W, for the message (``None``: not known).
        onnx_model: the ONNX file's model.
        onnx_path: its path, for the message.
        checkpoint: the checkpoint's path, for the message.

    Raises:
        MismatchError: the input channels or size do not fit the model, or the output shapes differ.
    """
    in_dims, out_dims = onnx_io_dims(onnx_model)
    chw = in_dims[1:]
    fix = f"pass the ONNX file exported from this checkpoint (an-deploy export {checkpoint})"
    if len(in_dims) != 4 or any(d is None for d in chw):
        raise MismatchError(f"{onnx_path} has input {_fmt(in_dims)}; expected N x C x H x W with static C, H, W")
    out = model_output_shape(model, tuple(d for d in chw if d is not None))
    if out is None:
        usual = f", input {_fmt(arch_input[1:])}" if arch_input is not None else ""
        raise MismatchError(f"{onnx_path} takes {_fmt(chw)} inputs, which {checkpoint} ({arch}{usual}) cannot run; "
                            f"{fix}")
    if len(out_dims) != len(out) or any(d is not None and d != o for d, o in zip(out_dims[1:], out[1:], strict=True)):
        raise MismatchError(f"{onnx_path} outputs {_fmt(out_dims)} but {checkpoint} ({arch}) outputs "
                            f"{_fmt((None, *out[1:]))}; {fix}")
