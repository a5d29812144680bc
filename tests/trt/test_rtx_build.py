"""Real engine builds with TensorRT-RTX, whose builder needs no GPU (``pip install an-deploy[rtx]``).

The demo model (native and plugin), its function-form file parsed as is, AN-ResNet-50 with a dynamic batch;
parser errors as one line naming the node; the plugin fields read back out of the plan. Deserializing needs a
CUDA device and is checked only where there is one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from onnx import helper
from typer.testing import CliRunner

from an_deploy import spec
from an_deploy.cli.main import app
from an_deploy.trt import AnImpl
from an_deploy.trt.availability import Backend, TrtBackend, cuda_device_count, import_backend
from an_deploy.trt.network import BuildError, build_serialized
from an_deploy.trt.onnx_prep import prepare
from an_deploy.trt.profiles import resolve_profile
from tests.trt.plan_fields import plugin_field_sets

FOUND = import_backend(Backend.TENSORRT_RTX)
pytestmark = [pytest.mark.trt, pytest.mark.skipif(FOUND is None, reason="tensorrt_rtx not importable (.[rtx])")]
runner = CliRunner()


def _build_cli(onnx_path: Path, engine: Path, *extra: str) -> str:
    args = ["trt-build", str(onnx_path), "-o", str(engine), "--backend", "tensorrt-rtx", *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def rtx() -> TrtBackend:
    assert FOUND is not None
    return FOUND


def test_demo_native_engine_is_built_and_written_on_cpu(rtx: TrtBackend, demo_onnx_path: Path, tmp_path: Path) -> None:
    engine = tmp_path / "demo.engine"
    out = _build_cli(demo_onnx_path, engine, "--an-impl", "native", "--batch", "1:8:32")
    assert engine.stat().st_size > 100_000
    prepared = onnx.load(tmp_path / "demo.native.onnx")
    assert not prepared.functions and not [n for n in prepared.graph.node if n.op_type == spec.OP_NAME]
    assert f"TensorRT-RTX {rtx.version}" in out and "0 plugin layers" in out
    assert "--trt-max-shapes 'input:[32,1,16,16]'" in out
    if cuda_device_count() == 0:
        assert "not checked here (no CUDA device): that the engine deserializes" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.engine", "demo.native.onnx"]


def test_function_form_file_is_inlined_by_the_parser(rtx: TrtBackend, demo_function_onnx: onnx.ModelProto) -> None:
    """Given as is, the parser imports the model-local AttentiveNorm function (it wins over the plugin)."""
    assert any(f.name == spec.FUNCTION_NAME for f in demo_function_onnx.functions)
    profile = resolve_profile(demo_function_onnx, batch=(1, 2, 4))
    as_is = build_serialized(rtx, demo_function_onnx, profile=profile)
    native = build_serialized(rtx, prepare(demo_function_onnx, AnImpl.NATIVE).model, profile=profile)
    assert as_is.network_plugin_layers == 0
    assert as_is.network_layers >= native.network_layers > 3 * 10  # every AN body became standard layers
    assert len(as_is.engine) > 100_000


def test_parser_error_is_one_line_naming_the_node(
    rtx: TrtBackend, tmp_path: Path, demo_function_onnx: onnx.ModelProto
) -> None:
    model = prepare(demo_function_onnx, AnImpl.NATIVE).model
    first = model.graph.node[0]
    bad = helper.make_node("Unique", [first.output[0]], ["bad_out"], name="the_bad_node")  # no TensorRT importer
    model.graph.node.insert(1, bad)
    model.graph.output.append(helper.make_tensor_value_info("bad_out", onnx.TensorProto.FLOAT, ["n", "c", "h", "w"]))
    with pytest.raises(BuildError) as err:
        build_serialized(rtx, model, profile=resolve_profile(model))
    message = str(err.value)
    assert "\n" not in message and "node 1 (the_bad_node, Unique): unsupported node [UNSUPPORTED_NODE]" in message
    path = tmp_path / "bad.onnx"
    onnx.save(model, path)
    engine = tmp_path / "bad.engine"
    result = runner.invoke(app, ["trt-build", str(path), "-o", str(engine), "--backend", "tensorrt-rtx",
                                 "--an-impl", "native"])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "the_bad_node" in errors[0] and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.onnx"], "a failed build leaves nothing behind"


def test_fp16_is_refused_up_front_with_the_reason(demo_onnx_path: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["trt-build", str(demo_onnx_path), "-o", str(tmp_path / "m.engine"),
                                 "--backend", "tensorrt-rtx", "--an-impl", "native", "--fp16"])
    assert result.exit_code == 1
    assert "no FP16 builder flag" in result.stderr and "strongly typed" in result.stderr
    assert [line for line in result.stderr.splitlines() if not line.startswith("[an-deploy]")] == [
        result.stderr.splitlines()[-1]
    ] and "--backend tensorrt" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def plugin_plan(
    demo_onnx_path: Path, plugin_library: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, bytes]:
    """The demo's plugin engine built by the CLI: (stdout, plan bytes)."""
    engine = tmp_path_factory.mktemp("plugin") / "demo.engine"
    args = ("--an-impl", "plugin", "--batch", "1:8:32", "--plugin", str(plugin_library))
    return _build_cli(demo_onnx_path, engine, *args), engine.read_bytes()


def test_plugin_engine_builds_and_the_plan_carries_the_node_attributes(
    plugin_plan: tuple[str, bytes], demo_function_onnx: onnx.ModelProto
) -> None:
    out, plan = plugin_plan
    assert "3 AttentiveNorm nodes" in out and "3 plugin layers" in out
    expected = []
    for node in demo_function_onnx.graph.node:
        if node.op_type == spec.OP_NAME:
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            expected.append(spec.resolve_attributes({k: v for k, v in attrs.items() if k in spec.ATTRIBUTE_NAMES}))
    got = plugin_field_sets(plan)
    assert len(got) == len(expected) == 3
    key = lambda d: int(d["num_channels"])  # noqa: E731
    for g, e in zip(sorted(got, key=key), sorted(expected, key=key), strict=True):
        assert set(g) == set(spec.ATTRIBUTE_NAMES)
        assert g == pytest.approx(e, rel=1e-7)


def test_plan_fields_recreate_the_plugin_with_the_same_fields(plugin_plan: tuple[str, bytes]) -> None:
    """The plan's fields, given back to our creator as TensorRT does when it deserializes (host harness, no GPU),
    make a plugin that serializes the same values again."""
    from tests.plugin.plugin_harness import BUILD_DIR, attribute_fields, run_harness

    harness = BUILD_DIR / "attentive_norm_host_test"
    if not harness.is_file():
        pytest.skip(f"host test harness not built: {harness}")
    for fields in plugin_field_sets(plugin_plan[1]):
        out = run_harness(harness, BUILD_DIR / "libattentive_norm_plugin.so", ["roundtrip"], attribute_fields(fields))
        assert out["ok"] and out["log"] == [], out
        restored = out["stages"][1]
        assert {f["name"]: f["value"] for f in restored["fields"]} == pytest.approx(fields, rel=1e-7)


def test_a_dying_child_is_one_error_line(
    monkeypatch: pytest.MonkeyPatch, demo_onnx_path: Path, plugin_library: Path, tmp_path: Path
) -> None:
    """Without the loader fix the RTX parser ends the process in std::terminate: contained in the child."""
    import an_deploy.trt.isolated as isolated

    monkeypatch.setattr(isolated, "provide_core", lambda folder, libs: None)
    monkeypatch.setattr(isolated, "parser_finds_core", lambda: False)
    result = runner.invoke(app, ["trt-build", str(demo_onnx_path), "-o", str(tmp_path / "m.engine"),
                                 "--backend", "tensorrt-rtx", "--plugin", str(plugin_library)])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "signal SIGABRT" in errors[0] and "--an-impl native" in errors[0]
    assert list(tmp_path.iterdir()) == []


def test_with_the_link_on_the_loader_path_the_plugin_builds_in_process(
    demo_onnx_path: Path, plugin_library: Path, tmp_path: Path
) -> None:
    """What a TensorRT-RTX SDK install (which has the development link) gets: no child process is needed."""
    import an_deploy.trt.isolated as isolated

    libs = isolated.rtx_libs_dir()
    assert libs is not None
    (tmp_path / "lib").mkdir()
    isolated.provide_core(tmp_path / "lib", libs)
    engine = tmp_path / "demo.engine"
    script = (
        "import sys\n"
        "from an_deploy.trt.isolated import parser_finds_core\n"
        "assert parser_finds_core()\n"
        "from an_deploy.cli.main import app\n"
        "app(sys.argv[1:])\n"
    )
    args = [str(demo_onnx_path), "-o", str(engine), "--backend", "tensorrt-rtx", "--plugin", str(plugin_library)]
    env = {**os.environ, "LD_LIBRARY_PATH": os.pathsep.join(filter(None, [str(tmp_path / "lib"),
                                                                          os.environ.get("LD_LIBRARY_PATH")]))}
    done = subprocess.run([sys.executable, "-c", script, "trt-build", *args], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "3 plugin layers" in done.stdout and len(plugin_field_sets(engine.read_bytes())) == 3


@pytest.mark.slow
def test_an_resnet50_native_engine_with_dynamic_batch(tmp_path: Path, demo_onnx_path: Path) -> None:
    from an_deploy.export.torch_export import export_model
    from an_deploy.models.randomize import realistic_
    from an_deploy.models.registry import an_resnet50

    path = tmp_path / "r50.onnx"
    onnx.save(export_model(realistic_(an_resnet50(), seed=0), (1, 3, 224, 224), form="function").model, path)
    engine = tmp_path / "r50.engine"
    out = _build_cli(path, engine, "--an-impl", "native", "--batch", "1:8:32")
    assert "16 AttentiveNorm nodes inlined" in out  # bn2 of each of the 16 bottlenecks
    demo_engine = tmp_path / "demo.engine"
    _build_cli(demo_onnx_path, demo_engine, "--an-impl", "native", "--batch", "1:8:32")
    # fp32 weights of AN-ResNet-50 (25.76 M parameters) are about 100 MB: the plan holds them
    assert engine.stat().st_size > 25_000_000 * 4 * 0.9
    assert engine.stat().st_size > 20 * demo_engine.stat().st_size


@pytest.mark.gpu
@pytest.mark.skipif(cuda_device_count() == 0, reason="no CUDA device: deserialization needs one")
def test_engine_deserializes_where_there_is_a_gpu(demo_onnx_path: Path, tmp_path: Path) -> None:
    out = _build_cli(demo_onnx_path, tmp_path / "demo.engine", "--an-impl", "native")
    assert "engine      " in out and "not checked here" not in out
