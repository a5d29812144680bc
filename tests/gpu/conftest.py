"""The GPU tests' fixture: the plugin library's C kernel entry point through ctypes, or a skip with the reason."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]


def _binding() -> ModuleType:
    path = REPO / "plugins" / "python" / "attentive_norm_ctypes.py"
    module_spec = importlib.util.spec_from_file_location("attentive_norm_ctypes", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def kernel():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    binding = _binding()
    if not binding.DEFAULT_LIBRARY.is_file():
        pytest.skip(f"plugin library not built: {binding.DEFAULT_LIBRARY} (see plugins/README.md)")
    return binding, binding.KernelLibrary()
