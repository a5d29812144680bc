"""Creator of the AttentiveNorm plugin against the contract in an_deploy/spec.py (host only)."""

from __future__ import annotations

import random
import struct

import pytest

from an_deploy import spec
from tests.plugin.plugin_harness import (
    BASE_ATTRS,
    FIELD_TYPE,
    K_CHAR,
    K_FLOAT32,
    K_FLOAT64,
    K_INT32,
    K_INT64,
    Field,
    attribute_fields,
    run_harness,
)

pytestmark = pytest.mark.plugin


def f32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def expected_fields(attrs: dict[str, int | float]) -> list[tuple[str, int, int | float]]:
    resolved = spec.resolve_attributes(attrs)
    return [(a.name, FIELD_TYPE[a.type], resolved[a.name] if a.type is spec.AttrType.INT else f32(resolved[a.name]))
            for a in spec.ATTRIBUTES]


def serialized(plugin: dict) -> list[tuple[str, int, int | float]]:
    assert all(f["length"] == 1 and not f["data_null"] for f in plugin["fields"])
    return [(f["name"], f["type"], f32(f["value"]) if f["type"] == K_FLOAT32 else f["value"]) for f in plugin["fields"]]


def test_creator_identity_and_fields_match_spec(plugin_build) -> None:
    info = run_harness(plugin_build.host_test, plugin_build.plugin, ["info"])
    assert info["nb_creators"] == 1
    (creator,) = info["creators"]
    assert creator["interface"] == {"kind": "PLUGIN CREATOR_V3ONE", "major": 1, "minor": 0}
    assert (creator["name"], creator["version"], creator["namespace"]) == (
        spec.PLUGIN_NAME, spec.PLUGIN_VERSION, spec.PLUGIN_NAMESPACE)
    got = [(f["name"], f["type"], f["length"]) for f in creator["fields"]]
    assert got == [(a.name, FIELD_TYPE[a.type], 1) for a in spec.ATTRIBUTES]


@pytest.mark.parametrize("phase", ["build", "runtime"])
def test_create_with_required_fields_only_takes_spec_defaults(plugin_build, phase: str) -> None:
    out = run_harness(plugin_build.host_test, plugin_build.plugin, ["create", phase], attribute_fields(BASE_ATTRS))
    assert out["ok"], out["log"]
    plugin = out["plugin"]
    assert (plugin["name"], plugin["version"], plugin["namespace"]) == ("AttentiveNorm", "1", "")
    assert plugin["nb_outputs"] == len(spec.OUTPUTS)
    assert plugin["core_interface"]["kind"] == "PLUGIN_V3ONE_CORE"
    assert plugin["build_interface"]["kind"] == "PLUGIN_V3ONE_BUILD"
    assert plugin["runtime_interface"]["kind"] == "PLUGIN_V3ONE_RUNTIME"
    assert serialized(plugin) == expected_fields(BASE_ATTRS)


GOOD_VARIANTS = [
    {"norm_type": 1, "num_groups": 4, "epsilon": 1e-6},
    {"attn_input": 2, "eps_var": 0.5, "hidden_activation": 1},
    {"attn_norm_groups": 2, "attn_norm_eps": 1e-3, "activation": 2},
    {"attn_input": 1, "activation": 0, "num_groups": 3},  # num_groups need not divide C for BATCH
]


@pytest.mark.parametrize("extra", GOOD_VARIANTS, ids=lambda e: ",".join(e))
def test_create_with_every_field(plugin_build, extra: dict[str, int | float]) -> None:
    attrs = {**BASE_ATTRS, **extra}
    fields = attribute_fields(attrs)
    random.Random(len(extra)).shuffle(fields)  # order of fields does not matter
    out = run_harness(plugin_build.host_test, plugin_build.plugin, ["create"], fields)
    assert out["ok"], out["log"]
    assert serialized(out["plugin"]) == expected_fields(attrs)


def _replace(name: str, field: Field) -> list[Field]:
    return [field if f.name == name else f for f in attribute_fields(BASE_ATTRS)]


def _with(**attrs: int | float) -> list[Field]:
    return attribute_fields({**BASE_ATTRS, **attrs})


# (case id, fields, a word the logged reason must contain)
BAD_CASES: list[tuple[str, list[Field], str]] = [
    ("missing_num_channels", [f for f in _with() if f.name != "num_channels"], "num_channels"),
    ("missing_num_affine", [f for f in _with() if f.name != "num_affine"], "num_affine"),
    ("missing_attn_hidden", [f for f in _with() if f.name != "attn_hidden"], "attn_hidden"),
    ("empty_collection", [], "missing required"),
    ("num_channels_as_float", _replace("num_channels", Field("num_channels", K_FLOAT32, 1, (8.0,))), "kINT32"),
    ("num_affine_as_int64", _replace("num_affine", Field("num_affine", K_INT64, 1, (4,))), "kINT32"),
    ("epsilon_as_float64", _with(epsilon=1e-5)[:-1] + [Field("epsilon", K_FLOAT64, 1, (1e-5,))], "kFLOAT32"),
    ("eps_var_as_int", _with() + [Field("eps_var", K_INT32, 1, (1,))], "kFLOAT32"),
    ("norm_type_as_char", _with() + [Field("norm_type", K_CHAR, 1, (1,))], "kINT32"),
    ("length_0", _replace("num_channels", Field("num_channels", K_INT32, 0, ())), "length 1"),
    ("length_2", _replace("num_channels", Field("num_channels", K_INT32, 2, (8, 8))), "length 1"),
    ("float_length_2", _with() + [Field("epsilon", K_FLOAT32, 2, (1e-5, 1e-5))], "length 1"),
    ("null_data", _replace("num_affine", Field("num_affine", K_INT32, 1, (), null_data=True)), "no data"),
    ("null_name", _with() + [Field(None, K_INT32, 1, (1,))], "no name"),
    ("unknown_field", _with() + [Field("num_channel", K_INT32, 1, (8,))], "unknown field"),
    ("duplicate_field", _with() + [Field("num_channels", K_INT32, 1, (8,))], "duplicate"),
    ("K_0", _with(num_affine=0), "num_affine"),
    ("C_0", _with(num_channels=0), "num_channels"),
    ("H1_negative", _with(attn_hidden=-1), "attn_hidden"),
    ("num_groups_0", _with(num_groups=0), "num_groups"),
    ("groups_not_dividing_C", _with(norm_type=1, num_groups=3), "does not divide"),
    ("norm_type_2", _with(norm_type=2), "norm_type"),
    ("attn_input_3", _with(attn_input=3), "attn_input"),
    ("attn_input_negative", _with(attn_input=-1), "attn_input"),
    ("hidden_activation_2", _with(hidden_activation=2), "hidden_activation"),
    ("activation_3", _with(activation=3), "activation"),
    ("epsilon_0", _with(epsilon=0.0), "epsilon"),
    ("eps_var_negative", _with(eps_var=-1e-3), "eps_var"),
    ("attn_norm_eps_nan", _with(attn_norm_eps=float("nan")), "attn_norm_eps"),
    ("attn_norm_groups_not_dividing_K", _with(attn_norm_groups=3), "attn_norm_groups"),
    ("attn_norm_groups_negative", _with(attn_norm_groups=-1), "attn_norm_groups"),
]


@pytest.mark.parametrize(("fields", "reason"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
@pytest.mark.parametrize("phase", ["build", "runtime"])
def test_bad_fields_are_rejected_with_a_logged_reason(plugin_build, fields: list[Field], reason: str,
                                                       phase: str) -> None:
    out = run_harness(plugin_build.host_test, plugin_build.plugin, ["create", phase], fields)
    assert not out["ok"]
    assert out["plugin"] is None
    assert len(out["log"]) == 1, out["log"]
    assert out["log"][0].startswith("1: AttentiveNorm plugin: createPlugin("), out["log"]  # severity kERROR
    assert reason in out["log"][0]


# Each rule of spec.attribute_errors at its edge: (case id, attributes over BASE_ATTRS). The rejected value and its
# accepted neighbour are both here, so a plugin rule that is off by one either way disagrees with the spec.
RULE_EDGES: list[tuple[str, dict[str, int | float]]] = [
    ("C_0", {"num_channels": 0}), ("C_1", {"num_channels": 1}),
    ("K_0", {"num_affine": 0}), ("K_1", {"num_affine": 1}),
    ("H1_0", {"attn_hidden": 0}), ("H1_1", {"attn_hidden": 1}), ("H1_negative", {"attn_hidden": -1}),
    ("num_groups_0", {"num_groups": 0}), ("num_groups_1", {"num_groups": 1}),
    ("groups_not_dividing_C", {"norm_type": 1, "num_groups": 3}),
    ("groups_dividing_C", {"norm_type": 1, "num_groups": 8}),
    ("groups_over_C", {"norm_type": 1, "num_groups": 16}),
    ("groups_not_dividing_C_batch", {"num_groups": 3}),
    ("norm_type_2", {"norm_type": 2}), ("norm_type_1", {"norm_type": 1}), ("norm_type_negative", {"norm_type": -1}),
    ("attn_input_3", {"attn_input": 3}), ("attn_input_2", {"attn_input": 2}),
    ("attn_input_negative", {"attn_input": -1}),
    ("hidden_activation_2", {"hidden_activation": 2}), ("hidden_activation_1", {"hidden_activation": 1}),
    ("activation_3", {"activation": 3}), ("activation_2", {"activation": 2}),
    ("activation_negative", {"activation": -1}),
    ("epsilon_0", {"epsilon": 0.0}), ("epsilon_tiny", {"epsilon": 1e-30}), ("epsilon_negative", {"epsilon": -1e-5}),
    ("eps_var_negative", {"eps_var": -1e-3}), ("eps_var_0", {"eps_var": 0.0}), ("eps_var_tiny", {"eps_var": 1e-30}),
    ("attn_norm_eps_nan", {"attn_norm_eps": float("nan")}), ("attn_norm_eps_0", {"attn_norm_eps": 0.0}),
    ("attn_norm_eps_tiny", {"attn_norm_eps": 1e-30}),
    ("attn_norm_groups_not_dividing_K", {"attn_norm_groups": 3}), ("attn_norm_groups_K", {"attn_norm_groups": 4}),
    ("attn_norm_groups_over_K", {"attn_norm_groups": 8}), ("attn_norm_groups_negative", {"attn_norm_groups": -1}),
    ("attn_norm_groups_0", {"attn_norm_groups": 0}),
    ("two_rules", {"num_affine": 0, "activation": 5}), ("three_rules", {"num_channels": -3, "epsilon": 0.0,
                                                                          "attn_input": 7}),
]


def _rejected_names(log: list[str]) -> list[str]:
    """The attribute named first in each reason of a creator rejection ('...rejected the fields: r1; r2')."""
    (line,) = log
    reasons = line.split("rejected the fields: ", 1)[1].split("; ")
    return [r.split(" ", 1)[0] for r in reasons]


@pytest.mark.parametrize("extra", [c[1] for c in RULE_EDGES], ids=[c[0] for c in RULE_EDGES])
def test_value_rules_agree_with_spec_attribute_errors(plugin_build, extra: dict[str, int | float]) -> None:
    """The plugin's C++ rules and spec.attribute_errors (two implementations) accept and reject the same
    attributes, and name the same broken rules in the same order."""
    attrs = {**BASE_ATTRS, **extra}
    expected = spec.attribute_errors({a.name: a.default for a in spec.ATTRIBUTES} | attrs)
    out = run_harness(plugin_build.host_test, plugin_build.plugin, ["create"], attribute_fields(attrs))
    assert out["ok"] == (not expected), (attrs, expected, out["log"])
    if expected:
        assert _rejected_names(out["log"]) == [e.split(" ", 1)[0] for e in expected], (out["log"], expected)


def test_rule_edges_cover_both_outcomes_of_every_rule() -> None:
    defaults = {a.name: a.default for a in spec.ATTRIBUTES} | BASE_ATTRS
    outcomes = {cid: bool(spec.attribute_errors(defaults | extra)) for cid, extra in RULE_EDGES}
    for changed in {name for _, extra in RULE_EDGES for name in extra}:
        seen = {outcomes[cid] for cid, extra in RULE_EDGES if changed in extra}
        assert seen == {True, False}, (changed, seen)


def test_random_attributes_created_iff_spec_accepts(plugin_build) -> None:
    rng = random.Random(1234)
    for _ in range(25):
        attrs: dict[str, int | float] = {
            "num_channels": rng.choice([1, 6, 8, 12]), "num_affine": rng.choice([0, 1, 4, 6]),
            "attn_hidden": rng.choice([-1, 1, 5]), "norm_type": rng.choice([0, 1, 1, 2]),
            "num_groups": rng.choice([0, 1, 2, 3, 4]), "epsilon": rng.choice([1e-5, 0.0]),
            "attn_input": rng.choice([0, 1, 2, 3]), "eps_var": rng.choice([1e-3, -1.0]),
            "hidden_activation": rng.choice([0, 1]), "attn_norm_groups": rng.choice([0, 1, 2, 3]),
            "attn_norm_eps": 1e-5, "activation": rng.choice([0, 1, 2]),
        }
        out = run_harness(plugin_build.host_test, plugin_build.plugin, ["create"], attribute_fields(attrs))
        assert out["ok"] == (not spec.attribute_errors(attrs)), (attrs, out["log"])


def test_without_logger_finder_reasons_go_to_stderr(plugin_build) -> None:
    out = run_harness(plugin_build.host_test, plugin_build.plugin, ["stderr_log"], _with(num_affine=0))
    assert not out["ok"]
    assert out["log"] == []
    assert "AttentiveNorm plugin: createPlugin" in out["_stderr"] and "num_affine" in out["_stderr"]
