"""an_deploy: export, accelerate and check neural networks that use Attentive Normalization.

Python API: :func:`export` (a live ``nn.Module`` -> validated ONNX file).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

# The export subpackage is imported before the function of the same name is defined, so that the attribute
# ``an_deploy.export`` stays the function (``from an_deploy.export.x import y`` is unaffected).
import an_deploy.export as _export_package  # noqa: F401

if TYPE_CHECKING:
    import torch
    from torch import nn

    from an_deploy.export.pipeline import ExportSummary

__version__ = "0.1.0"


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
    import copy

    from an_deploy.export.dynamo_export import DEFAULT_EXPORTER
    from an_deploy.export.pipeline import export_module
    from an_deploy.parity.tolerances import rule_from_options

    rule = rule_from_options(atol, rtol)
    live = copy.deepcopy(model).eval() if model.training else model
    return export_module(live, Path(output), tuple(example_input.shape), name=type(model).__name__, opset=opset,
                         dynamic_batch=dynamic_batch, form=form, validate=validate, rule=rule,
                         example_input=example_input, exporter=exporter or DEFAULT_EXPORTER)
