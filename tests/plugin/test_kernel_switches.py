"""The kernel's experiment switches (AN_KERNEL_* in attentiveNormKernel.cu) compile and take effect, and the
default build has none of their code: nvcc's PTX for sm_90 (no GPU needed).

Timing them needs a GPU (benchmarks/bench_kernel_variants.py); this only keeps them from rotting in between.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.plugin import plugin_harness

pytestmark = pytest.mark.plugin

KERNEL = plugin_harness.SOURCE_DIR / "attentive_norm" / "attentiveNormKernel.cu"
SWITCHES = ("AN_KERNEL_PDL", "AN_KERNEL_APPLY_REVERSED")
GRID_DEPENDENCY = re.compile(r"griddepcontrol\.(wait|launch_dependents)")


@pytest.fixture(scope="module")
def ptx(tmp_path_factory: pytest.TempPathFactory):
    nvcc = plugin_harness.find_nvcc()
    if nvcc is None:
        pytest.skip("nvcc (CUDA toolkit) is not installed")
    out = tmp_path_factory.mktemp("ptx")

    def compile_with(*switches: str) -> str:
        path = out / ("_".join(switches) or "default")
        cmd = [nvcc, "-std=c++17", "-O3", "-arch=sm_90", "-ptx", f"-I{KERNEL.parent}", "-o", str(path), str(KERNEL)]
        cmd += [f"-D{s}=1" for s in switches]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        return Path(path).read_text()

    return compile_with


def kernels(ptx_text: str) -> list[str]:
    return re.findall(r"\.entry\s+(\w+)", ptx_text)


def test_default_build_has_no_grid_dependency_control(ptx) -> None:
    assert not GRID_DEPENDENCY.search(ptx())


def test_pdl_waits_in_every_dependent_kernel_and_releases_in_every_predecessor(ptx) -> None:
    text = ptx("AN_KERNEL_PDL")
    bodies = dict(zip(kernels(text), re.split(r"\.entry\s+\w+", text)[1:], strict=True))
    for name, body in bodies.items():
        waits = "griddepcontrol.wait" in body
        releases = "griddepcontrol.launch_dependents" in body
        if "attentionKernel" in name:
            assert waits and releases, name
        elif "apply" in name:
            assert waits and not releases, name
        else:
            assert "stats" in name and releases and not waits, name
    assert kernels(text) == kernels(ptx())


def test_reversed_apply_changes_only_the_apply_kernels(ptx) -> None:
    default, reversed_ = ptx(), ptx("AN_KERNEL_APPLY_REVERSED")
    assert kernels(reversed_) == kernels(default)
    split = re.compile(r"\.entry\s+\w+")
    changed = {name for name, a, b in zip(kernels(default), split.split(default)[1:], split.split(reversed_)[1:],
                                          strict=True) if a != b}
    assert changed and all("applyPlaneKernel" in n or "applyNhwcFastKernel" in n for n in changed), changed
    assert not GRID_DEPENDENCY.search(reversed_)


def test_cmake_knows_exactly_the_switches_the_kernel_defines() -> None:
    source = KERNEL.read_text()
    cmake = (plugin_harness.SOURCE_DIR / "CMakeLists.txt").read_text()
    assert set(re.findall(r"#ifndef (AN_KERNEL_\w+)", source)) == set(SWITCHES)
    accepted = re.search(r'MATCHES "\^\(([^)]*)\)\$"', cmake)
    assert accepted is not None and set(accepted.group(1).split("|")) == set(SWITCHES)
