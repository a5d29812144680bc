"""An iVMCL-Release ``model_best.pth`` (``{'state_dict'}`` with ``module.`` keys) loads by the authors' names."""

from __future__ import annotations

from pathlib import Path

import torch

from an_deploy.checkpoint import load_model
from an_deploy.models.ivmcl_release import published
from an_deploy.models.randomize import realistic_


def test_model_best_pth_loads_and_its_architecture_is_inferred(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = realistic_(published.mobilenetv2_an(num_classes=10), seed=4)
    path = tmp_path / "model_best.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}, path)
    loaded = load_model(path, assume_published=True)  # the keys cannot show use_rsd / use_maxpool / act_cfg
    assert loaded.arch == "ivmcl_mobilenetv2_an" and loaded.num_classes == 10
    assert loaded.options["act_cfg"].value == "HSigmoidv2" and loaded.options["use_rsd"].value is True
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        assert torch.equal(loaded.model(x), model(x))
