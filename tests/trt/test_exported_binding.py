"""Binding checks on what the exporter really writes: every layer configuration and the demo network.

After stripping, each AN node must bind the plugin exactly as spec.py says; after inlining, the graph must be
standard ops, checker-clean and equal under onnxruntime to the function form.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from an_deploy import spec
from an_deploy.fold import fold
from an_deploy.trt import AnImpl
from an_deploy.trt.onnx_prep import binding_errors, native_errors, prepare
from tests.an_layers import LAYERS, make_layer
from tests.export.helpers import single_layer_model


def _ort(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (name,) = [i.name for i in sess.get_inputs()]
    return np.asarray(sess.run(None, {name: x})[0])


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_every_layer_config_binds_the_plugin_and_inlines_equal(layer: str) -> None:
    folded = fold(make_layer(layer))
    model = single_layer_model(folded)
    plugin = prepare(model, AnImpl.PLUGIN)
    assert binding_errors(plugin.model) == []
    (node,) = plugin.model.graph.node
    values = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert {k: values[k] for k in spec.ATTRIBUTE_NAMES} == pytest.approx(spec.resolve_attributes(folded.attrs))
    native = prepare(model, AnImpl.NATIVE).model
    assert native_errors(native) == []
    x = torch.randn(2, int(folded.attrs["num_channels"]), 5, 7, generator=torch.Generator().manual_seed(0)).numpy()
    np.testing.assert_allclose(_ort(native, x), _ort(model, x), rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_demo_network_binds_every_an_layer(demo_function_onnx: onnx.ModelProto) -> None:
    model = demo_function_onnx
    n_an = sum(n.op_type == spec.OP_NAME for n in model.graph.node)
    assert n_an == 3  # one AN per bottleneck of the demo's three stages
    plugin = prepare(model, AnImpl.PLUGIN)
    assert plugin.an_nodes == n_an and binding_errors(plugin.model) == []
    native = prepare(model, AnImpl.NATIVE).model
    assert native_errors(native) == []
    x = torch.randn(4, 1, 16, 16, generator=torch.Generator().manual_seed(1)).numpy()
    np.testing.assert_allclose(_ort(native, x), _ort(model, x), rtol=1e-4, atol=1e-5)
