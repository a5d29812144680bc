"""Bring your own model code: ``--model-def`` and ``an_deploy.export()`` on models built from classes that are not
ours (the authors' look-alikes), a mode-5 AN-ResNet exported exactly (sigmoid, not hsigmoid), one-line errors."""

from __future__ import annotations

import copy
from pathlib import Path

import onnx
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

import an_deploy
from an_deploy import spec
from an_deploy.accuracy.tolerances import RelativeRule
from an_deploy.cli.main import app
from an_deploy.onnx_graph.nodes import an_nodes
from an_deploy.parity.matrix import run_parity
from tests.export import lookalikes as la
from tests.export.helpers import session

REPO = Path(__file__).resolve().parents[2]
LOOKALIKE_DEF = "tests.export.lookalikes:lookalike_resnet_mode5"
OURS_DEF = "tests.export.lookalikes:ours_resnet_mode5"


def _activations(model: onnx.ModelProto) -> set[int]:
    return {next(a.i for a in node.attribute if a.name == "activation") for node in an_nodes(model)}


def _assert_within_rule(model: nn.Module, onnx_path: Path, x: torch.Tensor) -> None:
    """Independent of the exporter's own check: ORT vs the float64 model within 5x PyTorch fp32's error + 1e-5."""
    out = torch.from_numpy(session(onnx.load(onnx_path)).run(None, {"input": x.numpy()})[0]).double()
    with torch.no_grad():
        ref64 = copy.deepcopy(model).double()(x.double())
        torch_err = float((model(x).double() - ref64).abs().max())
    err = float((out - ref64).abs().max())
    assert err <= RelativeRule().bound(torch_err), f"ORT {err:.3e} from float64, PyTorch fp32 {torch_err:.3e}"


@pytest.fixture(scope="module")
def mode5_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint of the look-alike mode-5 AN-ResNet with realistic weights (wrapped, ``module.`` keys)."""
    model = la.randomised_(la.lookalike_resnet_mode5(), seed=3)
    path = tmp_path_factory.mktemp("ckpt") / "mode5.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}, "epoch": 90}, path)
    return path


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(REPO)  # --model-def imports with the current folder on sys.path

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(app, list(args))

    return run


@pytest.mark.parametrize("builder", [la.lookalike_resnet_mode5, la.ours_resnet_mode5], ids=["authors", "ours"])
def test_python_api_exports_mode5_exactly(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model = la.randomised_(builder(), seed=1)
    x = torch.randn(2, *la.SMALL_INPUT[1:], generator=torch.Generator().manual_seed(4)) * 0.8 + 0.1
    out = tmp_path / "m.onnx"
    summary = an_deploy.export(model, x, out)
    assert summary.an_layers == summary.an_nodes == 3 and summary.options_source == "live module"
    assert summary.validation is not None and summary.validation.torch_error is not None
    assert summary.validation.worst_ratio <= 1.0 and summary.validation.max_abs > 0
    assert summary.validation.batch_sizes == [2, 3]
    proto = onnx.load(out)
    assert _activations(proto) == {int(spec.Activation.SIGMOID)}
    _assert_within_rule(model, out, x)


def test_python_api_leaves_a_training_model_alone_and_can_skip_validation(tmp_path: Path) -> None:
    model = la.randomised_(la.lookalike_resnet_mode5()).train()
    x = torch.randn(1, *la.SMALL_INPUT[1:])
    summary = an_deploy.export(model, x, tmp_path / "m.onnx", validate=False, dynamic_batch=False)
    assert summary.validation is None and model.training
    assert (tmp_path / "m.onnx").is_file()


@pytest.mark.parametrize("model_def,builder,extra", [(LOOKALIKE_DEF, la.lookalike_resnet_mode5, []),
                                                     (OURS_DEF, la.ours_resnet_mode5, ["--input-shape", "1x3x32x32"])],
                         ids=["authors", "ours"])
def test_cli_model_def_mode5_sigmoid(cli, mode5_checkpoint: Path, tmp_path: Path, model_def: str,  # type: ignore[no-untyped-def]
                                     builder, extra: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Modes 2, 5 and 6 share their keys, so the look-alike's checkpoint also fits our class; either way the live
    module says sigmoid."""
    out = tmp_path / "mode5.onnx"
    r = cli("export", str(mode5_checkpoint), "--model-def", model_def, "-o", str(out), *extra)
    assert r.exit_code == 0, r.output
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("PASSED | ") and "options from the live module" in last and "5 x max |PyTorch fp32" in last
    assert _activations(onnx.load(out)) == {int(spec.Activation.SIGMOID)}
    model = builder()
    state = torch.load(mode5_checkpoint)["state_dict"]
    model.load_state_dict({k.removeprefix("module."): v for k, v in state.items()})
    x = torch.randn(5, *la.SMALL_INPUT[1:], generator=torch.Generator().manual_seed(9)) * 0.8 + 0.1
    _assert_within_rule(model.eval(), out, x)
    report = tmp_path / "parity.json"
    r = cli("parity", str(mode5_checkpoint), "--onnx", str(out), "--model-def", model_def, "--report", str(report))
    assert r.exit_code == 0, r.output
    assert r.stdout.strip().splitlines()[-1].startswith("PASSED | ")
    assert "5 x max |PyTorch fp32 - fp64|" in report.with_suffix(".md").read_text()


def test_cli_plain_rule_and_no_validate(cli, mode5_checkpoint: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "m.onnx"
    r = cli("export", str(mode5_checkpoint), "--model-def", LOOKALIKE_DEF, "-o", str(out), "--atol", "1e-3",
            "--rtol", "1e-3")
    assert r.exit_code == 0, r.output
    assert "|out - ref| <= atol + rtol * |ref| (atol 0.001, rtol 0.001)" in r.stdout
    r = cli("export", str(mode5_checkpoint), "--model-def", LOOKALIKE_DEF, "-o", str(tmp_path / "tight.onnx"),
            "--atol", "1e-12")
    assert r.exit_code == 1 and "validation failed: [values]" in r.stderr
    assert not (tmp_path / "tight.onnx").exists()
    r = cli("export", str(mode5_checkpoint), "--model-def", LOOKALIKE_DEF, "-o", str(out), "--no-validate")
    assert r.exit_code == 0 and "validation SKIPPED (--no-validate)" in r.stdout


@pytest.mark.parametrize(
    "model_def,extra,match",
    [
        ("lookalikes", [], "must look like package.module:callable"),
        ("tests.export.no_such_module:build", [], "cannot import 'tests.export.no_such_module'"),
        ("tests.export.lookalikes:no_such_builder", [], "has no attribute 'no_such_builder'"),
        ("tests.export.lookalikes:SMALL_INPUT", [], "is a tuple, not a callable"),
        ("tests.export.lookalikes:not_a_module", [], "returned a str, not a torch.nn.Module"),
        ("tests.export.lookalikes:broken_builder", [], "failed: RuntimeError: the builder needs a config file"),
        (OURS_DEF, [], "--input-shape is required with --model-def"),
        (OURS_DEF, ["--arch", "an_resnet50"], "exclude each other"),
        ("tests.export.lookalikes:ours_resnet_mode5", ["--atol", "-1"], "must be finite and >= 0"),
        ("an_deploy.models.registry:an_resnet_demo", [], "does not fit the module of --model-def"),
    ],
    ids=["no-colon", "import", "attribute", "not-callable", "not-module", "raises", "no-shape", "arch", "atol",
         "mismatch"],
)
def test_model_def_errors_are_one_line(cli, mode5_checkpoint: Path, tmp_path: Path, model_def: str,  # type: ignore[no-untyped-def]
                                       extra: list[str], match: str) -> None:
    out = tmp_path / "out.onnx"
    r = cli("export", str(mode5_checkpoint), "--model-def", model_def, "-o", str(out), *extra)
    assert r.exit_code == 1, r.output
    lines = r.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and match in lines[-1], r.stderr
    assert sum(line.startswith("error:") for line in lines) == 1 and "Traceback" not in r.stderr
    assert not out.exists()


def test_parity_python_call_with_model_def(mode5_checkpoint: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    out = tmp_path / "m.onnx"
    model = la.randomised_(la.lookalike_resnet_mode5(), seed=3)
    an_deploy.export(model, torch.randn(1, *la.SMALL_INPUT[1:]), out, validate=False)
    report = run_parity(mode5_checkpoint, out, model_def=LOOKALIKE_DEF, batch=4)
    assert report.passed, report.to_markdown()
    assert report.config["arch"] == LOOKALIKE_DEF and report.config["an_layer_options"] == "live module"
    assert "5 x max |PyTorch fp32 - fp64|" in report.config["rule"]


def test_parity_refuses_an_onnx_file_of_other_weights(mode5_checkpoint: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The same architecture with other weights: every ORT row against float64 or PyTorch fp32 fails."""
    monkeypatch.chdir(REPO)
    out = tmp_path / "other.onnx"
    an_deploy.export(la.randomised_(la.lookalike_resnet_mode5(), seed=4), torch.randn(1, *la.SMALL_INPUT[1:]), out,
                     validate=False)
    report = run_parity(mode5_checkpoint, out, model_def=LOOKALIKE_DEF, batch=4)
    failed = {(c.backend, c.reference) for c in report.comparisons if not c.stats.passed}
    assert failed == {(f"ort-{f}", r) for f in ("function", "decomposed") for r in ("torch-fp64", "torch-fp32")}
    assert report.verdict().startswith("FAILED | ")
