"""Whole-model export: the demo model (real held-out digits), AN-ResNet-50 and AN-MobileNetV2 (realistic random
weights, small inputs). Every export passes onnx.checker (full) and runs in ONNX Runtime."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from an_deploy.export.checks import check_model
from an_deploy.export.functions import an_nodes, inline_an_functions, strip_an_functions
from an_deploy.export.torch_export import ExportError, export_model
from an_deploy.summary import an_layers
from models.digits import load_heldout
from models.randomize import realistic_
from models.registry import an_mobilenet_v2, an_resnet50
from tests.export.helpers import assert_close, session

ATOL, RTOL = 1e-4, 1e-4  # ORT vs PyTorch fp32 on logits (the bound is max abs <= 1e-4)


def _check_forms(
    model: nn.Module, shape: tuple[int, ...], batches: list[torch.Tensor]
) -> tuple[dict[str, float], dict]:
    result = export_model(model, shape, dynamic_batch=True)
    check_model(result.model)
    assert len(an_nodes(result.model)) == len(an_layers(model)) == len(result.an_layers)
    decomposed = inline_an_functions(result.model)
    check_model(decomposed)
    check_model(strip_an_functions(result.model))
    errors: dict[str, float] = {}
    sessions = {"function": session(result.model), "decomposed": session(decomposed)}
    for x in batches:
        with torch.no_grad():
            ref = model(x)
        outs = {form: s.run(None, {"input": x.numpy()})[0] for form, s in sessions.items()}
        for form, out in outs.items():
            errors[form] = max(errors.get(form, 0.0), assert_close(out, ref, ATOL, RTOL, f"{form} batch {len(x)}"))
        assert_close(outs["decomposed"], outs["function"], ATOL, RTOL, "decomposed vs function")
    return errors, sessions


def test_demo_model_both_forms_dynamic_batch_and_top1(demo_model: nn.Module) -> None:
    images, _ = load_heldout()
    errors, sessions = _check_forms(demo_model, (1, 1, 16, 16), [images[:1], images[1:8], images])
    assert max(errors.values()) <= ATOL
    out = torch.from_numpy(sessions["function"].run(None, {"input": images.numpy()})[0])
    with torch.no_grad():
        ref = demo_model(images)
    assert bool((out.argmax(1) == ref.argmax(1)).all()), "top-1 disagreement on the held-out digits"


def test_static_export_fixes_the_batch(demo_model: nn.Module) -> None:
    result = export_model(demo_model, (2, 1, 16, 16), dynamic_batch=False, opset=20)
    check_model(result.model)
    assert result.model.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2
    assert {o.domain: o.version for o in result.model.opset_import}[""] == 20


@pytest.mark.parametrize("kwargs,match", [({"opset": 13}, "opset"), ({"form": "plugin"}, "form")])
def test_bad_export_options(demo_model: nn.Module, kwargs: dict, match: str) -> None:
    with pytest.raises(ExportError, match=match):
        export_model(demo_model, (1, 1, 16, 16), **kwargs)


def test_wrong_channel_count_is_a_user_error(demo_model: nn.Module) -> None:
    with pytest.raises(ExportError, match="rejects input shape"):
        export_model(demo_model, (1, 3, 16, 16))


@pytest.mark.slow
@pytest.mark.parametrize("builder", [an_resnet50, an_mobilenet_v2], ids=["an_resnet50", "an_mobilenet_v2"])
def test_imagenet_models_small_input(builder) -> None:  # type: ignore[no-untyped-def]
    model = realistic_(builder(), seed=1)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 3, 64, 64, generator=g) * 0.8 + 0.1
    errors, _ = _check_forms(model, (1, 3, 64, 64), [x[:1], x])
    assert max(errors.values()) <= ATOL
