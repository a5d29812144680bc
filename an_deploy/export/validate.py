"""Post-export validation: ONNX Runtime vs the float64 model, in the order output names -> shapes -> values.

Default rule (``RelativeRule``): ORT's max abs error against the float64 model is at most 5x PyTorch fp32's own
error against it on the same batch, plus a small floor. ``--atol/--rtol`` judge ORT against the float64 model
with the plain rule instead. PyTorch runs once over all batches (float64, and float32 for the relative rule).

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

from an_deploy.accuracy.compare import compare_with_rule
from an_deploy.accuracy.tolerances import RelativeRule, Tolerance
from an_deploy.errors import UserError
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


@dataclass(frozen=True)
class BatchCheck:
    """One batch: ORT's max abs error against the float64 model and the bound it was held to."""

    size: int
    max_abs: float
    bound: float
    torch_error: float | None  # PyTorch fp32's max abs error against float64 (relative rule only)


@dataclass
class ValidationResult:
    """The errors of ORT against the float64 model, batch by batch, and the rule applied."""

    max_abs: float  # worst over the batches
    max_rel: float
    rule: str
    checks: list[BatchCheck] = field(default_factory=list)
    top1_agreement: float | None = None

    @property
    def batch_sizes(self) -> list[int]:
        return [c.size for c in self.checks]

    @property
    def torch_error(self) -> float | None:
        """PyTorch fp32's worst error against float64 over the batches (``None`` under a plain rule)."""
        errors = [c.torch_error for c in self.checks if c.torch_error is not None]
        return max(errors) if errors else None

    @property
    def worst_ratio(self) -> float:
        """max over batches of error / bound (at most 1 when validation passed)."""
        return max((c.max_abs / c.bound if c.bound > 0 else float(c.max_abs > 0) for c in self.checks), default=0.0)

    def describe(self) -> str:
        """Per batch ``error <= bound`` (and PyTorch fp32's own error), one line."""
        parts = []
        for c in self.checks:
            own = f", PyTorch fp32 {c.torch_error:.2e}" if c.torch_error is not None else ""
            parts.append(f"batch {c.size}: {c.max_abs:.2e} <= {c.bound:.2e}{own}")
        return "; ".join(parts)


def _torch_outputs(model: nn.Module, batches: list[torch.Tensor],
                   with_fp32: bool) -> tuple[list[torch.Tensor], list[torch.Tensor | None]]:
    """The float64 model's outputs (and PyTorch fp32's) for every batch, from ONE forward pass each over all batches
    concatenated (eval mode: samples are independent). The float64 run uses float64 copies of the parameters and
    buffers through ``functional_call``, so the module itself is neither copied nor modified."""
    x = torch.cat([b.to(torch.float32) for b in batches])
    state = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    state64 = {k: v.detach().to(torch.float64) if v.is_floating_point() else v for k, v in state.items()}
    sizes = [int(b.shape[0]) for b in batches]
    with torch.no_grad():
        ref64 = list(torch.func.functional_call(model, state64, (x.to(torch.float64),)).split(sizes))
        fp32: list[torch.Tensor | None] = list(model(x).split(sizes)) if with_fp32 else [None] * len(batches)
    return ref64, fp32


def validate_onnx(onnx_model: onnx.ModelProto, model: nn.Module, batches: list[torch.Tensor],
                  rule: Tolerance | RelativeRule, output_names: list[str]) -> ValidationResult:
    """Run ``onnx_model`` in ONNX Runtime (CPU) and ``model`` in float64 (and, for a relative rule, float32) on
    each batch and judge ORT against the float64 output.

    Args:
        onnx_model: the exported model.
        model: the eval-mode PyTorch model it came from (not modified).
        batches: input batches (for a dynamic-batch export, use more than one batch size).
        rule: a ``RelativeRule`` (bound from PyTorch fp32's own error) or a plain ``Tolerance``.
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
    ref64s, fp32s = _torch_outputs(model, batches, with_fp32=isinstance(rule, RelativeRule))
    runs = []
    for x, ref64, fp32 in zip(batches, ref64s, fp32s, strict=True):
        try:
            out = runner.run(x)
        except (OrtFail, OrtInvalidArgument, OrtRuntimeException) as e:
            issues.append(ValidationIssue("shapes", f"ONNX Runtime failed on batch {tuple(x.shape)}: {e}"))
            continue
        if tuple(out.shape) != tuple(ref64.shape):
            issues.append(ValidationIssue("shapes", f"batch {x.shape[0]}: ONNX {tuple(out.shape)} vs "
                                                    f"PyTorch {tuple(ref64.shape)}"))
        else:
            torch_error = None if fp32 is None else float((fp32.to(torch.float64) - ref64).abs().max())
            runs.append((x.shape[0], out, ref64, torch_error))
    max_abs = max_rel = 0.0
    checks: list[BatchCheck] = []
    agreements = []
    for n, out, ref64, torch_error in runs:
        stats = compare_with_rule(out, ref64, rule, torch_error, classifier=out.dim() == 2)
        max_abs, max_rel = max(max_abs, stats.max_abs), max(max_rel, stats.max_rel)
        checks.append(BatchCheck(int(n), stats.max_abs, stats.atol, torch_error))
        if stats.top1_agreement is not None:
            agreements.append(stats.top1_agreement)
        if not stats.passed:
            issues.append(ValidationIssue("values", f"batch {n}: max abs {stats.max_abs:.3e} from the float64 model, "
                                                    f"max rel {stats.max_rel:.3e}; rule {stats.rule}"))
    if issues:
        raise ValidationError(issues)
    return ValidationResult(max_abs, max_rel, rule.describe(), checks, min(agreements) if agreements else None)
