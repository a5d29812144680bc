"""Tensor shapes written as on trtexec's command line: ``1x3x224x224``."""

from __future__ import annotations

from an_deploy.errors import UserError

Shape = tuple[int, ...]


class ShapeError(UserError):
    """A shape on the command line that is not positive integers separated by ``x`` (or of the wrong rank)."""


def format_shape(shape: Shape) -> str:
    """``(1, 3, 224, 224)`` -> ``"1x3x224x224"``."""
    return "x".join(str(d) for d in shape)


def parse_shape(text: str, rank: int | None = None, what: str = "shape") -> Shape:
    """``"1x3x224x224"`` -> ``(1, 3, 224, 224)``.

    Args:
        text: the shape as written.
        rank: the number of dimensions required (any when None).
        what: how the message names the value (e.g. ``--input-shape``).

    Raises:
        ShapeError: not positive integers separated by ``x``, or not ``rank`` of them.
    """
    parts = text.strip().lower().split("x")
    if not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ShapeError(f"bad {what} {text!r}: expected positive integers separated by 'x', e.g. 1x3x224x224")
    if rank is not None and len(parts) != rank:
        raise ShapeError(f"bad {what} {text!r}: expected {rank} positive dims, e.g. 1x3x224x224 (NxCxHxW)")
    return tuple(int(p) for p in parts)
