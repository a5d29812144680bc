"""Provenance in the ONNX metadata: source checkpoint sha256, architecture, AN options, version."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import onnx

import an_deploy
from an_deploy.checkpoint import load_model
from an_deploy.export.metadata import PREFIX, provenance, stamp
from an_deploy.models.digits import DEMO_CHECKPOINT


def test_provenance_names_the_checkpoint_arch_and_every_an_layer() -> None:
    loaded = load_model(DEMO_CHECKPOINT)
    entries = provenance(DEMO_CHECKPOINT, loaded.arch, loaded.model, "function", 18)
    assert entries["an_deploy.source.sha256"] == hashlib.sha256(Path(DEMO_CHECKPOINT).read_bytes()).hexdigest()
    assert entries["an_deploy.source.file"] == Path(DEMO_CHECKPOINT).name
    assert (entries["an_deploy.arch"], entries["an_deploy.version"]) == ("an_resnet_demo", an_deploy.__version__)
    layers = json.loads(entries["an_deploy.an_layers"])
    assert [(la["k"], la["attention_mode"]) for la in layers] == [(4, 2), (4, 2), (8, 2)]
    assert all(la["type"] == "MixtureBatchNorm2d" and la["eps"] == 1e-5 for la in layers)


def test_stamp_replaces_our_keys_and_keeps_others() -> None:
    model = onnx.ModelProto()
    model.metadata_props.add(key="author", value="someone")
    model.metadata_props.add(key="an_deploy.arch", value="old")
    stamp(model, {"an_deploy.arch": "new", "an_deploy.form": "function"})
    assert {p.key: p.value for p in model.metadata_props} == {
        "author": "someone", "an_deploy.arch": "new", "an_deploy.form": "function"}
    assert {p.key: p.value for p in model.metadata_props if p.key.startswith(PREFIX)} == {
        "an_deploy.arch": "new", "an_deploy.form": "function"}
