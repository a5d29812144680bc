"""``an-deploy trt-build`` without TensorRT: help, one-line user errors, exit codes; the plan and command lines."""

from __future__ import annotations

import shlex
from pathlib import Path

import onnx
import pytest
from typer.testing import CliRunner

from an_deploy.cli.main import app
from an_deploy.trt import AnImpl, availability
from an_deploy.trt.availability import INSTALL_HINT, Backend
from an_deploy.trt.builder import BuildOptions, plan_build
from tests.trt.onnx_models import function_form_model

runner = CliRunner()


@pytest.fixture()
def no_tensorrt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither TensorRT nor TensorRT-RTX importable, whatever is installed here."""
    monkeypatch.setattr(availability, "_import", lambda module_name: None)


@pytest.fixture()
def onnx_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.onnx"
    onnx.save(function_form_model(), path)
    return path


def _one_line_error(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if not line.startswith("[an-deploy]")]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output + result.stderr
    return lines[0]


def test_help_reads_at_80_columns_with_conventional_metavars() -> None:
    result = runner.invoke(app, ["trt-build", "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0
    text = result.output
    for option in ("--an-impl", "--backend", "--plugin", "--fp16", "--batch", "--min-shape", "--timing-cache",
                   "--workspace", "--save-onnx"):
        assert option in text
    assert "Usage: an-deploy trt-build [OPTIONS] MODEL.onnx" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    for bad in ("{", "<bool>", "<path>", "<str>", "<int>", "│"):  # no braces, type tags or box drawing
        assert bad not in text, bad
    metavars = ("-o, --output FILE", "--batch MIN:OPT:MAX", "--backend auto|tensorrt|tensorrt-rtx", "--workspace MIB")
    for metavar in metavars:
        assert metavar in text


@pytest.mark.parametrize("impl", ["plugin", "native"])
def test_missing_tensorrt_is_one_line_after_the_command_line(
    no_tensorrt: None, onnx_file: Path, tmp_path: Path, impl: str
) -> None:
    result = runner.invoke(app, ["trt-build", str(onnx_file), "-o", str(tmp_path / "m.engine"), "--an-impl", impl])
    line = _one_line_error(result)
    assert line == f"error: {INSTALL_HINT}"
    assert "pip install an-deploy[rtx]" in line and "pip install an-deploy[trt]" in line
    (command,) = [c for c in result.stdout.splitlines() if c.startswith("command ")]
    assert f"--onnx={tmp_path / f'm.{impl}.onnx'}" in command and f"--saveEngine={tmp_path / 'm.engine'}" in command
    assert ("--dynamicPlugins=" in command) == (impl == "plugin")
    assert "--save-onnx" in result.stderr  # says how to get the file the command reads
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_missing_tensorrt_still_writes_save_onnx(no_tensorrt: None, onnx_file: Path, tmp_path: Path) -> None:
    saved = tmp_path / "prepared.onnx"
    args = ["trt-build", str(onnx_file), "-o", str(tmp_path / "m.engine"), "--an-impl", "native",
            "--save-onnx", str(saved), "--backend", "tensorrt-rtx", "--batch", "1:2:4"]
    result = runner.invoke(app, args)
    line = _one_line_error(result)
    assert "--backend tensorrt-rtx" in line and "pip install an-deploy[rtx]" in line
    assert not onnx.load(saved).functions and not (tmp_path / "m.engine").exists()
    assert f"POLYGRAPHY_USE_TENSORRT_RTX=1 polygraphy convert {saved}" in result.stdout
    assert "--trt-max-shapes 'x:[4,4,3,3]'" in result.stdout


def test_backend_tensorrt_when_only_rtx_is_installed_says_which_package(
    monkeypatch: pytest.MonkeyPatch, onnx_file: Path, tmp_path: Path
) -> None:
    real = availability._import
    monkeypatch.setattr(availability, "_import", lambda name: None if name == "tensorrt" else real(name))
    args = ["trt-build", str(onnx_file), "-o", str(tmp_path / "m.engine"), "--backend", "tensorrt", "--an-impl",
            "native"]
    line = _one_line_error(runner.invoke(app, args))
    assert line == (
        "error: --backend tensorrt: the tensorrt Python package is not importable; install it with "
        "`pip install an-deploy[trt]`"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


@pytest.mark.parametrize(
    ("engine", "message"),
    [("{tmp}", "is a folder"), ("{tmp}/missing/dir/m.engine", "does not exist")],
)
def test_bad_engine_paths(onnx_file: Path, tmp_path: Path, engine: str, message: str) -> None:
    result = runner.invoke(app, ["trt-build", str(onnx_file), "-o", engine.format(tmp=tmp_path)])
    assert message in _one_line_error(result)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"\x00\x01 definitely not protobuf \xff", "not a readable ONNX model"), (None, "not found")],
)
def test_corrupt_or_missing_onnx(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "broken.onnx"
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(app, ["trt-build", str(path), "-o", str(tmp_path / "m.engine")])
    assert message in _one_line_error(result)


def test_bad_shape_options(onnx_file: Path, tmp_path: Path) -> None:
    engine = str(tmp_path / "m.engine")
    result = runner.invoke(app, ["trt-build", str(onnx_file), "-o", engine, "--batch", "8:1:4"])
    assert "MIN <= OPT <= MAX" in _one_line_error(result)
    result = runner.invoke(app, ["trt-build", str(onnx_file), "-o", engine, "--min-shape", "1x4x3x3"])
    assert "all three" in _one_line_error(result)


def test_unbound_model_is_rejected_before_tensorrt(no_tensorrt: None, tmp_path: Path) -> None:
    model = function_form_model()
    node = model.graph.node[0]
    kept = [a for a in node.attribute if a.name != "num_affine"]
    del node.attribute[:]
    node.attribute.extend(kept)
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    result = runner.invoke(app, ["trt-build", str(path), "-o", str(tmp_path / "m.engine")])
    assert "num_affine" in _one_line_error(result)


def test_plan_and_command_lines_reproduce_the_build(onnx_file: Path, tmp_path: Path) -> None:
    options = BuildOptions(
        onnx_path=onnx_file,
        engine_path=tmp_path / "out dir" / "m.engine",
        impl=AnImpl.PLUGIN,
        fp16=True,
        batch=(1, 4, 8),
        timing_cache=tmp_path / "cache.bin",
        workspace_mib=512,
        version_compatible=True,
    )
    (tmp_path / "out dir").mkdir()
    plan = plan_build(options)
    assert plan.prepared_onnx == tmp_path / "out dir" / "m.plugin.onnx"
    assert plan.prepared.an_nodes == 1 and not plan.prepared.model.functions
    plugin = tmp_path / "libattentive_norm_plugin.so"
    args = shlex.split(plan.command(Backend.TENSORRT, plugin))
    assert args[0] == "trtexec"
    assert f"--onnx={plan.prepared_onnx}" in args and f"--saveEngine={options.engine_path}" in args
    for expected in (
        "--fp16",
        "--minShapes=x:1x4x3x3",
        "--optShapes=x:4x4x3x3",
        "--maxShapes=x:8x4x3x3",
        "--memPoolSize=workspace:512M",
        f"--timingCacheFile={tmp_path / 'cache.bin'}",
        f"--dynamicPlugins={plugin}",
        "--versionCompatible",
        f"--setPluginsToSerialize={plugin}",
    ):
        assert expected in args
    plain = plan_build(BuildOptions(onnx_path=onnx_file, engine_path=tmp_path / "p.engine", impl=AnImpl.PLUGIN))
    args = shlex.split(plan.command(Backend.AUTO, plugin))
    assert args[0] == "trtexec", "auto without any TensorRT prints the trtexec line"
    args = shlex.split(plain.command(Backend.TENSORRT, plugin))
    assert f"--dynamicPlugins={plugin}" in args
    assert not any(a.startswith(("--setPluginsToSerialize", "--versionCompatible")) for a in args), \
        "plugins are serialized only into version-compatible engines"
    native = plan_build(BuildOptions(onnx_path=onnx_file, engine_path=tmp_path / "n.engine", impl=AnImpl.NATIVE))
    args = shlex.split(native.command(Backend.TENSORRT, None))
    assert not any(a.startswith("--dynamicPlugins") or a == "--fp16" for a in args)
    assert not native.prepared.model.functions
    rtx = shlex.split(plan.command(Backend.TENSORRT_RTX, plugin))
    assert rtx[:4] == ["POLYGRAPHY_USE_TENSORRT_RTX=1", "polygraphy", "convert", str(plan.prepared_onnx)]
    assert rtx[rtx.index("-o") + 1] == str(options.engine_path) and rtx[rtx.index("--plugins") + 1] == str(plugin)
    assert rtx[rtx.index("--trt-opt-shapes") + 1] == "x:[4,4,3,3]" and "--pool-limit" in rtx
    assert "--fp16" not in rtx, "TensorRT-RTX has no FP16 flag"


def test_save_onnx_cannot_be_the_engine(onnx_file: Path, tmp_path: Path) -> None:
    engine = tmp_path / "m.engine"
    result = runner.invoke(app, ["trt-build", str(onnx_file), "-o", str(engine), "--save-onnx", str(engine)])
    assert "same file" in _one_line_error(result)
