"""Comparison statistics of one output against its reference."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from an_deploy.accuracy.tolerances import RelativeRule, Tolerance

_TINY = 1e-12


@dataclass
class OutputStats:
    """Errors of ``out`` vs ``ref``; ``required_*`` are the smallest atol (rtol 0) / rtol (atol 0) that pass."""

    max_abs: float
    max_rel: float
    mean_abs: float
    p99_abs: float
    cosine: float
    required_atol: float
    required_rtol: float
    atol: float
    rtol: float
    passed: bool
    top1_agreement: float | None = None
    num_values: int = 0
    rule: str = ""  # the pass rule applied, in words

    def as_dict(self) -> dict[str, float | bool | int | None]:
        return asdict(self)


def compare(out: torch.Tensor, ref: torch.Tensor, tol: Tolerance, classifier: bool = False) -> OutputStats:
    """Statistics of ``out`` against ``ref`` (both cast to float64) and the pass verdict.

    Args:
        out: the output under test.
        ref: the reference output (same shape).
        tol: atol and rtol of the pass rule ``|out - ref| <= atol + rtol * |ref|``.
        classifier: also report top-1 agreement over the last axis ([N, classes] logits).

    Returns:
        The statistics.

    Raises:
        ValueError: shapes differ.
    """
    if tuple(out.shape) != tuple(ref.shape):
        raise ValueError(f"shape {tuple(out.shape)} vs reference {tuple(ref.shape)}")
    a = out.detach().cpu().to(torch.float64).flatten()
    b = ref.detach().cpu().to(torch.float64).flatten()
    diff = (a - b).abs()
    rel = diff / b.abs().clamp_min(_TINY)
    finite = bool(torch.isfinite(a).all())
    cosine = float(torch.nn.functional.cosine_similarity(a, b, dim=0, eps=_TINY)) if a.numel() else 1.0
    passed = finite and bool((diff <= tol.atol + tol.rtol * b.abs()).all())
    top1 = None
    if classifier and out.dim() >= 2:
        top1 = float((out.argmax(-1) == ref.argmax(-1)).to(torch.float64).mean())
    return OutputStats(
        max_abs=float(diff.max()) if a.numel() else 0.0,
        max_rel=float(rel.max()) if a.numel() else 0.0,
        mean_abs=float(diff.mean()) if a.numel() else 0.0,
        p99_abs=float(torch.quantile(diff, 0.99)) if a.numel() else 0.0,
        cosine=cosine,
        required_atol=float(diff.max()) if a.numel() else 0.0,
        required_rtol=float(rel.max()) if a.numel() else 0.0,
        atol=tol.atol,
        rtol=tol.rtol,
        passed=passed,
        top1_agreement=top1,
        num_values=int(a.numel()),
        rule=tol.describe(),
    )


def compare_with_rule(out: torch.Tensor, ref: torch.Tensor, rule: Tolerance | RelativeRule,
                      torch_error: float | None = None, classifier: bool = False, slack: float = 0.0) -> OutputStats:
    """Statistics of ``out`` against ``ref`` judged by a plain or a relative rule.

    A relative rule allows ``rule.bound(torch_error) + slack`` as max abs error (recorded as ``atol``, ``rtol`` 0);
    ``slack`` widens it when ``ref`` is not the float64 output but another output with its own error (the bounds
    add up by the triangle inequality).

    Args:
        out: the output under test.
        ref: the reference output (same shape).
        rule: a plain ``Tolerance`` or a ``RelativeRule``.
        torch_error: PyTorch fp32's max abs error against float64 on the same inputs (needed by a relative rule).
        classifier: also report top-1 agreement.
        slack: the reference's own allowed error, for a relative rule.

    Returns:
        The statistics, with the rule in words.

    Raises:
        ValueError: shapes differ, or a relative rule without ``torch_error``.
    """
    if isinstance(rule, Tolerance):
        return compare(out, ref, rule, classifier=classifier)
    if torch_error is None:
        raise ValueError("a relative rule needs PyTorch fp32's error against float64")
    bound = rule.bound(torch_error) + slack
    stats = compare(out, ref, Tolerance(atol=bound, rtol=0.0), classifier=classifier)
    extra = f" + {slack:.2e} (the reference's own bound)" if slack else ""
    stats.rule = f"{rule.describe()}{extra}; PyTorch fp32 error {torch_error:.2e}, bound {bound:.2e}"
    return stats
