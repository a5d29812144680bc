"""The restricted unpickler: tensors of every float dtype load (zip and legacy), nothing foreign ever runs."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from an_deploy import safe_unpickle
from an_deploy.checkpoint import CheckpointError, load_model, read_state_dict
from an_deploy.models.registry import get_arch

MARKER = Path("/tmp/an_deploy_safe_unpickle_pwned")
FORMATS = pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])


class _Hostile:
    """Unpickled by an unsafe loader, this creates MARKER."""

    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


class _StateSpy:
    """A class importable at load time: an unsafe loader would run its ``__setstate__``."""

    calls = 0

    def __setstate__(self, state) -> None:
        type(self).calls += 1


@pytest.fixture(autouse=True)
def _no_marker():
    MARKER.unlink(missing_ok=True)
    yield
    assert not MARKER.exists(), "a pickled payload ran"


def _load_bytes(obj, legacy: bool):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
    buf.seek(0)
    return torch.load(buf, map_location="cpu", weights_only=False, pickle_module=safe_unpickle)


@FORMATS
def test_tensors_of_every_kind_round_trip(legacy: bool) -> None:
    obj = OrderedDict(
        half=torch.randn(3, 4).half(), bf16=torch.randn(5).bfloat16(), f64=torch.randn(2, 2).double(),
        f32_view=torch.arange(12.0).reshape(3, 4)[:, 1], ints=torch.tensor(7), param=torch.nn.Parameter(torch.ones(2)),
        size=torch.Size([2, 3]), dtype=torch.float16, text="resnet50", nums=[1, 2.5, None], blob=b"\x00\x01",
        group={1, 2}, pair=(1, "a"),
    )
    out = _load_bytes(obj, legacy)
    assert list(out) == list(obj)
    for key, value in obj.items():
        if isinstance(value, torch.Tensor):
            assert out[key].dtype == value.dtype and torch.equal(out[key], value), key
        else:
            assert out[key] == value, key
    assert isinstance(out["param"], torch.nn.Parameter)


@FORMATS
def test_foreign_objects_become_inert_placeholders(legacy: bool) -> None:
    _StateSpy.calls = 0
    out = _load_bytes({"spy": _StateSpy(), "payload": _Hostile(), "w": torch.ones(2)}, legacy)
    assert _StateSpy.calls == 0
    assert safe_unpickle.foreign_name(out["spy"]) == f"{__name__}._StateSpy"
    assert safe_unpickle.foreign_name(out["payload"]) in ("posix.system", "nt.system")
    assert torch.equal(out["w"], torch.ones(2))


@pytest.mark.parametrize("module,name", [
    ("os", "system"), ("posix", "system"), ("builtins", "eval"), ("builtins", "exec"), ("builtins", "getattr"),
    ("builtins", "__import__"), ("builtins", "open"), ("subprocess", "Popen"), ("torch", "load"),
    ("torch.storage", "_load_from_bytes"), ("torch.serialization", "load"), ("importlib", "import_module"),
    ("torch._utils", "_rebuild_device_tensor_from_numpy"), ("copyreg", "_reconstructor"),
])
def test_find_class_never_resolves_code(module: str, name: str) -> None:
    found = safe_unpickle.Unpickler(io.BytesIO(b"")).find_class(module, name)
    assert isinstance(found, type) and issubclass(found, safe_unpickle.ForeignObject)
    assert found.dotted_name == f"{module}.{name}"
    assert found("anything", x=1).__dict__["pickle_args"] == ("anything",), "calling a placeholder only records"


def test_crafted_names_stay_on_one_line() -> None:
    found = safe_unpickle.Unpickler(io.BytesIO(b"")).find_class("os\nerror: fake", "system")
    assert "\n" not in found.dotted_name and "os\\nerror" in found.dotted_name


def test_raw_hostile_pickle_is_unreadable_and_never_runs(tmp_path: Path) -> None:
    path = tmp_path / "raw.pkl"
    path.write_bytes(pickle.dumps(_Hostile()))
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        read_state_dict(path)


@FORMATS
def test_hostile_object_in_the_weights_is_refused_by_name(tmp_path: Path, legacy: bool) -> None:
    path = tmp_path / "hostile.pth"
    torch.save({"state_dict": {"conv.weight": torch.zeros(1), "conv.bias": _Hostile()}}, path,
               _use_new_zipfile_serialization=not legacy)
    with pytest.raises(CheckpointError, match=r"state-dict entry 'conv.bias' is a pickled (posix|nt)\.system object"):
        load_model(path)


def test_hostile_object_beside_the_weights_is_ignored(tmp_path: Path) -> None:
    model = get_arch("resnet_demo").builder()
    path = tmp_path / "with_payload.pth"
    torch.save({"state_dict": model.state_dict(), "payload": _Hostile(), "arch": "resnet_demo"}, path)
    loaded = load_model(path)
    assert loaded.arch == "resnet_demo" and "payload" not in loaded.metadata


@FORMATS
@pytest.mark.parametrize("wrapped", [False, True], ids=["bare", "under_model"])
def test_pickled_module_is_refused_with_what_to_do(tmp_path: Path, legacy: bool, wrapped: bool) -> None:
    model = get_arch("an_resnet_demo").builder()
    path = tmp_path / "whole_model.pth"
    torch.save({"model": model, "epoch": 3} if wrapped else model, path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    text = str(info.value)
    assert "is a pickled model object (an_deploy.models.resnet.ResNet), not a state dict: save model.state_dict()" \
        in text, text
    assert "\n" not in text


def test_cli_hostile_and_pickled_module_are_one_line_without_running(tmp_path: Path) -> None:
    hostile, whole = tmp_path / "hostile.pth", tmp_path / "whole.pth"
    torch.save({"state_dict": {"w": _Hostile()}}, hostile, pickle_protocol=2)
    torch.save(get_arch("resnet_demo").builder(), whole)
    for path, match in ((hostile, "is a pickled posix.system object"), (whole, "is a pickled model object")):
        r = subprocess.run([sys.executable, "-m", "an_deploy.cli.main", "inspect", str(path)],
                           cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=300)
        assert r.returncode == 1, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and match in lines[0], r.stderr
