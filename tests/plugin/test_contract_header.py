"""The plugin's generated contract header is what plugins/tools/generate_contract.py makes of an_deploy/spec.py."""

from __future__ import annotations

import dataclasses
import enum
import re
import subprocess
import sys
from types import ModuleType

import pytest

from an_deploy import spec
from tests.plugin import plugin_harness
from tests.scripts import load_script

GENERATOR = plugin_harness.SOURCE_DIR / "tools" / "generate_contract.py"
HEADER = plugin_harness.SOURCE_DIR / "attentive_norm" / "attentiveNormContract.h"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return load_script(GENERATOR)


def test_committed_header_is_generated_from_the_current_spec(generator: ModuleType) -> None:
    assert HEADER.read_text() == generator.render(), (
        "attentiveNormContract.h is out of date: run python plugins/tools/generate_contract.py")


def test_check_mode_exit_status() -> None:
    result = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("change", ["default", "order", "new_attribute", "plugin_version", "enum_member", "input"])
def test_a_spec_change_makes_the_committed_header_stale(generator: ModuleType, monkeypatch: pytest.MonkeyPatch,
                                                       change: str) -> None:
    attrs = list(spec.ATTRIBUTES)
    if change == "default":
        attrs[7] = dataclasses.replace(attrs[7], default=2e-3)
    elif change == "order":
        attrs[5], attrs[6] = attrs[6], attrs[5]
    elif change == "new_attribute":
        attrs.append(spec.Attribute("extra", spec.AttrType.INT, 0, "a new attribute"))
    elif change == "plugin_version":
        monkeypatch.setattr(spec, "PLUGIN_VERSION", "2")
    elif change == "enum_member":
        monkeypatch.setitem(generator.ENUMS, "activation",
                            enum.IntEnum("Activation", {"SIGMOID": 0, "HSIGMOID": 1, "SOFTMAX": 2, "TANH": 3}))
    elif change == "input":
        monkeypatch.setattr(spec, "INPUTS", spec.INPUTS[:-1])
        monkeypatch.setattr(spec, "PARAM_INPUTS", spec.PARAM_INPUTS[:-1])
    monkeypatch.setattr(spec, "ATTRIBUTES", tuple(attrs))
    monkeypatch.setattr(spec, "ATTRIBUTE_NAMES", tuple(a.name for a in attrs))
    assert generator.render() != HEADER.read_text()
    assert generator.main(["--check"]) == 1


def test_header_declares_the_spec_in_c(generator: ModuleType) -> None:
    """Read back from the text (not from the generator): the struct fields and the attribute table."""
    text = HEADER.read_text()
    struct = re.search(r"typedef struct AnAttentiveNormAttributes\s*\{(.*?)\}", text, re.S)
    assert struct is not None
    fields = re.findall(r"(int32_t|float) (\w+);", struct.group(1))
    assert fields == [("float" if a.type is spec.AttrType.FLOAT else "int32_t", a.name) for a in spec.ATTRIBUTES]
    table = re.search(r"kATTRIBUTES\{\{(.*?)\}\};", text, re.S)
    assert table is not None
    rows = re.findall(r'\{"(\w+)", (true|false), (true|false), ([-+.e\d]+)\}', table.group(1))
    assert [(n, f == "true", r == "true", float(d)) for n, f, r, d in rows] == [
        (a.name, a.type is spec.AttrType.FLOAT, a.default is None, float(a.default or 0)) for a in spec.ATTRIBUTES]
    assert f"kNB_INPUTS = {len(spec.INPUTS)};" in text
    assert f'kPLUGIN_NAME = "{spec.PLUGIN_NAME}";' in text
    assert generator.GENERATED_LINE in text.splitlines()[1]


def test_generator_refuses_a_non_contiguous_enum(generator: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(generator.ENUMS, "norm_type", enum.IntEnum("NormType", {"BATCH": 0, "GROUP": 2}))
    with pytest.raises(ValueError, match="0..n-1"):
        generator.render()
