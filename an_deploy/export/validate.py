"""Post-export validation: ONNX Runtime vs PyTorch float32, in the order output names -> shapes -> values.

Every failure is gathered before one :class:`ValidationError` is raised (its ``issues`` keep each typed
failure); the caller decides whether that warns or fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import onnx
import torch
from onnxruntime.capi.onnxruntime_pybind11_state import Fail as OrtFail
from onnxruntime.capi.onnxruntime_pybind11_state import InvalidArgument as OrtInvalidArgument
from onnxruntime.capi.onnxruntime_pybind11_state import RuntimeException as OrtRuntimeException
from torch import nn

from an_deploy.errors import UserError
from an_deploy.models.registry import DEMO_INPUT_SHAPE
from an_deploy.parity.compare import compare
from an_deploy.parity.tolerances import Tolerance
from an_deploy.runtime.ort_runner import OrtRunner


@dataclass(frozen=True)
class ValidationIssue:
    """One failure; ``kind`` is ``names``, ``shapes`` or ``values``."""

    kind: str
    message: str


class ValidationError(UserError):
    """The exported model does not reproduce PyTorch; ``issues`` lists every failure found."""

    def __init__(self, issues: list[ValidationIssue]) -> None:
        self.issues = issues
        super().__init__("validation failed: " + "; ".join(f"[{i.kind}] {i.message}" for i in issues))


@dataclass
class ValidationResult:
    max_abs: float
    max_rel: float
    tolerance: Tolerance
    batch_sizes: list[int] = field(default_factory=list)
    top1_agreement: float | None = None


def realistic_inputs(input_shape: tuple[int, ...], batch: int, seed: int = 0) -> torch.Tensor:
    """Inputs for checking: the demo's held-out digits for demo-shaped inputs, otherwise random images
    with per-channel offsets and scales (statistics far from 0/1, like normalised photos)."""
    c, h, w = input_shape[1:]
    if (c, h, w) == DEMO_INPUT_SHAPE[1:]:
        from an_deploy.models.digits import load_heldout

        images, _ = load_heldout()
        return images[:batch].contiguous()
    g = torch.Generator().manual_seed(seed)
    scale = 0.5 + torch.rand(1, c, 1, 1, generator=g)
    shift = 0.3 * torch.randn(1, c, 1, 1, generator=g)
    return torch.randn(batch, c, h, w, generator=g) * scale + shift


def validate_onnx(onnx_model: onnx.ModelProto, model: nn.Module, batches: list[torch.Tensor], tol: Tolerance,
                  output_names: list[str]) -> ValidationResult:
    """Run ``onnx_model`` in ONNX Runtime (CPU) and ``model`` in PyTorch float32 on each batch and compare.

    Args:
        onnx_model: the exported model.
        model: the eval-mode PyTorch model it came from.
        batches: input batches (for a dynamic-batch export, use more than one batch size).
        tol: the pass rule's atol and rtol.
        output_names: the expected ONNX output names.

    Returns:
        The worst errors over all batches.

    Raises:
        ValidationError: wrong output names, shapes or values (all failures, in that order).
    """
    runner = OrtRunner(onnx_model, name="ort-validate")
    issues: list[ValidationIssue] = []
    if runner.output_names != output_names:
        issues.append(ValidationIssue("names", f"outputs {runner.output_names}, expected {output_names}"))
    pairs = []
    for x in batches:
        with torch.no_grad():
            ref = model(x)
        try:
            out = runner.run(x)
        except (OrtFail, OrtInvalidArgument, OrtRuntimeException) as e:
            issues.append(ValidationIssue("shapes", f"ONNX Runtime failed on batch {tuple(x.shape)}: {e}"))
            continue
        if tuple(out.shape) != tuple(ref.shape):
            issues.append(ValidationIssue("shapes", f"batch {x.shape[0]}: ONNX {tuple(out.shape)} vs "
                                                    f"PyTorch {tuple(ref.shape)}"))
        else:
            pairs.append((x.shape[0], out, ref))
    max_abs = max_rel = 0.0
    agreements = []
    for n, out, ref in pairs:
        stats = compare(out, ref, tol, classifier=out.dim() == 2)
        max_abs, max_rel = max(max_abs, stats.max_abs), max(max_rel, stats.max_rel)
        if stats.top1_agreement is not None:
            agreements.append(stats.top1_agreement)
        if not stats.passed:
            issues.append(ValidationIssue("values", f"batch {n}: max abs {stats.max_abs:.3e}, max rel "
                                                    f"{stats.max_rel:.3e} (atol {tol.atol:g}, rtol {tol.rtol:g})"))
    if issues:
        raise ValidationError(issues)
    return ValidationResult(max_abs, max_rel, tol, [int(x.shape[0]) for x in batches],
                            min(agreements) if agreements else None)
