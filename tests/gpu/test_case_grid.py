"""The GPU tests' case grid and host-side helpers, checked without a GPU: every case is a distinct scenario with
a truthful id, the grid covers every option and format it claims to, and the kHWC8 buffers are laid out as the
C API documents ([N][H][W][ceil(C/8)*8], the logical tensor a view at the buffer's start)."""

from __future__ import annotations

import itertools

import torch

from an_deploy import spec
from tests.gpu import test_plugin_kernel_gpu as kernel_tests
from tests.gpu import test_plugin_layers_gpu as layer_tests

ALL_CASES = kernel_tests.SHAPE_CASES + kernel_tests.OPTION_CASES + kernel_tests.PADDED_CASES


def test_every_kernel_case_is_a_distinct_scenario_with_its_own_id() -> None:
    assert len({c.id for c in ALL_CASES}) == len(ALL_CASES)
    assert len(set(ALL_CASES)) == len(ALL_CASES)


def test_case_ids_say_what_the_case_runs() -> None:
    for case in ALL_CASES:
        layout, dtype, norm, attn_input, activation, *rest = case.id.split("-")
        assert (layout, dtype) == (case.layout, kernel_tests.DTYPE_NAMES[case.dtype])
        assert (norm, attn_input, activation) == (case.norm_type.name.lower(), case.attn_input.name.lower(),
                                                  case.activation.name.lower())
        assert rest[-2:] == [f"{case.n}x{case.c}x{case.h}x{case.w}", f"k{case.k}"]
        assert ("relu" in rest) == case.relu and (f"lgn{case.logit_groups}" in rest) == bool(case.logit_groups)
        attrs = spec.resolve_attributes(case.attrs)  # valid attributes for every case
        assert attrs["hidden_activation"] == int(case.relu) and attrs["attn_norm_groups"] == case.logit_groups


def test_grid_covers_every_option_in_every_format() -> None:
    for layout, dtype in kernel_tests.LAYOUTS:
        cases = [c for c in ALL_CASES if (c.layout, c.dtype) == (layout, dtype)]
        assert {(c.norm_type, c.attn_input) for c in cases} == set(itertools.product(spec.NormType, spec.AttnInput))
        assert {c.activation for c in cases} == set(spec.Activation), layout
        assert {c.h * c.w for c in cases} >= {1, 49, 196, 3136}, layout
        assert {c.n for c in cases} >= {1, 8, 32} and {c.c for c in cases} >= {64, 256, 512}, layout
    full = {(c.norm_type, c.attn_input, c.activation, c.relu, c.logit_groups) for c in kernel_tests.OPTION_CASES
            if (c.layout, c.dtype) == ("nchw", torch.float32)}
    assert len(full) == 2 * 3 * 2 * (2 * 2 + 1)  # softmax is not combined with the logit group norm


def test_padded_cases_have_channels_that_are_not_a_multiple_of_8() -> None:
    padded = kernel_tests.PADDED_CASES
    assert {c.c for c in padded} == {12, 20} and all(c.layout == "nhwc8" and c.dtype == torch.float16
                                                     for c in padded)
    assert {c.h * c.w >= 256 for c in padded} == {True, False}  # both channels-last statistics passes
    assert {c.norm_type for c in padded} == set(spec.NormType)


def test_padded_channels_last_buffer_layout() -> None:
    x = torch.arange(2 * 12 * 3 * 2, dtype=torch.float32).reshape(2, 12, 3, 2)
    view, storage = kernel_tests.padded_channels_last(x, fill=-1.0)
    assert storage.shape == (2, 3, 2, 16) and storage.is_contiguous()
    assert view.data_ptr() == storage.data_ptr() and view.shape == x.shape
    torch.testing.assert_close(view, x, rtol=0, atol=0)
    assert bool((storage[..., 12:] == -1).all())
    # element (n, c, h, w) sits at ((n * H + h) * W + w) * 16 + c of the buffer
    flat = storage.reshape(-1)
    assert flat[((1 * 3 + 2) * 2 + 1) * 16 + 5] == x[1, 5, 2, 1]


def test_layer_cases_cover_every_layer_in_both_dtypes() -> None:
    names = {case[3] for case in layer_tests.CASES}
    assert names == set(layer_tests.LAYERS)
    for name in names:
        settings = {(layout, dtype) for layout, dtype, _, n in layer_tests.CASES if n == name}
        assert settings == {("nchw", torch.float32), ("nhwc", torch.float32), ("nchw", torch.float16),
                            ("nhwc8", torch.float16)}
