"""Serialize -> deserialize -> clone of the plugin, and fuzzing of the field buffers (host only)."""

from __future__ import annotations

import pytest

from tests.plugin.plugin_harness import BASE_ATTRS, attribute_fields, run_harness

pytestmark = pytest.mark.plugin

ROUNDTRIP_ATTRS = {**BASE_ATTRS, "norm_type": 1, "num_groups": 2, "epsilon": 3e-5, "attn_input": 2,
                   "eps_var": 0.25, "hidden_activation": 1, "attn_norm_groups": 2, "attn_norm_eps": 1e-4,
                   "activation": 2}
FUZZ_ITERATIONS = 20000


def test_serialize_deserialize_clone_preserves_every_field(plugin_build) -> None:
    out = run_harness(plugin_build.host_test, plugin_build.plugin, ["roundtrip"], attribute_fields(ROUNDTRIP_ATTRS))
    assert out["ok"], out["log"]
    built, restored, cloned, attached = out["stages"]
    assert len(built["fields"]) == 12
    for stage in (restored, cloned, attached):
        assert stage is not None
        assert stage["fields"] == built["fields"]
        assert (stage["name"], stage["version"], stage["namespace"]) == ("AttentiveNorm", "1", "")
    assert out["log"] == []


def _fuzz(binary, plugin, seed: int) -> dict:
    out = run_harness(binary, plugin, ["fuzz", str(seed), str(FUZZ_ITERATIONS)], attribute_fields(ROUNDTRIP_ATTRS),
                      env={"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1", "UBSAN_OPTIONS": "print_stacktrace=1"},
                      timeout=600)
    assert out["iterations"] == FUZZ_ITERATIONS
    assert out["created"] + out["rejected"] == FUZZ_ITERATIONS
    assert out["created"] > 100 and out["rejected"] > 100  # both paths are exercised
    assert out["rejected_without_log"] == 0
    assert out["mismatched_roundtrips"] == 0
    return out


def test_random_and_truncated_fields_never_crash(plugin_build) -> None:
    _fuzz(plugin_build.host_test, plugin_build.plugin, seed=7)


def test_fuzz_under_address_and_undefined_sanitizers(plugin_build) -> None:
    if plugin_build.host_test_asan is None or plugin_build.plugin_asan is None:
        pytest.skip("sanitizer variants not built (AN_PLUGIN_SANITIZERS=OFF or compiler without ASan)")
    out = _fuzz(plugin_build.host_test_asan, plugin_build.plugin_asan, seed=11)
    assert "ERROR: AddressSanitizer" not in out["_stderr"]
    assert "runtime error" not in out["_stderr"]


def test_roundtrip_under_sanitizers(plugin_build) -> None:
    if plugin_build.host_test_asan is None or plugin_build.plugin_asan is None:
        pytest.skip("sanitizer variants not built (AN_PLUGIN_SANITIZERS=OFF or compiler without ASan)")
    for command in (["roundtrip"], ["queries"], ["formats"]):
        out = run_harness(plugin_build.host_test_asan, plugin_build.plugin_asan, command,
                          attribute_fields(ROUNDTRIP_ATTRS), env={"ASAN_OPTIONS": "detect_leaks=1"})
        assert out["ok"]
        assert "runtime error" not in out["_stderr"]
