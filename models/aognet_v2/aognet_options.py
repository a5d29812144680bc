"""The AOGNet options of an AOGNet-v2 training config (a nested dict with the defaults merged), checked.

Only what the published AOGNet-12M/40M configs (AN and BN) use is supported; any other value of an option that
changes the network is a :class:`~an_deploy.models.model_config.ConfigError` naming the option. Options that
only change the initialisation or the training (``init_mode``, ``aognet.handle_dbl_cnt_in_param_init``,
``norm_zero_gamma_init``, ...) and options the original AOGNet never reads for a BatchNorm network
(``norm_groups``, ``norm_all_mix``, ``stem.stem_kernel_size``, ``stem.stem_stride``) are not looked at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from an_deploy.models.attentive_norm import MODE_LAYOUT
from an_deploy.models.model_config import ConfigError

NORM_NAMES = ("BatchNorm2d", "MixtureBatchNorm2d")
PER_STAGE = ("dims", "blocks", "max_split", "extra_node_hierarchy", "remove_symmetric_children_of_or_node",
             "terminal_node_no_slice", "stride", "drop_rate")
# option -> the only value supported (the value every published AOGNet config has)
FIXED = {
    "dataset": "imagenet",
    "stem.imagenet_head7x7": False,
    "stem.replace_maxpool_with_res_bottleneck": False,
    "aognet.handle_tnode_dbl_cnt": False,
    "aognet.use_group_conv": False,
    "aognet.use_elem_max_for_ORNodes": False,
}


@dataclass(frozen=True)
class AOGNetOptions:
    """Everything that shapes an AOGNet (one entry per stage in the tuples)."""

    filter_list: tuple[int, ...]
    blocks: tuple[int, ...]
    dims: tuple[int, ...]
    lateral: tuple[bool, ...]
    remove_symmetric: tuple[int, ...]
    stride: tuple[int, ...]
    drop_rate: tuple[float, ...]
    bottleneck_ratio: float
    handle_dbl_cnt: bool
    when_downsample: int
    pool_for_stride: bool
    activation_mode: int
    an: bool
    norm_k: tuple[int, ...]
    attention_mode: int

    @property
    def num_stages(self) -> int:
        return len(self.filter_list) - 1


def _get(cfg: Mapping[str, Any], dotted: str) -> Any:
    node: Any = cfg
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise ConfigError(f"AOGNet config: missing option {dotted}")
        node = node[part]
    return node


def _ints(cfg: Mapping[str, Any], dotted: str, n: int | None = None) -> tuple[int, ...]:
    value = _get(cfg, dotted)
    if not isinstance(value, Sequence) or isinstance(value, str) or not all(
            isinstance(v, (int, float)) and int(v) == v for v in value):
        raise ConfigError(f"AOGNet config: {dotted} must be a list of integers, got {value!r}")
    if n is not None and len(value) < n:
        raise ConfigError(f"AOGNet config: {dotted} needs one value per stage ({n}), got {list(value)}")
    return tuple(int(v) for v in value)


def _unsupported(dotted: str, value: Any, supported: str) -> ConfigError:
    return ConfigError(f"AOGNet config: {dotted} = {value!r} is not supported (supported: {supported})")


def parse_options(cfg: Mapping[str, Any]) -> AOGNetOptions:
    """Check and collect the options of an AOGNet-v2 config.

    Args:
        cfg: the full config as a nested dict (keys as in the original ``models/config.py``).

    Returns:
        The checked options.

    Raises:
        ConfigError: a missing option, or a value the published AOGNets do not use (one line naming it).
    """
    if not str(_get(cfg, "arch")).startswith("aognet"):
        raise _unsupported("arch", _get(cfg, "arch"), "'aognet'")
    for dotted, only in FIXED.items():
        if _get(cfg, dotted) != only:
            raise _unsupported(dotted, _get(cfg, dotted), repr(only))
    if any(_ints(cfg, "aognet.out_channels")):
        raise _unsupported("aognet.out_channels", _get(cfg, "aognet.out_channels"), "[0, 0]")
    filter_list = _ints(cfg, "aognet.filter_list")
    if len(filter_list) != 5:
        raise _unsupported("aognet.filter_list", list(filter_list), "5 widths: stem and 4 stages (imagenet)")
    n = len(filter_list) - 1
    per_stage = {key: _get(cfg, f"aognet.{key}") for key in PER_STAGE}
    for key, value in per_stage.items():
        if not isinstance(value, Sequence) or len(value) < n:
            raise ConfigError(f"AOGNet config: aognet.{key} needs one value per stage ({n}), got {value!r}")
    dims, blocks = _ints(cfg, "aognet.dims", n), _ints(cfg, "aognet.blocks", n)
    for s in range(n):
        if dims[s] < 1 or blocks[s] < 1:
            raise ConfigError(f"AOGNet config: stage {s} needs dims >= 1 and blocks >= 1")
        if filter_list[s] % dims[s] or filter_list[s + 1] % dims[s]:
            raise ConfigError(f"AOGNet config: stage {s} widths {filter_list[s]}->{filter_list[s + 1]} are not "
                              f"multiples of aognet.dims[{s}] = {dims[s]}")
    if any(v != 2 for v in _ints(cfg, "aognet.max_split", n)[:n]):
        raise _unsupported("aognet.max_split", per_stage["max_split"], "2")
    hierarchy = _ints(cfg, "aognet.extra_node_hierarchy", n)[:n]
    if any(v not in (0, 4) for v in hierarchy):
        raise _unsupported("aognet.extra_node_hierarchy", list(hierarchy), "0 or 4 per stage")
    remove_symmetric = _ints(cfg, "aognet.remove_symmetric_children_of_or_node", n)[:n]
    if any(v not in (0, 1, 2) for v in remove_symmetric):
        raise _unsupported("aognet.remove_symmetric_children_of_or_node", list(remove_symmetric), "0, 1 or 2")
    if any(_ints(cfg, "aognet.terminal_node_no_slice", n)[:n]):
        raise _unsupported("aognet.terminal_node_no_slice", per_stage["terminal_node_no_slice"], "0 per stage")
    when_downsample = int(_get(cfg, "aognet.when_downsample"))
    if when_downsample not in (0, 1):
        raise _unsupported("aognet.when_downsample", when_downsample, "0 or 1")
    norm_name = _get(cfg, "norm_name")
    if norm_name not in NORM_NAMES:
        raise _unsupported("norm_name", norm_name, " or ".join(NORM_NAMES))
    an = norm_name == "MixtureBatchNorm2d"
    norm_k: tuple[int, ...] = (0,) * n
    attention_mode = int(_get(cfg, "norm_attention_mode"))
    if an:
        norm_k = _ints(cfg, "norm_k")
        if len(norm_k) != n or not any(norm_k):
            raise ConfigError(f"AOGNet config: norm_k must give one K per stage ({n}), got {list(norm_k)}")
        if any(k < 2 for k in norm_k):
            raise ConfigError(f"AOGNet config: every norm_k must be >= 2 for MixtureBatchNorm2d, got {list(norm_k)}")
        if attention_mode not in MODE_LAYOUT:
            raise _unsupported("norm_attention_mode", attention_mode, f"one of {sorted(MODE_LAYOUT)}")
    return AOGNetOptions(
        filter_list=filter_list, blocks=blocks[:n], dims=dims[:n], lateral=tuple(v == 4 for v in hierarchy),
        remove_symmetric=remove_symmetric, stride=_ints(cfg, "aognet.stride", n)[:n],
        drop_rate=tuple(float(v) for v in per_stage["drop_rate"][:n]),
        bottleneck_ratio=float(_get(cfg, "aognet.bottleneck_ratio")),
        handle_dbl_cnt=bool(_get(cfg, "aognet.handle_dbl_cnt")), when_downsample=when_downsample,
        pool_for_stride=bool(_get(cfg, "aognet.replace_stride_with_avgpool")),
        activation_mode=int(_get(cfg, "activation_mode")), an=an, norm_k=norm_k, attention_mode=attention_mode)
