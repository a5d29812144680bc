"""an_deploy: export, accelerate and check neural networks that use Attentive Normalization.

Python API: :func:`export` (a live ``nn.Module`` -> validated ONNX file).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING

# The export subpackage is imported before the function of the same name is defined, so that the attribute
# ``an_deploy.export`` stays the function (``from an_deploy.export.x import y`` is unaffected).
import an_deploy.export as _export_package  # noqa: F401
from an_deploy.lazy import lazy_import
from an_deploy.version import __version__

if TYPE_CHECKING:
    import torch
    from torch import nn

    from an_deploy.export.pipeline import ExportSummary

# ``import an_deploy`` stays light (no torch): the export machinery loads on the first call.
_pipeline = lazy_import("an_deploy.export.pipeline")
_tolerances = lazy_import("an_deploy.accuracy.tolerances")

__all__ = ["__version__", "export"]


def export(
    model: nn.Module,
    example_input: torch.Tensor,
    output: str | Path,
    *,
    form: str = "function",
    opset: int = 18,
    dynamic_batch: bool = True,
    validate: bool = True,
    atol: float | None = None,
    rtol: float | None = None,
    exporter: str | None = None,
) -> ExportSummary:
    """Export a model with AN layers (of any class: found by structure, options read from the live module).

    The model is exported in eval mode (a copy is switched when it is in training mode; ``model`` is not
    modified). Each AN layer becomes one ``an_deploy.AttentiveNorm`` node; the file passes ``onnx.checker`` and,
    unless ``validate=False``, ONNX Runtime is checked against the float64 model before the file is written.

    Args:
        model: the PyTorch model.
        example_input: an input batch N x C x H x W (its shape is the export's; it is the first validation batch).
        output: the ``.onnx`` path (written atomically, only after every check passed).
        form: ``function`` (AN nodes + local function) or ``decomposed`` (standard ops only).
        opset: default-domain opset (18..20).
        dynamic_batch: symbolic batch dimension (validated at a second batch size too).
        validate: run the validation.
        atol: with ``rtol``, judge by ``|out - ref| <= atol + rtol * |ref|`` against the float64 model; by default
            ORT's error may be at most 5x PyTorch fp32's own error against the float64 model (plus a small floor).
        rtol: see ``atol``.
        exporter: ``torchscript`` (the default) or ``dynamo`` (torch.export-based, through the PyTorch op).

    Returns:
        What was written, the timings and the validation's errors and rule.

    Raises:
        UserError: an AN layer that cannot be folded (its path and part named), bad options, a failed check.
    """
    rule = _tolerances.rule_from_options(atol, rtol)
    live = copy.deepcopy(model).eval() if model.training else model
    return _pipeline.export_module(live, Path(output), tuple(example_input.shape), name=type(model).__name__,
                                   opset=opset, dynamic_batch=dynamic_batch, form=form, validate=validate, rule=rule,
                                   example_input=example_input, exporter=exporter or _pipeline.DEFAULT_EXPORTER)
