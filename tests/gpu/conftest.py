"""The GPU tests' fixture: the plugin library's C kernel entry point through ctypes, or a skip with the reason."""

from __future__ import annotations

import pytest
import torch

from an_deploy.trt import kernel_api


@pytest.fixture(scope="module")
def kernel():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    binding = kernel_api
    if not binding.DEFAULT_LIBRARY.is_file():
        pytest.skip(f"plugin library not built: {binding.DEFAULT_LIBRARY} (see plugins/README.md)")
    return binding, binding.KernelLibrary()
