"""The four published AOGNet-v2 ImageNet classifiers as configs and builders (no config file needed).

Each config is the model part of ``configs/aognet-{12m,40m}[-an]-imagenet.yaml`` merged into the defaults of
the original ``models/config.py``, as the original training script merges them. Published sizes: AOGNet-12M-AN
12.37 M parameters (AOGNet-12M 12.26 M, AOGNet-40M-AN 40.39 M, AOGNet-40M 40.15 M).
"""

from __future__ import annotations

import copy
from typing import Any

from torch import nn

from an_deploy.models.aognet_v2.aognet import aognet_from_config

# the model options of the original models/config.py defaults
DEFAULTS: dict[str, Any] = {
    "arch": "aognet", "dataset": "cifar10", "num_classes": 10, "activation_mode": 0, "init_mode": "kaiming",
    "norm_name": "BatchNorm2d", "norm_groups": 0, "norm_k": [0], "norm_attention_mode": 0,
    "norm_zero_gamma_init": False, "norm_all_mix": False,
    "stem": {"imagenet_head7x7": False, "replace_maxpool_with_res_bottleneck": False, "stem_kernel_size": 7,
             "stem_stride": 2},
    "aognet": {"filter_list": [16, 64, 128, 256], "out_channels": [0, 0], "blocks": [1, 1, 1], "dims": [4, 4, 4],
               "max_split": [2, 2, 2], "extra_node_hierarchy": [0, 0, 0],
               "remove_symmetric_children_of_or_node": [0, 0, 0], "terminal_node_no_slice": [0, 0, 0],
               "stride": [1, 2, 2], "drop_rate": [0.0, 0.0, 0.0], "bottleneck_ratio": 0.25, "handle_dbl_cnt": True,
               "handle_tnode_dbl_cnt": False, "handle_dbl_cnt_in_param_init": False, "use_group_conv": False,
               "width_per_group": 0, "when_downsample": 0, "replace_stride_with_avgpool": True,
               "use_elem_max_for_ORNodes": False},
}
# what the 12M-AN config sets (the other three differ as _published says)
_AOGNET_12M_AN: dict[str, Any] = {
    "dataset": "imagenet", "num_classes": 1000, "norm_name": "MixtureBatchNorm2d", "norm_k": [10, 10, 20, 20],
    "norm_attention_mode": 2,
    "aognet": {"max_split": [2, 2, 2, 2], "extra_node_hierarchy": [4, 4, 4, 4],
               "remove_symmetric_children_of_or_node": [1, 2, 1, 2], "terminal_node_no_slice": [0, 0, 0, 0],
               "stride": [1, 2, 2, 2], "drop_rate": [0.0, 0.0, 0.1, 0.1], "bottleneck_ratio": 0.25,
               "handle_dbl_cnt": True, "handle_tnode_dbl_cnt": False, "handle_dbl_cnt_in_param_init": False,
               "use_group_conv": False, "width_per_group": 0, "when_downsample": 1,
               "replace_stride_with_avgpool": True, "use_elem_max_for_ORNodes": False,
               "filter_list": [32, 128, 256, 512, 824], "out_channels": [0, 0], "blocks": [2, 2, 2, 1],
               "dims": [2, 2, 4, 4]},
}
PUBLISHED = ("aognet_12m_an", "aognet_12m", "aognet_40m_an", "aognet_40m")


def published_config(name: str) -> dict[str, Any]:
    """The full config (nested dict) of a published AOGNet.

    Args:
        name: one of :data:`PUBLISHED`.

    Returns:
        A fresh nested dict, as :func:`aognet_from_config` takes it.

    Raises:
        KeyError: an unknown name.
    """
    if name not in PUBLISHED:
        raise KeyError(f"unknown published AOGNet {name!r}; known: {', '.join(PUBLISHED)}")
    cfg = copy.deepcopy(DEFAULTS)
    for key, value in copy.deepcopy(_AOGNET_12M_AN).items():
        if isinstance(value, dict):
            cfg[key].update(value)
        else:
            cfg[key] = value
    if not name.endswith("_an"):
        cfg["norm_name"] = "BatchNorm2d"
    if name.startswith("aognet_40m"):
        cfg["aognet"].update(filter_list=[56, 224, 448, 896, 1400], blocks=[2, 2, 3, 1])
        if name == "aognet_40m":
            cfg["aognet"]["replace_stride_with_avgpool"] = False
    return cfg


def aognet_12m_an(num_classes: int = 1000) -> nn.Module:
    return aognet_from_config(published_config("aognet_12m_an"), num_classes)


def aognet_12m(num_classes: int = 1000) -> nn.Module:
    return aognet_from_config(published_config("aognet_12m"), num_classes)


def aognet_40m_an(num_classes: int = 1000) -> nn.Module:
    return aognet_from_config(published_config("aognet_40m_an"), num_classes)


def aognet_40m(num_classes: int = 1000) -> nn.Module:
    return aognet_from_config(published_config("aognet_40m"), num_classes)
