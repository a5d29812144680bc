"""The kernel's experiment switches (AN_KERNEL_* in attentiveNormKernelCommon.cuh) compile and take effect, and the
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

KERNEL_DIR = plugin_harness.SOURCE_DIR / "attentive_norm"
# The kernel's translation units (each compiled on its own, as CMake does) and the header holding the switches.
KERNEL_SOURCES = tuple(KERNEL_DIR / f"attentiveNorm{part}.cu" for part in ("Kernel", "Statistics", "Attention",
                                                                        "Apply"))
KERNEL_COMMON = KERNEL_DIR / "attentiveNormKernelCommon.cuh"
SWITCHES = ("AN_KERNEL_PDL", "AN_KERNEL_APPLY_REVERSED")
GRID_DEPENDENCY = re.compile(r"griddepcontrol\.(wait|launch_dependents)")


@pytest.fixture(scope="module")
def ptx(tmp_path_factory: pytest.TempPathFactory):
    nvcc = plugin_harness.find_nvcc()
    if nvcc is None:
        pytest.skip("nvcc (CUDA toolkit) is not installed")
    out = tmp_path_factory.mktemp("ptx")

    def compile_with(*switches: str) -> str:
        texts = []
        folder = out / ("_".join(switches) or "default")
        folder.mkdir(exist_ok=True)
        for source in KERNEL_SOURCES:
            path = folder / f"{source.stem}.ptx"
            cmd = [nvcc, "-std=c++17", "-O3", "-arch=sm_90", "-ptx", f"-I{KERNEL_DIR}", "-o", str(path), str(source)]
            cmd += [f"-D{s}=1" for s in switches]
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, result.stderr[-3000:]
            texts.append(_without_anonymous_namespaces(Path(path).read_text()))
        return "\n".join(texts)

    return compile_with


def _without_anonymous_namespaces(ptx_text: str) -> str:
    """The PTX with every anonymous-namespace component of a mangled name (<length>_GLOBAL__N_..., which nvcc
    makes unique per compilation) removed, so that the same kernel reads the same in every variant."""
    while (match := re.search(r"(\d+)(_GLOBAL__N_)", ptx_text)) is not None:
        ptx_text = ptx_text[:match.start()] + ptx_text[match.start(2) + int(match.group(1)):]
    return ptx_text


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
    sources = "".join(p.read_text() for p in (KERNEL_COMMON, *KERNEL_SOURCES))
    cmake = (plugin_harness.SOURCE_DIR / "CMakeLists.txt").read_text()
    assert set(re.findall(r"#ifndef (AN_KERNEL_\w+)", sources)) == set(SWITCHES)
    accepted = re.search(r'MATCHES "\^\(([^)]*)\)\$"', cmake)
    assert accepted is not None and set(accepted.group(1).split("|")) == set(SWITCHES)


def test_cmake_compiles_every_kernel_source() -> None:
    cmake = (plugin_harness.SOURCE_DIR / "CMakeLists.txt").read_text()
    listed = set(re.findall(r"\$\{AN_SRC\}/(\w+\.cu)\b", cmake))
    assert listed == {p.name for p in KERNEL_DIR.glob("*.cu")} == {p.name for p in KERNEL_SOURCES}
