"""Build, locate and drive the AttentiveNorm plugin's host test harness (no GPU, no libnvinfer)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from an_deploy import spec

REPO = Path(__file__).resolve().parents[2]
SOURCE_DIR = REPO / "plugins"
BUILD_DIR = REPO / "build" / "plugins"

# nvinfer1::PluginFieldType values (NvInferPluginBase.h, TensorRT 10.14).
K_FLOAT16, K_FLOAT32, K_FLOAT64, K_INT8, K_INT16, K_INT32, K_CHAR = 0, 1, 2, 3, 4, 5, 6
K_INT64 = 10
FIELD_TYPE = {spec.AttrType.INT: K_INT32, spec.AttrType.FLOAT: K_FLOAT32}
HOST_TARGETS = ("attentive_norm_plugin", "attentive_norm_host_test")
ASAN_TARGETS = ("attentive_norm_plugin_asan", "attentive_norm_host_test_asan")


@dataclass(frozen=True)
class PluginBuild:
    plugin: Path
    host_test: Path
    plugin_asan: Path | None
    host_test_asan: Path | None


def find_nvcc() -> str | None:
    """nvcc from CUDACXX, PATH or the default toolkit location."""
    for candidate in (os.environ.get("CUDACXX"), shutil.which("nvcc"), "/usr/local/cuda/bin/nvcc"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def missing_tools() -> str | None:
    """Why the plugin cannot be built here, or None."""
    if shutil.which("cmake") is None:
        return "cmake is not installed"
    if find_nvcc() is None:
        return "nvcc (CUDA toolkit) is not installed"
    return None


def build(with_asan: bool = True) -> PluginBuild:
    """Configure (first time) and build the host-test targets into build/plugins; cmake skips what is current."""
    if not (BUILD_DIR / "CMakeCache.txt").is_file():
        cmd = ["cmake", "-S", str(SOURCE_DIR), "-B", str(BUILD_DIR), "-DCMAKE_BUILD_TYPE=Release",
               f"-DPython3_EXECUTABLE={sys.executable}"]
        archs = os.environ.get("AN_PLUGIN_CUDA_ARCHITECTURES")
        if archs:
            cmd.append(f"-DCMAKE_CUDA_ARCHITECTURES={archs}")
        nvcc = find_nvcc()
        if nvcc and shutil.which("nvcc") is None:
            cmd.append(f"-DCMAKE_CUDA_COMPILER={nvcc}")
        subprocess.run(cmd, check=True, cwd=REPO)
    targets = list(HOST_TARGETS) + (list(ASAN_TARGETS) if with_asan else [])
    jobs = os.environ.get("AN_PLUGIN_BUILD_JOBS", "2")
    subprocess.run(["cmake", "--build", str(BUILD_DIR), "-j", jobs, "--target", *targets], check=True, cwd=REPO)
    asan = BUILD_DIR / "libattentive_norm_plugin_asan.so"
    asan_test = BUILD_DIR / "attentive_norm_host_test_asan"
    return PluginBuild(
        plugin=BUILD_DIR / "libattentive_norm_plugin.so",
        host_test=BUILD_DIR / "attentive_norm_host_test",
        plugin_asan=asan if asan.is_file() else None,
        host_test_asan=asan_test if asan_test.is_file() else None,
    )


@dataclass(frozen=True)
class Field:
    """One PluginField as the harness reads it: 'name type length values...'."""

    name: str | None
    type: int
    length: int
    values: tuple[float | int, ...]
    null_data: bool = False

    def line(self) -> str:
        name = "<null>" if self.name is None else self.name
        parts = [name, str(self.type), str(self.length), *(_token(v) for v in self.values)]
        if self.null_data:
            parts.append("<nulldata>")
        return " ".join(parts)


def _token(value: float | int) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return str(value)


def attribute_fields(attrs: Mapping[str, int | float]) -> list[Field]:
    """Well-formed fields (contract types, length 1) for the given attribute values, in contract order."""
    out = []
    for a in spec.ATTRIBUTES:
        if a.name in attrs:
            value = attrs[a.name]
            value = int(value) if a.type is spec.AttrType.INT else float(value)
            out.append(Field(a.name, FIELD_TYPE[a.type], 1, (value,)))
    return out


def run_harness(binary: Path, plugin: Path, command: Iterable[str], fields: Iterable[Field] = (),
                env: Mapping[str, str] | None = None, timeout: float = 120) -> dict[str, Any]:
    """Run one harness command and parse its JSON (stdout's last line)."""
    command = list(command)
    stdin = "\n".join(f.line() for f in fields) + "\n"
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run([str(binary), str(plugin), *command], input=stdin, capture_output=True, text=True,
                            timeout=timeout, env=full_env, check=False)
    if result.returncode != 0:
        raise AssertionError(
            f"harness {' '.join(command)} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1]) | {"_stderr": result.stderr}


BASE_ATTRS: dict[str, int | float] = {"num_channels": 8, "num_affine": 4, "attn_hidden": 6}
