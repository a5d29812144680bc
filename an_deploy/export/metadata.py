"""Provenance stamped into every exported ONNX file (``metadata_props``), so a file found later says which
checkpoint (by sha256), architecture, AttentiveNorm options and an_deploy version produced it.

Keys (all strings; ``an_layers`` is JSON)::

    an_deploy.version        an_deploy.source.file    an_deploy.source.sha256
    an_deploy.arch           an_deploy.form           an_deploy.opset
    an_deploy.an_layers      [{"name", "type", "channels", "k", "eps", "attention_mode"?, "groups"?,
                               "use_rsd"?, "use_maxpool"?}, ...]
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import onnx
from torch import nn

from an_deploy.discover import find_an_layers
from an_deploy.version import __version__

PREFIX = "an_deploy."


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def an_layer_options(model: nn.Module) -> list[dict[str, Any]]:
    """Each AttentiveNorm layer's options: qualified name, class, channels, K, eps and attention settings."""
    layers = []
    for name, m in find_an_layers(model):
        k, c = m.weight_.shape
        entry: dict[str, Any] = {"name": name, "type": type(m).__name__, "channels": int(c), "k": int(k),
                                 "eps": float(m.eps)}
        groups = getattr(m, "num_groups", None)
        if groups is not None:
            entry["groups"] = int(groups)
        branch = getattr(m, "attention_weights", None) or getattr(m, "attn_weights", None)
        for attr in ("attention_mode", "use_rsd", "use_maxpool"):
            if branch is not None and hasattr(branch, attr):
                entry[attr] = getattr(branch, attr)
        layers.append(entry)
    return layers


def provenance(checkpoint: Path | None, arch: str, model: nn.Module, form: str, opset: int) -> dict[str, str]:
    """The metadata entries for an export of ``checkpoint`` (``None``: a model given directly, no source file)."""
    source = {} if checkpoint is None else {f"{PREFIX}source.file": Path(checkpoint).name,
                                            f"{PREFIX}source.sha256": file_sha256(Path(checkpoint))}
    return {
        f"{PREFIX}version": __version__,
        **source,
        f"{PREFIX}arch": arch,
        f"{PREFIX}form": form,
        f"{PREFIX}opset": str(opset),
        f"{PREFIX}an_layers": json.dumps(an_layer_options(model), separators=(",", ":")),
    }


def stamp(model: onnx.ModelProto, entries: dict[str, str]) -> None:
    """Set ``entries`` in ``model.metadata_props`` (replacing entries with the same keys, keeping the others)."""
    kept = [(p.key, p.value) for p in model.metadata_props if p.key not in entries]
    del model.metadata_props[:]
    for key, value in [*kept, *entries.items()]:
        model.metadata_props.add(key=key, value=value)
