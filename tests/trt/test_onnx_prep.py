"""Graph binding: after stripping, every AN node is exactly what the plugin creator expects (spec.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import AttributeProto, TensorProto, helper

from an_deploy import spec
from an_deploy.onnx_file import OnnxFileError, load_onnx
from an_deploy.trt import AnImpl
from an_deploy.trt.onnx_prep import OnnxPrepError, binding_errors, native_errors, prepare
from tests.trt.onnx_models import ATTRS, function_form_model, hand_stripped


def _an_node(model: onnx.ModelProto) -> onnx.NodeProto:
    (node,) = [n for n in model.graph.node if n.op_type == spec.OP_NAME]
    return node


def _set_attr(model: onnx.ModelProto, attr: onnx.AttributeProto) -> onnx.ModelProto:
    node = _an_node(model)
    kept = [a for a in node.attribute if a.name != attr.name]
    del node.attribute[:]
    node.attribute.extend([*kept, attr])
    return model


def test_plugin_form_binds_exactly_as_the_creator_expects() -> None:
    prepared = prepare(function_form_model(), AnImpl.PLUGIN)
    model = prepared.model
    assert prepared.an_nodes == 1
    assert binding_errors(model) == []
    assert not any(f.name == spec.FUNCTION_NAME for f in model.functions)
    node = _an_node(model)
    assert (node.domain, node.op_type) == (spec.DOMAIN, spec.PLUGIN_NAME)
    attrs = {a.name: a for a in node.attribute}
    fields = {a.name: a for a in attrs.values() if a.name not in ("plugin_version", "plugin_namespace")}
    assert list(fields) == list(spec.ATTRIBUTE_NAMES)  # the creator's getFieldNames, in contract order
    for a in spec.ATTRIBUTES:
        want = AttributeProto.INT if a.type is spec.AttrType.INT else AttributeProto.FLOAT
        assert fields[a.name].type == want, a.name
    # what TensorRT's fallback plugin importer reads (plugin_version, plugin_namespace)
    assert attrs["plugin_version"].type == AttributeProto.STRING
    assert attrs["plugin_version"].s.decode() == spec.PLUGIN_VERSION
    assert attrs["plugin_namespace"].type == AttributeProto.STRING
    assert attrs["plugin_namespace"].s.decode() == spec.PLUGIN_NAMESPACE
    assert len(node.input) == len(spec.INPUTS) and all(node.input)
    inits = {t.name: t for t in model.graph.initializer}
    for tensor, name in zip(spec.PARAM_INPUTS, node.input[1:], strict=True):
        assert inits[name].data_type == TensorProto.FLOAT, tensor.name
        assert tuple(inits[name].dims) == spec.input_shapes(ATTRS)[tensor.name]
    assert spec.DOMAIN in {o.domain for o in model.opset_import}
    onnx.checker.check_model(model, full_check=False)


def test_exporter_strip_matches_the_hand_made_plugin_form() -> None:
    model = function_form_model()
    stripped = prepare(model, AnImpl.PLUGIN).model
    by_hand = hand_stripped(model)
    assert {(a.name, a.type) for a in _an_node(stripped).attribute} == {
        (a.name, a.type) for a in _an_node(by_hand).attribute
    }
    assert len(stripped.functions) == len(by_hand.functions) == 0


def test_prepare_does_not_modify_its_input() -> None:
    model = function_form_model()
    before = model.SerializeToString()
    prepare(model, AnImpl.PLUGIN)
    prepare(model, AnImpl.NATIVE)
    assert model.SerializeToString() == before


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda m: m, "still present"),  # the function form itself: the parser would inline it
        (lambda m: _set_attr(hand_stripped(m), helper.make_attribute("num_affine", 2.0)), "num_affine is FLOAT"),
        (lambda m: _set_attr(hand_stripped(m), helper.make_attribute("epsilon", 1)), "epsilon is INT"),
        (lambda m: _set_attr(hand_stripped(m), helper.make_attribute("plugin_version", "2")), "plugin_version"),
        (lambda m: _set_attr(hand_stripped(m), helper.make_attribute("extra", 1)), "unexpected ['extra']"),
        (lambda m: _set_attr(hand_stripped(m), helper.make_attribute("activation", 7)), "activation must be"),
        (lambda m: _drop_attr(hand_stripped(m), "eps_var"), "missing ['eps_var']"),
        (lambda m: _drop_input(hand_stripped(m)), "needs 11 non-empty inputs"),
        (lambda m: _reshape_param(hand_stripped(m)), "has shape"),
        (lambda m: _fp16_param(hand_stripped(m)), "must be float32"),
        (lambda m: _wrong_domain(hand_stripped(m)), "is not an_deploy.AttentiveNorm"),
        (lambda m: _dangling_function(hand_stripped(m)), "called by no node"),
    ],
)
def test_binding_errors_find_each_defect(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    errors = binding_errors(mutate(function_form_model()))
    assert any(message in e for e in errors), errors


def _drop_attr(model: onnx.ModelProto, name: str) -> onnx.ModelProto:
    node = _an_node(model)
    kept = [a for a in node.attribute if a.name != name]
    del node.attribute[:]
    node.attribute.extend(kept)
    return model


def _drop_input(model: onnx.ModelProto) -> onnx.ModelProto:
    node = _an_node(model)
    node.input[5] = ""
    return model


def _reshape_param(model: onnx.ModelProto) -> onnx.ModelProto:
    init = next(t for t in model.graph.initializer if t.name.endswith("mix_weight"))
    init.dims[:] = [init.dims[1], init.dims[0]]
    return model


def _fp16_param(model: onnx.ModelProto) -> onnx.ModelProto:
    init = next(t for t in model.graph.initializer if t.name.endswith("norm_scale"))
    half = onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(init).astype(np.float16), init.name)
    init.CopyFrom(half)
    return model


def _wrong_domain(model: onnx.ModelProto) -> onnx.ModelProto:
    _an_node(model).domain = "com.example"
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    return model


def _dangling_function(model: onnx.ModelProto) -> onnx.ModelProto:
    unused = helper.make_function(
        "com.unused",
        "Nothing",
        ["a"],
        ["b"],
        [helper.make_node("Identity", ["a"], ["b"])],
        [helper.make_opsetid("", 17)],
    )
    model.functions.append(unused)
    return model


def test_native_form_is_standard_ops_and_ort_equal() -> None:
    model = function_form_model()
    native = prepare(model, AnImpl.NATIVE).model
    assert native_errors(native) == []
    assert all(n.domain in ("", "ai.onnx") for n in native.graph.node)
    assert spec.DOMAIN not in {o.domain for o in native.opset_import}
    x = np.random.default_rng(1).standard_normal((2, 4, 3, 3)).astype(np.float32)
    outs = []
    for m in (model, native):
        sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
        outs.append(sess.run(None, {"x": x})[0])
    np.testing.assert_array_equal(outs[0], outs[1])


def test_native_of_a_stripped_model_is_a_user_error() -> None:
    with pytest.raises(OnnxPrepError, match="native"):
        prepare(hand_stripped(function_form_model()), AnImpl.NATIVE)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "not found"), (b"", "no nodes"), (b"\x08\x07garbage\xff\xff\xff", "not a readable ONNX model")],
)
def test_load_onnx_rejects_bad_files(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "model.onnx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(OnnxFileError, match=message):
        load_onnx(path)


def test_load_onnx_rejects_a_folder_and_a_checker_failure(tmp_path: Path) -> None:
    with pytest.raises(OnnxFileError, match="not a file"):
        load_onnx(tmp_path)
    model = function_form_model()
    del model.opset_import[:]
    path = tmp_path / "bad.onnx"
    onnx.save(model, path)
    with pytest.raises(OnnxFileError, match="onnx.checker"):
        load_onnx(path)
