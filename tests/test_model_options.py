"""Nothing guessed: options the keys cannot show come from a config, our metadata or an explicit assumption."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from an_deploy.an_options import apply_options, key_ambiguities, live_options
from an_deploy.checkpoint import ASSUMED, FROM_METADATA, CheckpointError, load_model, save_checkpoint
from an_deploy.checkpoint_file import state_dict_digest
from an_deploy.models.attentive_norm import AttnBatchNorm2d, AttnGroupNorm, MixtureBatchNorm2d
from an_deploy.models.digits import DEMO_BN_CHECKPOINT, DEMO_CHECKPOINT, DEMO_DIR
from an_deploy.models.model_config import ModelConfig, OptionSource
from an_deploy.models.randomize import realistic_
from an_deploy.models.registry import DEMO_INPUT_SHAPE, DEMO_K
from an_deploy.models.resnet import ResNet

X = torch.randn(4, 1, 16, 16, generator=torch.Generator().manual_seed(0))


def _demo(mode: int, num_classes: int = 10) -> nn.Module:
    """The demo network with family-1 AN layers of any attention mode."""
    def norm(channels: int, stage: int) -> nn.Module:
        return MixtureBatchNorm2d(channels, DEMO_K[stage], attention_mode=mode)

    return ResNet([1, 1, 1], norm, num_classes, widths=(8, 16, 32), in_channels=1, stem="small")


def _demo_family2(use_rsd: bool, use_maxpool: bool) -> nn.Module:
    def norm(channels: int, stage: int) -> nn.Module:
        return AttnBatchNorm2d(channels, DEMO_K[stage], use_rsd=use_rsd, use_maxpool=use_maxpool)

    return ResNet([1, 1, 1], norm, 10, widths=(8, 16, 32), in_channels=1, stem="small")


def _out(model: nn.Module) -> torch.Tensor:
    with torch.no_grad():
        return model.eval()(X)


@pytest.mark.parametrize("mode,candidates", [(2, (2, 5, 6)), (5, (2, 5, 6)), (6, (2, 5, 6)), (0, (0, 4)), (4, (0, 4)),
                                             (1, None), (3, None)])
def test_ambiguity_is_found_on_the_built_layers(mode: int, candidates: tuple[int, ...] | None) -> None:
    found = key_ambiguities(_demo(mode))
    if candidates is None:
        assert found == []
    else:
        assert [(a.option, a.candidates, len(a.layers)) for a in found] == [("attention_mode", candidates, 3)]
    assert live_options(_demo(mode)) == {"attention_mode": mode}


def test_family2_options_are_always_ambiguous() -> None:
    found = key_ambiguities(_demo_family2(True, False))
    assert sorted(a.option for a in found) == ["act_cfg", "use_maxpool", "use_rsd"]
    assert live_options(_demo_family2(False, True)) == {"use_rsd": False, "use_maxpool": True,
                                                        "act_cfg": "HSigmoidv2"}


def test_family2_act_cfg_is_applied_and_group_norm_layers_count_as_family2() -> None:
    model = realistic_(_demo_family2(True, False), seed=2)
    before = _out(model)
    apply_options(model, {"act_cfg": "Sigmoid"})
    assert live_options(model)["act_cfg"] == "Sigmoid" and not torch.equal(_out(model), before)
    gn = AttnGroupNorm(8, 4, num_groups=2)  # its branch lives under attention_weights, like family 1's
    assert sorted(a.option for a in key_ambiguities(nn.Sequential(gn))) == ["act_cfg", "use_maxpool", "use_rsd"]


@pytest.mark.parametrize("built,wanted", [(2, 5), (2, 6), (5, 2), (0, 4), (4, 0)])
def test_apply_options_switches_between_modes_with_the_same_keys(built: int, wanted: int) -> None:
    reference = realistic_(_demo(wanted), seed=1)
    model = _demo(built)
    model.load_state_dict(reference.state_dict())
    assert not torch.equal(_out(model), _out(reference)), "the modes must differ numerically for this test to mean much"
    apply_options(model, {"attention_mode": wanted})
    assert torch.equal(_out(model), _out(reference))
    assert live_options(model) == {"attention_mode": wanted}


def test_apply_options_refuses_a_mode_with_other_keys() -> None:
    with pytest.raises(ValueError, match="mode 2/5/6, not of mode 0"):
        apply_options(_demo(2), {"attention_mode": 0})


def test_apply_options_family2_matches_a_model_built_that_way() -> None:
    reference = realistic_(_demo_family2(False, True), seed=2)
    model = _demo_family2(True, False)
    model.load_state_dict(reference.state_dict())
    apply_options(model, {"use_rsd": False, "use_maxpool": True})
    assert torch.equal(_out(model), _out(reference))


def _saved(tmp_path: Path, model: nn.Module, name: str = "ckpt.pth") -> Path:
    path = tmp_path / name
    torch.save({"state_dict": model.state_dict(), "arch": "resnet"}, path)
    return path


def test_ambiguous_keys_are_refused_in_one_line(tmp_path: Path) -> None:
    path = _saved(tmp_path, realistic_(_demo(5), seed=3))
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    text = str(info.value)
    assert "\n" not in text
    for part in ("attention_mode (2, 5 or 6 store the same tensors", "--config <training config>", "--model-def",
                 "--assume-published"):
        assert part in text, text


def test_family2_refusal_names_both_switches(tmp_path: Path) -> None:
    from an_deploy.models.registry import get_arch

    path = tmp_path / "attn.pth"
    torch.save(get_arch("attn_resnet50").builder().state_dict(), path)
    with pytest.raises(CheckpointError, match="use_rsd .*use_maxpool .*--assume-published"):
        load_model(path)


def test_assume_published_warns_once_and_records_the_assumption(tmp_path: Path, capsys) -> None:
    path = _saved(tmp_path, realistic_(_demo(2), seed=3))
    loaded = load_model(path, assume_published=True)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: ") and "attention_mode=2" in err[0], err
    assert loaded.options["attention_mode"] == OptionSource(2, ASSUMED)


def _config(mode: int) -> ModelConfig:
    return ModelConfig(name=f"demo AN mode {mode}", family="aognet-v2", build=lambda n: _demo(mode, n),
                       num_classes=10, input_shape=DEMO_INPUT_SHAPE,
                       options={"attention_mode": OptionSource(mode, "demo.yaml: norm_attention_mode")},
                       path=Path("demo.yaml"))


def test_config_builds_the_trained_mode_and_the_published_guess_would_be_wrong(tmp_path: Path, capsys) -> None:
    trained = realistic_(_demo(5), seed=4)
    path = _saved(tmp_path, trained)
    from_config = load_model(path, config=_config(5))
    assert torch.equal(_out(from_config.model), _out(trained))
    assert from_config.options["attention_mode"] == OptionSource(5, "demo.yaml: norm_attention_mode")
    assert from_config.options["config"] == OptionSource("demo.yaml", "--config")
    assert from_config.input_shape == DEMO_INPUT_SHAPE
    assert capsys.readouterr().err == ""
    guessed = load_model(path, assume_published=True)
    assert not torch.allclose(_out(guessed.model), _out(trained), atol=1e-3), "mode 2 for a mode-5 model is wrong"


def test_config_whose_model_does_not_fit_the_keys(tmp_path: Path) -> None:
    path = _saved(tmp_path, _demo(1))
    with pytest.raises(CheckpointError, match="does not fit config demo AN mode 5: .*unexpected keys"):
        load_model(path, config=_config(5))


def test_arch_and_config_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not both"):
        load_model(_saved(tmp_path, _demo(2)), arch="an_resnet_demo", config=_config(2))


@pytest.mark.parametrize("mode", [2, 5, 6])
def test_our_metadata_restores_the_mode(tmp_path: Path, mode: int, capsys) -> None:
    trained = realistic_(_demo(mode), seed=5)
    path = tmp_path / "ours.pt"
    save_checkpoint(trained, path, "an_resnet_demo")
    assert torch.load(path, weights_only=True)["an_deploy"]["options"] == {"attention_mode": mode}
    loaded = load_model(path)
    assert torch.equal(_out(loaded.model), _out(trained))
    assert loaded.options["attention_mode"] == OptionSource(mode, FROM_METADATA)
    assert loaded.options["arch"] == OptionSource("an_resnet_demo", FROM_METADATA)
    assert capsys.readouterr().err == ""


def test_metadata_that_contradicts_the_keys_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ours.pt"
    save_checkpoint(_demo(2), path, "an_resnet_demo", {"attention_mode": 1})
    with pytest.raises(CheckpointError, match="metadata does not fit its keys: .*not of mode 1"):
        load_model(path)


def test_save_checkpoint_refuses_non_plain_options(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="plain value"):
        save_checkpoint(_demo(2), tmp_path / "x.pt", "an_resnet_demo", {"k": [1, 2]})


@pytest.mark.parametrize("path,arch", [(DEMO_CHECKPOINT, "an_resnet_demo"), (DEMO_BN_CHECKPOINT, "resnet_demo")])
def test_demo_checkpoints_load_with_no_flag_and_are_the_trained_weights(path: Path, arch: str) -> None:
    loaded = load_model(path)
    assert loaded.arch == arch and loaded.options["arch"].source == FROM_METADATA
    assert loaded.input_shape == DEMO_INPUT_SHAPE
    metrics = json.loads((DEMO_DIR / "demo_metrics.json").read_text())
    assert state_dict_digest(torch.load(path, weights_only=True)["state_dict"]) == \
        metrics["models"][arch]["state_dict_sha256"]
    assert state_dict_digest(loaded.model.state_dict()) == metrics["models"][arch]["state_dict_sha256"]


def test_cli_inspect_shows_option_sources_and_refuses_or_assumes(tmp_path: Path, monkeypatch) -> None:
    from an_deploy.cli.main import app

    runner = CliRunner()
    r = runner.invoke(app, ["inspect", str(DEMO_CHECKPOINT)])
    assert r.exit_code == 0, r.output
    assert "attention_mode = 2  (checkpoint metadata (an_deploy))" in r.stdout
    path = _saved(tmp_path, realistic_(_demo(6), seed=6))
    r = runner.invoke(app, ["inspect", str(path)])
    assert r.exit_code == 1 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("error: ") and "--config" in r.stderr
    r = runner.invoke(app, ["inspect", str(path), "--assume-published"])
    assert r.exit_code == 0, r.output
    assert "attention_mode = 2  (assumed: published setting)" in r.stdout
    assert [line for line in r.stderr.splitlines() if line] == [r.stderr.strip()] and "warning:" in r.stderr
    monkeypatch.setattr("an_deploy.models.config_files.read_config", lambda p: _config(6))
    r = runner.invoke(app, ["inspect", str(path), "--config", "demo.yaml"])
    assert r.exit_code == 0, r.output
    assert "attention_mode = 6  (demo.yaml: norm_attention_mode)" in r.stdout and r.stderr == ""
    r = runner.invoke(app, ["eval", str(path), "--config", "demo.yaml"])
    assert r.exit_code == 0 and "held-out accuracy" in r.stdout, r.output


def test_options_a_config_leaves_out_are_read_off_the_model_it_built(tmp_path: Path) -> None:
    config = ModelConfig(name="demo mode 6", family="aognet-v2", build=lambda n: _demo(6, n), num_classes=None,
                         input_shape=DEMO_INPUT_SHAPE)
    loaded = load_model(_saved(tmp_path, _demo(6)), config=config)
    assert loaded.options["attention_mode"] == OptionSource(6, "built from config demo mode 6")
    assert loaded.options["config"] == OptionSource("demo mode 6", "--config")
