"""Import TensorRT lazily, and say in one line what to do when it is missing.

``import tensorrt`` alone proves nothing: the ``tensorrt-stubs`` type stubs (and a broken pip wheel) leave an
importable namespace package without the API. TensorRT counts as available when its ``Builder`` is there.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from an_deploy.errors import UserError

SKIP_REASON = "tensorrt not importable"
INSTALL_HINT = (
    "TensorRT is required for this command: install it with `pip install an-deploy[trt]` on a machine with "
    "an NVIDIA GPU, its driver and access to NVIDIA's package index (pypi.nvidia.com)"
)


class TensorRTUnavailable(UserError):
    """The ``tensorrt`` Python package (or a CUDA device it needs) is not usable here."""


def import_tensorrt() -> ModuleType | None:
    """The ``tensorrt`` module, or None when it is not installed (or is only the type stubs)."""
    try:
        trt = importlib.import_module("tensorrt")
    except ImportError:
        return None
    except OSError:  # the wheel is there but libnvinfer cannot be loaded
        return None
    return trt if hasattr(trt, "Builder") else None


def tensorrt_available() -> bool:
    """Whether a working ``tensorrt`` package can be imported."""
    return import_tensorrt() is not None


def require_tensorrt() -> ModuleType:
    """The ``tensorrt`` module.

    Raises:
        TensorRTUnavailable: not installed (the message says how to install it).
    """
    trt = import_tensorrt()
    if trt is None:
        raise TensorRTUnavailable(INSTALL_HINT)
    return trt
