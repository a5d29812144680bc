"""Reading a training config file: the authors' two formats, told apart by the file's suffix."""

from __future__ import annotations

from pathlib import Path

from an_deploy.models.aognet_v2.config_yaml import read_yaml
from an_deploy.models.ivmcl_release.config_py import read_py
from an_deploy.models.model_config import ConfigError, ModelConfig


def read_config(path: str | Path) -> ModelConfig:
    """Read an AOGNet-v2 YAML (``.yaml``/``.yml``) or iVMCL-Release Python (``.py``) training config.

    The Python file is parsed, never executed.

    Raises:
        ConfigError: missing/unreadable file, unknown format, or a model this tool cannot build.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config not found: {path}")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return read_yaml(path)
    if suffix == ".py":
        return read_py(path)
    raise ConfigError(f"{path}: unknown config format {suffix!r} (expected an AOGNet-v2 .yaml or an "
                      "iVMCL-Release .py training config)")
