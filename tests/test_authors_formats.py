"""Checkpoints laid out as the authors' training code writes them load, weights exact (fp16 -> fp32 exactly)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from an_deploy.checkpoint import ASSUMED, load_model, read_checkpoint
from an_deploy.models.randomize import realistic_
from an_deploy.models.registry import get_arch
from tests.authors_formats import (
    fp16_model_state_dict,
    save_aognet_v2_best,
    save_data_parallel,
    save_ivmcl_best,
    save_ivmcl_current,
    save_ivmcl_released,
    write_aognet_v2_best,
)


def _model(arch: str, seed: int = 0) -> nn.Module:
    return realistic_(get_arch(arch).builder(), seed=seed)


def _assert_weights_equal(loaded: nn.Module, written: dict[str, torch.Tensor], prefix: str) -> None:
    got = loaded.state_dict()
    assert set(got) == {k.removeprefix(prefix) for k in written}
    for key, value in written.items():
        mine = got[key.removeprefix(prefix)]
        if value.is_floating_point():
            assert mine.dtype == torch.float32, key
            assert torch.equal(mine, value.float()), key  # fp16 -> fp32 is exact
        else:
            assert mine.dtype == value.dtype and torch.equal(mine, value), key


def test_fp16_saver_reproduces_apex_pattern() -> None:
    """AN layers (BatchNorm2d, affine=False) go fp16; affine BatchNorms, the attention branch's included, stay fp32."""
    sd = fp16_model_state_dict(_model("an_resnet_demo"))
    assert sd["module.network.layer1.0.bn2.weight_"].dtype == torch.float16
    assert sd["module.network.layer1.0.bn2.running_var"].dtype == torch.float16
    assert sd["module.network.layer1.0.bn2.attention_weights.attention.0.weight"].dtype == torch.float16
    assert sd["module.network.layer1.0.bn2.attention_weights.attention.1.weight"].dtype == torch.float32
    assert sd["module.network.layer1.0.bn1.weight"].dtype == torch.float32
    assert sd["module.network.conv1.weight"].dtype == torch.float16
    assert sd["module.network.layer1.0.bn1.num_batches_tracked"].dtype == torch.int64


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("distributed", [True, False], ids=["ddp", "single"])
def test_aognet_v2_model_best(tmp_path: Path, legacy: bool, distributed: bool) -> None:
    model = _model("an_resnet_demo", seed=3)
    path = tmp_path / "model_best.pth.tar"
    written = save_aognet_v2_best(model, path, arch="resnet", distributed=distributed, legacy=legacy)
    assert "apex" not in sys.modules, "apex must be absent at load time"
    loaded = load_model(path, assume_published=True)
    assert loaded.arch == "an_resnet_demo"
    assert loaded.options["arch"].source == "inferred from the checkpoint keys"
    assert loaded.options["attention_mode"].source == ASSUMED
    assert loaded.metadata == {"epoch": 120, "arch": "resnet", "best_prec1": 78.41}
    prefix = "module.network." if distributed else "network."
    assert f"prefix {prefix!r} stripped" in loaded.layout and "float16 tensors -> float32" in loaded.layout
    _assert_weights_equal(loaded.model, written, prefix)


def test_aognet_v2_resnet50_arch_entry_is_only_a_hint(tmp_path: Path) -> None:
    """AOGNet-v2 writes 'resnet50' for AN-ResNet-50; the keys decide, and the fp16 weights load exactly."""
    model = _model("an_resnet50", seed=1)
    path = tmp_path / "model_best.pth.tar"
    written = save_aognet_v2_best(model, path, arch="resnet50", dynamic_loss_scale=False)
    loaded = load_model(path, assume_published=True)
    assert loaded.arch == "an_resnet50" and loaded.num_classes == 1000
    assert loaded.options["arch"].source == "inferred from the checkpoint keys"
    _assert_weights_equal(loaded.model, written, "module.network.")


def test_aognet_v2_mobilenet(tmp_path: Path) -> None:
    model = _model("an_mobilenet_v2", seed=2)
    path = tmp_path / "model_best.pth.tar"
    written = save_aognet_v2_best(model, path, arch="mobilenet_v2", legacy=True)
    loaded = load_model(path, assume_published=True)
    assert loaded.arch == "an_mobilenet_v2"
    _assert_weights_equal(loaded.model, written, "module.network.")


@pytest.mark.parametrize("saver,prefix,wrapper", [
    (save_ivmcl_best, "module.", "state_dict"),
    (save_ivmcl_current, "module.", "model"),
    (save_ivmcl_released, "module.network.", "state_dict"),
    (save_data_parallel, "module.", None),
])
@pytest.mark.parametrize("arch", ["attn_resnet50", "an_mobilenet_v2"])
def test_ivmcl_release_and_data_parallel_files(tmp_path: Path, saver, prefix: str, wrapper: str | None,
                                               arch: str) -> None:
    model = _model(arch, seed=4)
    path = tmp_path / "ckpt.pth"
    written = saver(model, path)
    contents = read_checkpoint(path)
    assert contents.wrapper_key == wrapper and contents.prefix == prefix and not contents.converted
    loaded = load_model(path, assume_published=True)
    assert loaded.arch == arch
    _assert_weights_equal(loaded.model, written, prefix)
    if saver is save_ivmcl_current:
        assert loaded.metadata == {"amp_opt_level": "O1", "epoch": 99, "best_acc1": 0.7712,
                                   "best_acc1_reallabels": 0.8401}


def test_plain_state_dict_and_outputs_match(tmp_path: Path) -> None:
    model = _model("an_resnet_demo", seed=5)
    path = tmp_path / "plain.pt"
    torch.save(model.state_dict(), path)
    loaded = load_model(path, arch="an_resnet_demo", assume_published=True)
    x = torch.randn(3, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(loaded.model(x), model(x))


def test_fp64_and_bf16_become_fp32(tmp_path: Path) -> None:
    model = _model("resnet_demo", seed=6)
    sd = model.state_dict()
    mixed = {k: (v.double() if i % 2 else v.bfloat16()) if v.is_floating_point() else v
             for i, (k, v) in enumerate(sd.items())}
    path = tmp_path / "mixed.pt"
    torch.save(mixed, path)
    loaded = load_model(path)
    for key, value in mixed.items():
        assert loaded.model.state_dict()[key].dtype == (torch.float32 if value.is_floating_point() else value.dtype)
        assert torch.equal(loaded.model.state_dict()[key], value.float() if value.is_floating_point() else value)
    assert "bfloat16 tensors -> float32" in loaded.layout and "float64 tensors -> float32" in loaded.layout


FIXTURE = Path(__file__).parent / "fixtures" / "aognet_v2_an_fp16_layouts.json"


def _layouts() -> dict[str, dict]:
    return json.loads(FIXTURE.read_text())["models"]


def _tensor_like(key: str, shape: list[int], dtype: str, gen: torch.Generator) -> torch.Tensor:
    if dtype == "int64":
        return torch.tensor(5004, dtype=torch.int64).reshape(shape)
    t = torch.randn(shape, generator=gen)
    if key.endswith("running_var"):
        t = 0.5 + t.abs()
    return t.to(getattr(torch, dtype))


@pytest.mark.parametrize("config,arch", [("resnet-50-an-imagenet.yaml", "an_resnet50"),
                                         ("mobilenetv2-an-imagenet.yaml", "an_mobilenet_v2")])
def test_state_dict_of_the_authors_model_loads(tmp_path: Path, config: str, arch: str) -> None:
    """Keys, shapes and dtypes of the authors' own AOGNet-v2 model (a fixture read off their code) load exactly."""
    layout = _layouts()[config]
    gen = torch.Generator().manual_seed(7)
    written = {k: _tensor_like(k, shape, dtype, gen) for k, (shape, dtype) in layout["state_dict"].items()}
    path = tmp_path / "model_best.pth.tar"
    write_aognet_v2_best(written, path, arch=layout["arch"], legacy=True)
    loaded = load_model(path, assume_published=True)
    assert loaded.arch == arch and loaded.options["attention_mode"].value == layout["norm_attention_mode"]
    assert sum(p.numel() for p in loaded.model.parameters()) == layout["parameters"]
    _assert_weights_equal(loaded.model, written, "module.network.")


@pytest.mark.parametrize("config,arch", [("resnet-50-an-imagenet.yaml", "an_resnet50"),
                                         ("mobilenetv2-an-imagenet.yaml", "an_mobilenet_v2")])
def test_fp16_saver_matches_the_authors_layout(config: str, arch: str) -> None:
    with torch.device("meta"):
        model = get_arch(arch).builder()
    mine = {k: [list(v.shape), str(v.dtype).removeprefix("torch.")] for k, v in fp16_model_state_dict(model).items()}
    assert mine == _layouts()[config]["state_dict"]
