"""The GPU tests' fixture: the plugin library's C kernel entry point through ctypes, or a skip with the reason.

The library is the one every an-deploy command would load: ``$AN_DEPLOY_PLUGIN`` if set (a missing file there is
an error, not a skip), else the CMake build folder. benchmarks/gpu_check.sh sets it to run the same tests on a
build with the kernel's experiment switches on.
"""

from __future__ import annotations

import os

import pytest
import torch

from an_deploy.plugin import kernel_api
from an_deploy.plugin.library import ENV_VAR, PluginLibraryError, find_plugin_library


@pytest.fixture(scope="module")
def kernel():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    try:
        library = find_plugin_library()
    except PluginLibraryError as e:
        if os.environ.get(ENV_VAR):
            raise
        pytest.skip(f"plugin library not built: {e}")
    return kernel_api, kernel_api.KernelLibrary(library.path)
