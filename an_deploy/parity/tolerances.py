"""The one table of tolerances. Pass rule (always both, explicitly): ``|out - ref| <= atol + rtol * |ref|``.

Keys are (backend family, precision) of the row under test; every row is judged against the float64
PyTorch reference, and ORT rows also against PyTorch float32. Values are what float32 arithmetic with a
different summation order gives on logits of magnitude ~10 (measured max abs 1e-6..2e-5 on the demo,
AN-ResNet-50 and AN-MobileNetV2), with headroom; fp16 from TensorRT's half-precision kernels.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float


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
