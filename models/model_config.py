"""A model definition read from a training config file, with where every option that changes the numbers came from.

The authors' training code defines each model by a config file (AOGNet-v2: a YAML file; iVMCL-Release: a Python
file of literal ``dict(...)`` calls). A reader turns such a file into a :class:`ModelConfig`; the checkpoint loader
builds the module from it instead of guessing options the state-dict keys cannot show (attention modes 2/5/6 and
0/4 store identical tensors, and so do ``use_rsd``/``use_maxpool``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from an_deploy.errors import UserError


class ConfigError(UserError, ValueError):
    """The config file cannot be read or describes a model this tool cannot build (one readable line)."""


@dataclass(frozen=True)
class OptionSource:
    """One option that changes the numbers, its value and where the value came from (a file, a default...)."""

    value: Any
    source: str


@dataclass(frozen=True)
class ModelConfig:
    """An architecture fully described by a config file.

    Attributes:
        name: a readable name, e.g. ``"AOGNet-v2 resnet50 (AN)"``.
        family: ``"aognet-v2"`` or ``"ivmcl-release"``.
        build: ``num_classes -> nn.Module`` (eval-ready, float32, on the current default device).
        num_classes: the class count the config states (``None`` when it does not).
        input_shape: the example input N x C x H x W the model was trained for.
        options: every AN/architecture option that changes the numbers, with its source.
        path: the config file.
    """

    name: str
    family: str
    build: Callable[[int], nn.Module]
    num_classes: int | None
    input_shape: tuple[int, int, int, int]
    options: dict[str, OptionSource] = field(default_factory=dict)
    path: Path | None = None
