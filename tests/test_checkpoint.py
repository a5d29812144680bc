"""Checkpoint loading: original key names, wrappers, prefixes, inference, and every bad-input path."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from an_deploy.checkpoint import CheckpointError, extract_state_dict, infer_arch, load_model
from an_deploy.models.mobilenetv2 import SETTINGS
from an_deploy.models.registry import ARCHS, MOBILENET_K, RESNET_K, get_arch

AN_KEYS = ("weight_", "bias_", "running_mean", "running_var", "num_batches_tracked")
ATTN_KEYS = (  # attention mode 2: conv C->K no bias, BatchNorm2d(K), hsigmoid
    "attention_weights.attention.0.weight",
    "attention_weights.attention.1.weight",
    "attention_weights.attention.1.bias",
    "attention_weights.attention.1.running_mean",
    "attention_weights.attention.1.running_var",
    "attention_weights.attention.1.num_batches_tracked",
)


def _an_entries(prefix: str, c: int, k: int) -> dict[str, torch.Tensor]:
    """The state-dict entries of one mode-2 MixtureBatchNorm2d, written from the authors' published key names."""
    shapes = {
        "weight_": (k, c), "bias_": (k, c), "running_mean": (c,), "running_var": (c,), "num_batches_tracked": (),
        "attention_weights.attention.0.weight": (k, c, 1, 1),
        "attention_weights.attention.1.weight": (k,), "attention_weights.attention.1.bias": (k,),
        "attention_weights.attention.1.running_mean": (k,), "attention_weights.attention.1.running_var": (k,),
        "attention_weights.attention.1.num_batches_tracked": (),
    }
    assert set(shapes) == set(AN_KEYS) | set(ATTN_KEYS)
    return {
        f"{prefix}.{key}": (torch.tensor(7) if not shape else torch.rand(shape) + 0.5)
        for key, shape in shapes.items()
    }


def _original_resnet50_state_dict() -> dict[str, torch.Tensor]:
    """Plain-BN keys from a BN ResNet-50, plus AN keys at every bottleneck's bn2 written from the spec."""
    sd = {k: v for k, v in get_arch("resnet50").builder().state_dict().items() if ".bn2." not in k}
    for stage, (blocks, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512), strict=True)):
        for b in range(blocks):
            sd.update(_an_entries(f"layer{stage + 1}.{b}.bn2", width, RESNET_K[stage]))
    return sd


def _original_mobilenet_state_dict() -> dict[str, torch.Tensor]:
    sd = get_arch("mobilenet_v2").builder().state_dict()
    block, cin = 1, 32
    for row, (t, c, n, _) in enumerate(SETTINGS):
        for _ in range(n):
            dw = "conv.0.1" if t == 1 else "conv.1.1"
            prefix = f"features.{block}.{dw}"
            sd = {k: v for k, v in sd.items() if not k.startswith(prefix + ".")}
            sd.update(_an_entries(prefix, cin * t, MOBILENET_K[row]))
            block, cin = block + 1, c
    return sd


@pytest.mark.parametrize("arch,make", [("an_resnet50", _original_resnet50_state_dict),
                                       ("an_mobilenet_v2", _original_mobilenet_state_dict)])
@pytest.mark.parametrize("wrap", ["bare", "state_dict", "module_prefix", "state_dict+module"])
def test_original_keys_load_without_missing_or_unexpected(tmp_path: Path, arch: str, make, wrap: str) -> None:
    sd = make()
    assert any(k.endswith(".attention_weights.attention.1.running_var") for k in sd)
    if "module" in wrap:
        sd = {f"module.{k}": v for k, v in sd.items()}
    obj = {"state_dict": sd, "epoch": 90} if "state_dict" in wrap else sd
    path = tmp_path / "ckpt.pth"
    torch.save(obj, path)
    loaded = load_model(path, assume_published=True)  # architecture inferred from the keys; mode 2 is assumed
    assert loaded.arch == arch
    assert loaded.options["attention_mode"].value == 2
    assert loaded.model.state_dict().keys() == {k.removeprefix("module.") for k in sd}
    key = "layer1.0.bn2.weight_" if arch == "an_resnet50" else "features.1.conv.0.1.weight_"
    expected = sd[("module." if "module" in wrap else "") + key]
    assert torch.equal(loaded.model.state_dict()[key], expected)


def test_explicit_arch_and_class_count_from_checkpoint(tmp_path: Path) -> None:
    model = get_arch("an_resnet_demo").builder(num_classes=7)
    path = tmp_path / "seven.pt"
    torch.save(model.state_dict(), path)
    loaded = load_model(path, arch="an_resnet_demo", assume_published=True)
    assert loaded.num_classes == 7 and loaded.options["arch"].source == "--arch"
    assert infer_arch(model.state_dict()) == "an_resnet_demo"


def test_family2_keys_are_distinguished_from_family1() -> None:
    sd = get_arch("attn_resnet50").builder().state_dict()
    assert "layer1.0.bn2.attn_weights.attention.0.weight" in sd
    assert infer_arch(sd) == "attn_resnet50"


def _bad_checkpoint(kind: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{kind}.pth"
    if kind == "text":
        path.write_text("these are not weights\n")
    elif kind == "truncated":
        torch.save(get_arch("an_resnet_demo").builder().state_dict(), path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "hostile":
        torch.save({"state_dict": {"w": torch.zeros(1), "b": _Hostile()}}, path, pickle_protocol=2)
    return path


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        load_model(tmp_path / "nope.pth")


def test_not_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        load_model(_bad_checkpoint("text", tmp_path))


def test_truncated_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_model(_bad_checkpoint("truncated", tmp_path))


class _Hostile:
    def __reduce__(self):  # noqa: D105 - runs a command when unpickled by an unsafe loader
        import os

        return (os.system, ("touch /tmp/an_deploy_pwned",))


def test_hostile_pickle_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = Path("/tmp/an_deploy_pwned")
    marker.unlink(missing_ok=True)
    path = _bad_checkpoint("hostile", tmp_path)
    with pytest.raises(CheckpointError, match="pickled posix.system object") as info:
        load_model(path)
    assert "weights_only" not in str(info.value), "never advise the unsafe retry"
    assert not marker.exists()
    raw = tmp_path / "raw.pkl"
    raw.write_bytes(pickle.dumps(_Hostile()))
    with pytest.raises(CheckpointError):
        load_model(raw)
    assert not marker.exists()


def test_wrong_architecture_lists_mismatches(tmp_path: Path) -> None:
    path = tmp_path / "bn.pt"
    torch.save(get_arch("resnet_demo").builder().state_dict(), path)
    with pytest.raises(CheckpointError, match="missing keys") as err:
        load_model(path, arch="an_resnet_demo")
    assert "weight_" in str(err.value)


def test_unknown_architecture_name(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    torch.save(get_arch("resnet_demo").builder().state_dict(), path)
    with pytest.raises(CheckpointError, match="unknown architecture"):
        load_model(path, arch="vgg16")


def test_uninferable_keys(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="could not infer .*keys look like top-level names encoder"):
        infer_arch({"encoder.weight": torch.zeros(3, 3)})


def test_unknown_layout_names_the_scheme_and_prefix_it_saw(tmp_path: Path) -> None:
    """An iVMCL-Release ResNetAN-like file (AN layer named AttnBN2d2) that fits no registry architecture: say what
    it looks like."""
    sd = get_arch("attn_resnet50").builder().state_dict()
    renamed = {"module.network." + k.replace(".bn2.", ".AttnBN2d2."): v for k, v in sd.items() if k != "fc.bias"}
    path = tmp_path / "resnet_an.pth"
    torch.save({"state_dict": renamed}, path)
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    text = str(info.value)
    assert "keys look like iVMCL-Release ResNetAN (layer1.0.AttnBN2d2." in text, text
    assert "after stripping 'module.network.'" in text and "\n" not in text


def test_keys_that_fit_several_architectures_are_not_guessed(tmp_path: Path, monkeypatch) -> None:
    twin = get_arch("resnet_demo")
    monkeypatch.setitem(ARCHS, "resnet_demo_twin", type(twin)("resnet_demo_twin", twin.builder, twin.input_shape,
                                                              "same keys"))
    path = tmp_path / "bn.pt"
    torch.save(twin.builder().state_dict(), path)
    with pytest.raises(CheckpointError, match="fit several architectures .*resnet_demo, resnet_demo_twin"):
        load_model(path)
    torch.save({"state_dict": twin.builder().state_dict(), "arch": "resnet_demo_twin"}, path)
    assert load_model(path).arch == "resnet_demo_twin", "a file's arch entry decides between exact fits"


def test_non_tensor_state_dict_is_rejected() -> None:
    with pytest.raises(CheckpointError, match="non-tensor"):
        extract_state_dict({"a": torch.zeros(1), "b": 3})


@pytest.mark.parametrize(
    "kind,extra,match",
    [
        ("missing", [], "not found"),
        ("text", [], "not a readable PyTorch checkpoint"),
        ("truncated", [], "corrupt or truncated"),
        ("hostile", [], "is a pickled posix.system object"),
        ("demo", ["--arch", "an_resnet50"], "does not fit architecture an_resnet50"),
    ],
)
def test_cli_bad_checkpoint_is_one_line_exit_1_no_traceback(tmp_path: Path, kind: str, extra: list[str],
                                                            match: str) -> None:
    import subprocess
    import sys

    from an_deploy.models.digits import DEMO_CHECKPOINT

    path = DEMO_CHECKPOINT if kind == "demo" else _bad_checkpoint(kind, tmp_path)
    marker = Path("/tmp/an_deploy_pwned")
    marker.unlink(missing_ok=True)
    r = subprocess.run([sys.executable, "-m", "an_deploy.cli.main", "eval", str(path), *extra],
                       cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=600)
    assert r.returncode == 1, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and match in errors[0], r.stderr
    assert "Traceback" not in r.stderr and "Warning" not in r.stderr, r.stderr
    assert not marker.exists()


def test_same_keys_other_shapes_do_not_advise_arch(tmp_path: Path) -> None:
    """A model with the demo's keys but other widths: naming an architecture cannot help, so do not advise it."""
    sd = get_arch("an_resnet_demo").builder().state_dict()
    sd = {k: (torch.zeros(*v.shape[:-1], v.shape[-1] + 1) if k == "fc.weight" else v) for k, v in sd.items()}
    with pytest.raises(CheckpointError) as info:
        infer_arch(sd)
    text = str(info.value)
    assert "the keys of an_resnet_demo but not its shapes" in text and "--arch cannot help" in text, text
    assert "fc.weight" in text and "pass --arch or" not in text
