"""The one backend choice: auto prefers data-centre TensorRT, a stub-only package does not count, labels name it."""

from __future__ import annotations

import types

import pytest

from an_deploy.trt import availability
from an_deploy.trt.availability import Backend, TensorRTUnavailable, import_backend, require_backend


def _fake(name: str, version: str, with_api: bool = True) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__version__ = version  # type: ignore[attr-defined]
    if with_api:
        module.Builder = object  # type: ignore[attr-defined]
    return module


@pytest.fixture()
def installed(monkeypatch: pytest.MonkeyPatch) -> dict[str, types.ModuleType]:
    modules: dict[str, types.ModuleType] = {}
    monkeypatch.setattr(availability.importlib, "import_module", lambda name: _lookup(modules, name))
    return modules


def _lookup(modules: dict[str, types.ModuleType], name: str) -> types.ModuleType:
    if name not in modules:
        raise ImportError(name)
    return modules[name]


def test_auto_prefers_tensorrt_then_rtx(installed: dict[str, types.ModuleType]) -> None:
    assert import_backend() is None
    installed["tensorrt_rtx"] = _fake("tensorrt_rtx", "1.7.1.116")
    rtx = require_backend()
    assert rtx.backend is Backend.TENSORRT_RTX and rtx.is_rtx and rtx.label == "TensorRT-RTX 1.7.1.116"
    installed["tensorrt"] = _fake("tensorrt", "10.14.1")
    trt = require_backend()
    assert trt.backend is Backend.TENSORRT and trt.label == "TensorRT 10.14.1"
    assert require_backend(Backend.TENSORRT_RTX).backend is Backend.TENSORRT_RTX


def test_stub_only_package_is_not_a_backend(installed: dict[str, types.ModuleType]) -> None:
    installed["tensorrt"] = _fake("tensorrt", "10.13", with_api=False)  # what tensorrt-stubs leaves importable
    assert import_backend(Backend.TENSORRT) is None
    with pytest.raises(TensorRTUnavailable, match=r"pip install an-deploy\[trt\]"):
        require_backend(Backend.TENSORRT)
    with pytest.raises(TensorRTUnavailable, match=r"an-deploy\[rtx\].*an-deploy\[trt\]"):
        require_backend()


def test_cuda_device_count_without_a_driver_or_device(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_driver(name: str) -> None:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(availability.ctypes, "CDLL", no_driver)
    assert availability.cuda_device_count() == 0

    class NoDevice:  # libcuda present, cuInit fails with CUDA_ERROR_NO_DEVICE (100)
        @staticmethod
        def cuInit(flags: int) -> int:
            return 100

    monkeypatch.setattr(availability.ctypes, "CDLL", lambda name: NoDevice())
    assert availability.cuda_device_count() == 0


def test_fp16_flag_is_read_from_the_module(installed: dict[str, types.ModuleType]) -> None:
    trt10 = _fake("tensorrt", "10.14.1")
    trt10.BuilderFlag = types.SimpleNamespace(FP16=object(), TF32=object())  # type: ignore[attr-defined]
    installed["tensorrt"] = trt10
    assert require_backend(Backend.TENSORRT).has_fp16_flag
    rtx = _fake("tensorrt_rtx", "1.7.1.116")
    rtx.BuilderFlag = types.SimpleNamespace(TF32=object())  # type: ignore[attr-defined]
    installed["tensorrt_rtx"] = rtx
    assert not require_backend(Backend.TENSORRT_RTX).has_fp16_flag
