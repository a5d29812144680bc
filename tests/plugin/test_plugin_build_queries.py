"""Build-phase answers of the plugin: formats, output types, output shapes, configure/shape checks (host only)."""

from __future__ import annotations

import ctypes

import pytest

from an_deploy import spec
from tests.plugin.plugin_harness import BASE_ATTRS, attribute_fields, run_harness

pytestmark = pytest.mark.plugin

# nvinfer1::DataType and nvinfer1::TensorFormat values (TensorRT 10.14 headers).
K_FLOAT, K_HALF = 0, 1
K_LINEAR, K_HWC8, K_HWC = 0, 2, 8
# The documented contract (plugins/README.md): X is one of these, Y equals X, parameters are float32 linear.
SUPPORTED_X = {(K_FLOAT, K_LINEAR), (K_FLOAT, K_HWC), (K_HALF, K_LINEAR), (K_HALF, K_HWC8)}
NB_TYPES, NB_FORMATS = 12, 13


def expected_support(pos: int, x_type: int, x_format: int, dtype: int, fmt: int) -> bool:
    if pos == 0:
        return (dtype, fmt) in SUPPORTED_X
    if pos == len(spec.INPUTS):
        return (dtype, fmt) == (x_type, x_format) and (x_type, x_format) in SUPPORTED_X
    return (dtype, fmt) == (K_FLOAT, K_LINEAR)


def test_supports_format_combination_full_table(plugin_build) -> None:
    out = run_harness(plugin_build.host_test, plugin_build.plugin, ["formats"], attribute_fields(BASE_ATTRS))
    assert out["ok"]
    rows = out["rows"]
    positions = {r[0] for r in rows}
    assert positions == set(range(len(spec.INPUTS) + len(spec.OUTPUTS)))
    assert len([r for r in rows if r[0] == 0]) == NB_TYPES * NB_FORMATS
    mismatches = [r for r in rows if r[5] != expected_support(*r[:5])]
    assert not mismatches, mismatches[:10]
    assert sum(r[5] for r in rows if r[0] == 0) == len(SUPPORTED_X)
    assert not out["bad_position_accepted"]


@pytest.fixture(scope="module")
def queries(plugin_build) -> dict:
    out = run_harness(plugin_build.host_test, plugin_build.plugin, ["queries"], attribute_fields(BASE_ATTRS))
    assert out["ok"]
    return out


def test_output_data_type_follows_x(queries: dict) -> None:
    for in_type, rc, out_type in queries["output_types"]:
        if in_type in (K_FLOAT, K_HALF):
            assert (rc, out_type) == (0, in_type)
        else:
            assert rc != 0
    assert queries["output_types_bad_count_rc"] != 0


def test_output_shapes_are_x_dims(queries: dict) -> None:
    shapes = queries["shapes"]
    c = BASE_ATTRS["num_channels"]
    assert shapes["static"] == {"rc": 0, "dims": [2, c, 5, 7], "same_exprs": True}
    assert shapes["dynamic"] == {"rc": 0, "dims": ["?", c, "?", "?"], "same_exprs": True}
    assert shapes["dynamic_channels"]["rc"] == 0
    for bad in ("wrong_channels", "rank3", "wrong_param_rank", "nb_inputs_10"):
        assert shapes[bad]["rc"] != 0, bad
    assert queries["nb_outputs"] == 1


def test_configure_and_shape_change_validate_parameter_shapes(queries: dict) -> None:
    configure = queries["configure"]
    assert configure["good"] == 0 and configure["dynamic"] == 0
    for bad in ("bad_attn_w1", "bad_mix_weight", "bad_channels", "rank3", "bad_count"):
        assert configure[bad] != 0, bad
    change = queries["shape_change"]
    assert change["good"] == 0
    for bad in ("dynamic_dims", "bad_attn_w1", "bad_channels"):  # runtime shapes must be concrete and right
        assert change[bad] != 0, bad
    assert any("attn_w1 has shape [6, 9], expected [6, 8]" in m for m in queries["log"])


def test_enqueue_rejects_unsupported_format_without_touching_cuda(queries: dict) -> None:
    assert queries["enqueue_bad_format_rc"] != 0


def documented_workspace_bytes(n: int, attrs: dict[str, int | float], nc_arrays: int = 8,
                               extra_partial: int = 0) -> int:
    """The workspace layout as documented in attentiveNormKernel.cu / attentiveNormKernelCommon.cuh, computed here
    independently: 13 float arrays, each rounded up to 256 bytes: eight of N*C (mean, M2, max, A, B, u, group mean,
    group rstd), N*H1, N*K, and three channels-last partial arrays of splitCapacity(N)*C, where
    splitCapacity(n) = min(16 n, max(256, n)). `nc_arrays` and `extra_partial` exist to show that a model off by
    one array or one partial row does not pass."""
    c, k, h1 = int(attrs["num_channels"]), int(attrs["num_affine"]), int(attrs["attn_hidden"])
    capacity = min(16 * n, max(256, n)) + extra_partial
    sizes = [n * c] * nc_arrays + [n * h1, n * k] + [capacity * c] * 3
    return sum((4 * s + 255) // 256 * 256 for s in sizes)


WORKSPACE_ATTRS = [BASE_ATTRS, {"num_channels": 64, "num_affine": 5, "attn_hidden": 10},
                   {"num_channels": 3, "num_affine": 20, "attn_hidden": 70}]


def test_workspace_matches_the_documented_layout(plugin_build, queries: dict) -> None:
    from tests.plugin.test_plugin_c_api import Attributes

    # the plugin sizes for the profile's largest batch (the dynamic profile's max N is 8; the static one has N = 2)
    assert queries["workspace_n8"] == documented_workspace_bytes(8, BASE_ATTRS)
    assert queries["workspace_n2"] == documented_workspace_bytes(2, BASE_ATTRS)
    lib = ctypes.CDLL(str(plugin_build.plugin))
    lib.an_attentive_norm_workspace_size.restype = ctypes.c_size_t
    lib.an_attentive_norm_workspace_size.argtypes = [ctypes.c_int64, ctypes.POINTER(Attributes)]
    for attrs in WORKSPACE_ATTRS:
        packed = Attributes.from_mapping(attrs)
        for n in (*range(1, 40), 255, 256, 257, 1000, 4096):
            assert lib.an_attentive_norm_workspace_size(n, ctypes.byref(packed)) == documented_workspace_bytes(
                n, attrs), (attrs, n)


@pytest.mark.parametrize("off_by_one", [{"nc_arrays": 7}, {"nc_arrays": 9}, {"extra_partial": 1},
                                        {"extra_partial": -1}], ids=["7_arrays", "9_arrays", "partial+1", "partial-1"])
def test_an_off_by_one_layout_disagrees_with_the_library(plugin_build, off_by_one: dict[str, int]) -> None:
    from tests.plugin.test_plugin_c_api import Attributes

    lib = ctypes.CDLL(str(plugin_build.plugin))
    lib.an_attentive_norm_workspace_size.restype = ctypes.c_size_t
    lib.an_attentive_norm_workspace_size.argtypes = [ctypes.c_int64, ctypes.POINTER(Attributes)]
    attrs = WORKSPACE_ATTRS[1]
    packed = Attributes.from_mapping(attrs)
    assert any(lib.an_attentive_norm_workspace_size(n, ctypes.byref(packed))
               != documented_workspace_bytes(n, attrs, **off_by_one) for n in range(1, 40))


SHAPE_ATTRS = [BASE_ATTRS, {"num_channels": 24, "num_affine": 5, "attn_hidden": 10},
               {"num_channels": 3, "num_affine": 7, "attn_hidden": 2}]


def _configure(plugin_build, attrs: dict[str, int | float], shapes: list[tuple[int, ...]]) -> dict:
    args = [",".join(map(str, s)) for s in shapes]
    out = run_harness(plugin_build.host_test, plugin_build.plugin, ["configure", *args], attribute_fields(attrs))
    assert out["ok"], out["log"]
    return out


@pytest.mark.parametrize("attrs", SHAPE_ATTRS, ids=lambda a: "C{num_channels}-K{num_affine}-H{attn_hidden}".format(**a))
def test_parameter_shape_rules_agree_with_spec_input_shapes(plugin_build, attrs: dict[str, int | float]) -> None:
    """The plugin's hand-written expected shapes against spec.input_shapes: the spec's shapes are accepted, and
    each dimension of each parameter one larger or one smaller, or a dimension more, is rejected naming it."""
    c = int(attrs["num_channels"])
    good = [(2, c, 5, 7), *spec.input_shapes(spec.resolve_attributes(attrs)).values()]
    out = _configure(plugin_build, attrs, good)
    assert (out["configure"], out["shape_change"]) == (0, 0), out["log"]
    for i, tensor in enumerate(spec.PARAM_INPUTS, start=1):
        wrong = [good[i][:j] + (good[i][j] + delta,) + good[i][j + 1:]
                 for j in range(len(good[i])) for delta in (1, -1)]
        for bad_shape in [*wrong, (*good[i], 1)]:
            out = _configure(plugin_build, attrs, [*good[:i], bad_shape, *good[i + 1:]])
            assert out["configure"] != 0 and out["shape_change"] != 0, (tensor.name, bad_shape)
            assert any(f"{tensor.name} has shape" in line for line in out["log"]), (tensor.name, out["log"])
