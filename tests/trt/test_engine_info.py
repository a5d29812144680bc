"""The engine-inspector summary parser, on JSON written in the inspector's documented layout.

The fixture below is typed by hand in the shape of ``trtexec --exportLayerInfo`` / ``IEngineInspector`` JSON
output (it is not a TensorRT result); the @trt tests check the parser on real engines.
"""

from __future__ import annotations

import json

import pytest

from an_deploy.trt.engine_info import parse_layer_information, precision_of

LAYOUT = {
    "Layers": [
        {
            "Name": "conv1",
            "LayerType": "CaskConvolution",
            "Outputs": [{"Name": "a", "Format/Datatype": "Channel major FP16 format where channel % 8 == 0"}],
        },
        {
            "Name": "layer1.0.bn2.AttentiveNorm",
            "LayerType": "PluginV3",
            "Outputs": [{"Name": "b", "Format/Datatype": "Row major linear FP32"}],
        },
        {"Name": "fc", "LayerType": "gemm", "Outputs": [{"Name": "c", "Format/Datatype": "Row major linear FP32"}]},
    ],
    "Bindings": ["input", "output"],
}


def test_counts_layers_plugins_and_precisions() -> None:
    info = parse_layer_information(json.dumps(LAYOUT))
    assert (info.layers, info.plugin_layers) == (3, 1)
    assert info.plugin_layer_names == ["layer1.0.bn2.AttentiveNorm"]
    assert info.output_precisions == {"FP16": 1, "FP32": 2}


def test_names_only_verbosity_counts_layers_as_unknown() -> None:
    info = parse_layer_information(json.dumps({"Layers": ["conv1", "fc"], "Bindings": []}))
    assert (info.layers, info.plugin_layers, info.layer_types["unknown"]) == (2, 0, 2)


def test_rejects_text_without_layers() -> None:
    with pytest.raises(ValueError):
        parse_layer_information(json.dumps({"Bindings": []}))


@pytest.mark.parametrize(("text", "want"), [("Row major linear FP32", "FP32"), ("Half", "FP16"), ("?", "other")])
def test_precision_tokens(text: str, want: str) -> None:
    assert precision_of(text) == want
