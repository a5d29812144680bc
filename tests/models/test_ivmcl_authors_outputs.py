"""Our iVMCL-Release build of a config reproduces the authors' own float64 outputs (every family-2 AN option).

The fixture holds, for two tiny ResNetAN configs (AttnBN2d and AttnGN at every position; attn_mode 0/1;
branch GroupNorm with 1 or 2 groups or BatchNorm; use_rsd on/off; use_maxpool; eps_var; the mmcv activations;
deep stem, avg_down, dilation), float32-exact weights and the output of the authors' module in float64.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from an_deploy.models.config_files import read_config

FIXTURE = Path(__file__).parent.parent / "fixtures" / "ivmcl_release" / "authors_outputs.json"
MODELS = json.loads(FIXTURE.read_text())["models"]


def _input() -> torch.Tensor:
    n, c, h, w = torch.meshgrid(*(torch.arange(s, dtype=torch.float64) for s in (2, 3, 20, 20)), indexing="ij")
    return torch.sin(0.37 * h + 0.61 * w + 1.3 * c + 2.1 * n) * (1 + 0.5 * c) + 0.3 * c + 0.05 * h


@pytest.mark.parametrize("name", sorted(MODELS))
def test_config_build_matches_the_authors_output_in_float64(name: str, tmp_path: Path) -> None:
    entry = MODELS[name]
    options = ", ".join(f"{k}={v!r}" for k, v in entry["model"].items())
    path = tmp_path / f"{name}.py"
    path.write_text(f"model = dict(type='ResNetAN', {options})\n")
    config = read_config(path)
    model = config.build(config.num_classes or 0)
    state = {k: torch.tensor(v["values"], dtype=torch.float32).reshape(v["shape"])
             for k, v in entry["state_dict"].items()}
    model.load_state_dict({k: v.long() if k.endswith("num_batches_tracked") else v for k, v in state.items()})
    with torch.no_grad():
        out = model.double()(_input())
    expected = torch.tensor(entry["output"], dtype=torch.float64)
    assert float((expected[0] - expected[1]).abs().max()) > 1e-3  # the two samples differ: no dead path
    # both sides compute in float64; only the order of a few reductions may differ
    assert float((out - expected).abs().max()) <= 1e-10 * float(expected.abs().max())
