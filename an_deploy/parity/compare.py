"""Comparison statistics of one output against its reference."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from an_deploy.parity.tolerances import Tolerance

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
    )
