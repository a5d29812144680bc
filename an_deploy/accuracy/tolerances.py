"""Tolerances: the rule relative to PyTorch fp32 (the default for ONNX Runtime) and the table of plain rules.

Relative rule (``RelativeRule``, default for export's check and parity's ORT rows): an output's max abs error
against the float64 model may be at most ``multiple`` times PyTorch fp32's own max abs error against the
float64 model on the same inputs, plus ``atol_floor`` for near-zero errors. A float32 runtime that sums in a
different order is off the truth by about as much as PyTorch fp32 is, so the bound scales with the model
(AN-ResNet-101 2e-4, AN-MobileNetV2 9e-4) instead of refusing correct exports. The multiple is 5: per AN layer
ORT's error is 1.2-1.4x PyTorch's, but the max over a whole network's logits is a noisy statistic, and a correct
AN-MobileNetV2 export measured 0.7x to 3.4x (64x64, batch 7, 1 and 2 PyTorch threads, 2-core Xeon); one folded
tensor scaled by 1.001 still gives 20x the bound on AN-ResNet-50.

Plain rule (always both, explicitly): ``|out - ref| <= atol + rtol * |ref|`` (``--atol/--rtol`` and the table
below). Keys are (backend family, precision) of the row under test; every row is judged against the float64
PyTorch reference, and ORT rows also against PyTorch float32. Values are what float32 arithmetic with a
different summation order gives on logits of magnitude ~10 (measured max abs 1e-6..2e-5 on the demo,
AN-ResNet-50 and AN-MobileNetV2), with headroom; fp16 from TensorRT's half-precision kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

from an_deploy.errors import UserError


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float

    def describe(self) -> str:
        """The rule as one line of text."""
        return f"|out - ref| <= atol + rtol * |ref| (atol {self.atol:g}, rtol {self.rtol:g})"


@dataclass(frozen=True)
class RelativeRule:
    """max |out - fp64| <= multiple * max |PyTorch fp32 - fp64| + atol_floor, on the same inputs."""

    multiple: float = 5.0
    atol_floor: float = 1e-5

    def bound(self, torch_error: float) -> float:
        """The allowed max abs error against the float64 model, given PyTorch fp32's own."""
        return self.multiple * torch_error + self.atol_floor

    def describe(self) -> str:
        """The rule as one line of text."""
        return (f"max |out - fp64| <= {self.multiple:g} x max |PyTorch fp32 - fp64| + {self.atol_floor:g} "
                "(same inputs)")


DEFAULT_RULE = RelativeRule()


def rule_from_options(atol: float | None, rtol: float | None) -> Tolerance | RelativeRule:
    """The rule for ``--atol/--rtol``: the plain rule when either is given (the other is then 0), else the
    relative default.

    Raises:
        UserError: a negative or non-finite value.
    """
    if atol is None and rtol is None:
        return DEFAULT_RULE
    tol = Tolerance(atol=float(atol or 0.0), rtol=float(rtol or 0.0))
    if not all(0.0 <= v < float("inf") for v in (tol.atol, tol.rtol)):
        raise UserError(f"atol and rtol must be finite and >= 0, got atol {tol.atol:g}, rtol {tol.rtol:g}")
    return tol


TOLERANCES: dict[tuple[str, str], Tolerance] = {
    ("torch", "fp32"): Tolerance(atol=1e-4, rtol=1e-4),
    ("ort", "fp32"): Tolerance(atol=1e-4, rtol=1e-4),
    ("trt", "fp32"): Tolerance(atol=1e-3, rtol=1e-3),  # TF32 may be on in TensorRT's fp32 tactics
    ("trt", "fp16"): Tolerance(atol=5e-2, rtol=2e-2),
}


def tolerance_for(backend: str, precision: str) -> Tolerance:
    """The tolerance of a row (``backend`` is the family: torch, ort or trt).

    Raises:
        KeyError: no entry for the pair (add one here, never a default).
    """
    try:
        return TOLERANCES[(backend, precision)]
    except KeyError:
        raise KeyError(f"no tolerance for backend {backend!r} precision {precision!r}; add it to TOLERANCES") from None
