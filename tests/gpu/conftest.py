"""The GPU tests' fixture: the plugin library's C kernel entry point through ctypes, or a skip with the reason."""

from __future__ import annotations

import pytest
import torch

from an_deploy.trt import kernel_api


@pytest.fixture(scope="module")
def kernel():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    if not kernel_api.DEFAULT_LIBRARY.is_file():
        pytest.skip(f"plugin library not built: {kernel_api.DEFAULT_LIBRARY} (see plugins/README.md)")
    return kernel_api, kernel_api.KernelLibrary()
