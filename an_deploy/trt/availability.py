"""Which TensorRT to use, imported lazily, and one line saying what to do when none is there.

Two backends expose the same Python API under different module names:

* ``tensorrt``: data-centre TensorRT (``pip install an-deploy[trt]``; needs NVIDIA's package index and a GPU
  to run engines).
* ``tensorrt_rtx``: TensorRT for RTX (``pip install an-deploy[rtx]``, plain PyPI). Its ahead-of-time builder
  needs no GPU, so engines are built on any Linux machine; running them needs a supported NVIDIA GPU.

``--backend auto`` takes data-centre TensorRT when it is importable, else TensorRT-RTX. ``import tensorrt``
alone proves nothing: the ``tensorrt-stubs`` type stubs (and a broken wheel) leave an importable namespace
package without the API, so a backend counts as available when its ``Builder`` is there.
"""

from __future__ import annotations

import ctypes
import enum
import importlib
from dataclasses import dataclass
from types import ModuleType

from an_deploy.errors import UserError

SKIP_REASON = "tensorrt not importable"
INSTALL_HINT = (
    "TensorRT is required for this command: install TensorRT for RTX with `pip install an-deploy[rtx]` "
    "(builds engines on any machine, no GPU needed) or data-centre TensorRT with `pip install an-deploy[trt]` "
    "(needs NVIDIA's package index, pypi.nvidia.com)"
)


class Backend(str, enum.Enum):
    """The TensorRT flavour a command uses (``--backend``)."""

    AUTO = "auto"
    TENSORRT = "tensorrt"
    TENSORRT_RTX = "tensorrt-rtx"


MODULES = {Backend.TENSORRT: "tensorrt", Backend.TENSORRT_RTX: "tensorrt_rtx"}
EXTRAS = {Backend.TENSORRT: "trt", Backend.TENSORRT_RTX: "rtx"}
LABELS = {Backend.TENSORRT: "TensorRT", Backend.TENSORRT_RTX: "TensorRT-RTX"}


class TensorRTUnavailable(UserError):
    """The requested TensorRT Python package (or a CUDA device it needs) is not usable here."""


@dataclass(frozen=True)
class TrtBackend:
    """An imported TensorRT flavour: which one, its module and its version."""

    backend: Backend  # never AUTO
    module: ModuleType

    @property
    def version(self) -> str:
        return str(getattr(self.module, "__version__", "unknown"))

    @property
    def label(self) -> str:
        """``TensorRT 10.14.1`` or ``TensorRT-RTX 1.7.1.116``: what reports and summaries print."""
        return f"{LABELS[self.backend]} {self.version}"

    @property
    def is_rtx(self) -> bool:
        return self.backend is Backend.TENSORRT_RTX

    @property
    def has_fp16_flag(self) -> bool:
        """Whether ``BuilderFlag.FP16`` exists: TensorRT 10.x yes; TensorRT-RTX and TensorRT 11 build only
        strongly typed networks, whose precision is the ONNX tensor types."""
        builder_flag = getattr(self.module, "BuilderFlag", None)
        return builder_flag is not None and hasattr(builder_flag, "FP16")


def _import(module_name: str) -> ModuleType | None:
    try:
        module = importlib.import_module(module_name)
    except (ImportError, OSError):  # OSError: the wheel is there but its shared libraries do not load
        return None
    return module if hasattr(module, "Builder") else None


def import_backend(choice: Backend = Backend.AUTO) -> TrtBackend | None:
    """The backend for ``choice`` (AUTO: data-centre TensorRT first, then TensorRT-RTX), or None if not importable."""
    order = [Backend.TENSORRT, Backend.TENSORRT_RTX] if choice is Backend.AUTO else [choice]
    for backend in order:
        module = _import(MODULES[backend])
        if module is not None:
            return TrtBackend(backend, module)
    return None


def tensorrt_available(choice: Backend = Backend.AUTO) -> bool:
    """Whether a working TensorRT of the kind ``choice`` can be imported."""
    return import_backend(choice) is not None


def missing_message(choice: Backend) -> str:
    """The one-line explanation (with the install command) for a backend that is not importable."""
    if choice is Backend.AUTO:
        return INSTALL_HINT
    return (
        f"--backend {choice.value}: the {MODULES[choice]} Python package is not importable; install it with "
        f"`pip install an-deploy[{EXTRAS[choice]}]`"
    )


def require_backend(choice: Backend = Backend.AUTO) -> TrtBackend:
    """The backend for ``choice``.

    Raises:
        TensorRTUnavailable: not installed (the message says how to install it).
    """
    found = import_backend(choice)
    if found is None:
        raise TensorRTUnavailable(missing_message(choice))
    return found


def cuda_device_count() -> int:
    """Number of CUDA devices the driver reports (0 without a driver); needs neither torch nor TensorRT."""
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return 0
    count = ctypes.c_int(0)
    if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return 0
    return int(count.value)
