"""The optimization profile TensorRT builds for an ONNX model's image input.

Shapes are written like trtexec's, ``1x3x224x224``; ``--batch MIN:OPT:MAX`` varies only the first dimension
and takes the others from the model. Without any option a static model needs no profile and a model with a
dynamic batch gets batch 1 for min, opt and max.
"""

from __future__ import annotations

from dataclasses import dataclass

import onnx

from an_deploy.errors import UserError
from an_deploy.onnx_file import Dim, image_input
from an_deploy.shapes import Shape, format_shape


class ProfileError(UserError):
    """Shapes that cannot make a valid optimization profile for the model's input."""


@dataclass(frozen=True)
class ShapeProfile:
    input_name: str
    min: Shape
    opt: Shape
    max: Shape

    def as_trtexec(self, which: str) -> str:
        """``name:1x3x224x224`` for ``which`` in min/opt/max (trtexec's --minShapes etc.)."""
        return f"{self.input_name}:{format_shape(getattr(self, which))}"


def parse_batch(text: str) -> tuple[int, int, int]:
    """``"1:8:32"`` -> ``(1, 8, 32)``; a single ``"8"`` means 8:8:8.

    Raises:
        ProfileError: not one or three positive integers with min <= opt <= max.
    """
    parts = text.split(":")
    if len(parts) not in (1, 3) or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise ProfileError(f"bad --batch {text!r}: expected MIN:OPT:MAX (or one size), e.g. 1:8:32")
    values = [int(p) for p in parts] * (3 if len(parts) == 1 else 1)
    lo, mid, hi = values
    if not lo <= mid <= hi:
        raise ProfileError(f"bad --batch {text!r}: need MIN <= OPT <= MAX")
    return lo, mid, hi


def resolve_profile(
    model: onnx.ModelProto,
    min_shape: Shape | None = None,
    opt_shape: Shape | None = None,
    max_shape: Shape | None = None,
    batch: tuple[int, int, int] | None = None,
) -> ShapeProfile | None:
    """The profile to build, or None for a static model without options.

    Args:
        model: the ONNX model (its image input names the profile).
        min_shape, opt_shape, max_shape: full shapes; all three or none.
        batch: MIN, OPT, MAX of the first dimension (not with the full shapes).

    Raises:
        ProfileError: inconsistent options, a shape of the wrong rank, a static dimension contradicted, or
            min <= opt <= max broken.
    """
    name, dims = image_input(model)
    full = (min_shape, opt_shape, max_shape)
    if any(s is not None for s in full):
        if batch is not None:
            raise ProfileError("give either --batch or --min-shape/--opt-shape/--max-shape, not both")
        if any(s is None for s in full):
            raise ProfileError("--min-shape, --opt-shape and --max-shape go together: give all three")
        lo, mid, hi = (tuple(s) for s in full if s is not None)
    else:
        dynamic = [i for i, d in enumerate(dims) if not isinstance(d, int)]
        if batch is None and not dynamic:
            return None
        if any(i != 0 for i in dynamic):
            names = ", ".join(f"{i}:{dims[i]}" for i in dynamic)
            raise ProfileError(
                f"input {name} has dynamic dimensions ({names}) besides the batch: give "
                "--min-shape/--opt-shape/--max-shape"
            )
        b = batch or (1, 1, 1)
        rest = tuple(int(d) for d in dims[1:])
        lo, mid, hi = ((b[0], *rest), (b[1], *rest), (b[2], *rest))
    profile = ShapeProfile(name, lo, mid, hi)
    _validate(profile, dims)
    return profile


def _validate(profile: ShapeProfile, dims: list[Dim]) -> None:
    for which in ("min", "opt", "max"):
        shape: Shape = getattr(profile, which)
        if len(shape) != len(dims):
            raise ProfileError(f"--{which}-shape {format_shape(shape)} has rank {len(shape)}, input has {len(dims)}")
        for axis, (size, dim) in enumerate(zip(shape, dims, strict=True)):
            if isinstance(dim, int) and size != dim:
                raise ProfileError(
                    f"--{which}-shape {format_shape(shape)}: dimension {axis} of {profile.input_name} is fixed "
                    f"at {dim} in the model"
                )
    if not all(a <= b <= c for a, b, c in zip(profile.min, profile.opt, profile.max, strict=True)):
        raise ProfileError(
            f"need min <= opt <= max in every dimension, got {format_shape(profile.min)}, "
            f"{format_shape(profile.opt)}, {format_shape(profile.max)}"
        )
