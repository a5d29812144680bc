"""The authors' users, end to end: a checkpoint saved the way the authors' training code saves it, plus its
training config, exports through the CLI, and ONNX Runtime reproduces the float64 model the file holds.

The model is built from the config by our builders (whose keys, shapes, parameter counts and float64 outputs
equal the authors' modules: tests/models), given realistic weights with calibrated batch statistics, and saved
in the authors' layout (tests/authors_formats.py: AOGNet-v2 ``model_best.pth.tar`` with fp16 tensors, apex
optimizer state and ``module.network.`` keys; iVMCL-Release ``model_best.pth`` with ``module.`` keys). The float64
reference holds exactly the tensors written to the file (fp16 rounding included), loaded without our loader.
Inputs are 64x64 to keep the suite fast; the architectures are the published ones.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from an_deploy.accuracy.inputs import realistic_inputs
from an_deploy.cli.main import app
from an_deploy.models.config_files import read_config
from an_deploy.models.randomize import calibrated_
from tests.authors_formats import save_aognet_v2_best, save_ivmcl_best

FIXTURES = Path(__file__).parent / "fixtures"
SHAPE = (2, 3, 64, 64)
MULTIPLE = 3.0  # ORT's error against float64 at most this many times PyTorch fp32's own (plus a tiny floor)

Saver = Callable[[nn.Module, Path], dict[str, torch.Tensor]]
CASES: list[tuple[str, str, Saver, str]] = [
    ("an-resnet-50", "aognet_v2/configs/resnet-50-an.yaml",
     lambda m, p: save_aognet_v2_best(m, p, arch="resnet50"), "module.network."),
    ("an-mobilenetv2", "aognet_v2/configs/mobilenetv2-an.yaml",
     lambda m, p: save_aognet_v2_best(m, p, arch="mobilenet_v2"), "module.network."),
    ("aognet-12m-an", "aognet_v2/configs/aognet-12m-an.yaml",
     lambda m, p: save_aognet_v2_best(m, p, arch="aognet"), "module.network."),
    ("ivmcl-resnetan-50", "ivmcl_release/configs/resnet50_an.py", save_ivmcl_best, "module."),
]


def _saved_model(config: Path, saver: Saver, prefix: str, path: Path) -> nn.Module:
    """Save a realistic model of ``config`` with ``saver``; return a float64 model holding the file's tensors."""
    built = read_config(config)
    model = calibrated_(built.build(built.num_classes or 1000), realistic_inputs(SHAPE, 8, seed=11), seed=3)
    written = saver(model, path)
    reference = copy.deepcopy(model)
    reference.load_state_dict({k[len(prefix):]: v.float() for k, v in written.items()}, strict=True)
    return reference.double().eval()


@pytest.mark.slow
@pytest.mark.parametrize(("config", "saver", "prefix"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_authors_checkpoint_and_config_export_exactly(tmp_path: Path, config: str, saver: Saver,
                                                      prefix: str) -> None:
    ckpt = tmp_path / ("model_best.pth.tar" if prefix == "module.network." else "model_best.pth")
    reference = _saved_model(FIXTURES / config, saver, prefix, ckpt)
    onnx_path = tmp_path / "m.onnx"
    result = CliRunner().invoke(app, ["export", str(ckpt), "--config", str(FIXTURES / config), "-o", str(onnx_path),
                                      "--input-shape", "x".join(map(str, SHAPE))])
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.stdout

    x = realistic_inputs(SHAPE, 4, seed=5)
    with torch.no_grad():
        ref = reference(x.double())
        fp32 = copy.deepcopy(reference).float()(x).double()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    out = torch.from_numpy(np.asarray(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])).double()
    torch_error = float((fp32 - ref).abs().max())
    ort_error = float((out - ref).abs().max())
    assert ort_error <= MULTIPLE * torch_error + 1e-6, (ort_error, torch_error)
    assert torch.equal(out.argmax(1), ref.argmax(1))


def test_authors_checkpoint_without_its_config_is_refused_in_one_line(tmp_path: Path) -> None:
    """Its keys cannot show the attention mode (2, 5 and 6 store the same tensors): nothing is guessed."""
    ckpt = tmp_path / "model_best.pth.tar"
    _saved_model(FIXTURES / "aognet_v2/configs/resnet-50-an-mode5.yaml",
                 lambda m, p: save_aognet_v2_best(m, p, arch="resnet50"), "module.network.", ckpt)
    result = CliRunner().invoke(app, ["export", str(ckpt), "-o", str(tmp_path / "m.onnx"),
                                      "--input-shape", "x".join(map(str, SHAPE))])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip() and not line.startswith("[an-deploy]")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "attention_mode" in lines[0]
    assert "--config" in lines[0] and "Traceback" not in result.output
    assert not (tmp_path / "m.onnx").exists()
