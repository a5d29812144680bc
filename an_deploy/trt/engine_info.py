"""What a built engine contains, read from TensorRT's engine inspector (layers, plugin layers, precisions).

The inspector's JSON (``ProfilingVerbosity.DETAILED``, the same as ``trtexec --exportLayerInfo``) is
``{"Layers": [{"Name", "LayerType", "Outputs": [{"Format/Datatype": "Row major linear FP16 format", ...}],
...}], "Bindings": [...]}``; with less verbosity a layer is only its name, so types count as unknown.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

_PRECISIONS = ("FP32", "FP16", "BF16", "FP8", "INT8", "INT32", "INT64", "BOOL", "UINT8")
_ALIASES = {"FLOAT": "FP32", "HALF": "FP16"}


@dataclass
class EngineLayers:
    layers: int = 0
    plugin_layers: int = 0
    plugin_layer_names: list[str] = field(default_factory=list)
    output_precisions: Counter[str] = field(default_factory=Counter)  # per layer output tensor
    layer_types: Counter[str] = field(default_factory=Counter)


def precision_of(format_datatype: str) -> str:
    """``"Row major linear FP16 format"`` -> ``"FP16"``; unknown spellings -> ``"other"``."""
    for token in re.findall(r"[A-Za-z]+[0-9]*", format_datatype.upper()):
        if token in _PRECISIONS:
            return token
        if token in _ALIASES:
            return _ALIASES[token]
    return "other"


def parse_layer_information(text: str) -> EngineLayers:
    """Summarise the inspector's JSON engine information.

    Raises:
        ValueError: not JSON, or no ``Layers`` list.
    """
    info = json.loads(text)
    layers = info.get("Layers") if isinstance(info, dict) else None
    if not isinstance(layers, list):
        raise ValueError("engine information has no 'Layers' list")
    out = EngineLayers(layers=len(layers))
    for layer in layers:
        if not isinstance(layer, dict):
            out.layer_types["unknown"] += 1
            continue
        kind = str(layer.get("LayerType", "unknown"))
        out.layer_types[kind] += 1
        if "plugin" in kind.lower():
            out.plugin_layers += 1
            out.plugin_layer_names.append(str(layer.get("Name", "")))
        for tensor in layer.get("Outputs", []) or []:
            if isinstance(tensor, dict) and "Format/Datatype" in tensor:
                out.output_precisions[precision_of(str(tensor["Format/Datatype"]))] += 1
    return out
