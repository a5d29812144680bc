"""The AN options a state dict cannot show, found on a built model, read from it and set on it.

Attention modes 2, 5 and 6 store identical tensors (conv without bias -> BatchNorm -> hsigmoid / sigmoid /
softmax), and so do modes 0 and 4 (conv with bias -> sigmoid / hsigmoid); the iVMCL-Release layers' ``use_rsd`` and
``use_maxpool`` switches store nothing at all. A model built from an architecture name alone therefore has to be
told these options (a training config, our own checkpoint metadata, or an explicit assumption of the authors'
published setting); this module finds which layers need them and applies the values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from an_deploy.models.attentive_norm import (
    ACT_CFG_TYPES,
    ACTIVATIONS,
    DEFAULT_ACT_CFG,
    MODE_LAYOUT,
    HSigmoid,
    build_attn_activation,
)

PUBLISHED: dict[str, Any] = {"attention_mode": 2, "use_rsd": True, "use_maxpool": False,
                             "act_cfg": DEFAULT_ACT_CFG["type"]}
"""The setting of every model the authors published (AOGNet-v2 configs: mode 2; iVMCL-Release configs: use_rsd and
the default HSigmoidv2 attention activation)."""

_ACTIVATION_OF_MODE = {mode: layout[3] for mode, layout in MODE_LAYOUT.items()}
_SAME_KEYS = ((2, 5, 6), (0, 4))


@dataclass(frozen=True)
class Ambiguity:
    """An option whose value the state-dict keys cannot show, with the layers that need it."""

    option: str
    candidates: tuple[Any, ...]
    layers: tuple[str, ...]

    def describe(self) -> str:
        """E.g. ``attention_mode (2, 5 or 6 store the same tensors; layer1.0.bn2 and 15 more)``."""
        values = [str(v) for v in self.candidates]
        more = f" and {len(self.layers) - 1} more" if len(self.layers) > 1 else ""
        return (f"{self.option} ({', '.join(values[:-1])} or {values[-1]} store the same tensors; "
                f"{self.layers[0]}{more})")


def _activation_name(module: nn.Module) -> str | None:
    if isinstance(module, HSigmoid):
        return "hsigmoid"
    if isinstance(module, nn.Sigmoid):
        return "sigmoid"
    if isinstance(module, nn.Softmax):
        return "softmax"
    return None


def _family1_layout(branch: nn.Module) -> tuple[bool, bool, bool, str | None] | None:
    """(two layers, conv bias, branch norm, activation) of an ``attention_weights`` branch."""
    seq = getattr(branch, "attention", None)
    if not isinstance(seq, nn.Sequential) or len(seq) == 0:
        return None
    convs = [m for m in seq if isinstance(m, nn.Conv2d)]
    if not convs:
        return None
    norm = any(isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) for m in seq)
    return len(convs) == 2, convs[0].bias is not None, norm, _activation_name(seq[-1])


def _layers(model: nn.Module) -> list[tuple[str, str, Any]]:
    """(name, family, attention branch module) of every AN layer: a module with ``weight_``/``bias_`` and a branch.

    The branch is typed ``Any``: its attributes (``attention``, ``use_rsd``...) are read and set by name.
    """
    out = []
    for name, m in model.named_modules():
        if not (hasattr(m, "weight_") and hasattr(m, "bias_")):
            continue
        branch = getattr(m, "attn_weights", None) or getattr(m, "attention_weights", None)
        if isinstance(branch, nn.Module):
            # iVMCL-Release branches (``AttnWeights``, under either name) carry the use_rsd switch
            out.append((name, "ivmcl-release" if hasattr(branch, "use_rsd") else "aognet-v2", branch))
    return out


def _act_cfg_type(module: nn.Module) -> str | None:
    """The mmcv ``act_cfg`` type name of a family-2 attention activation (None if not one of them)."""
    for name, (factory, _) in ACT_CFG_TYPES.items():
        if isinstance(factory, type) and type(module) is factory:
            return name
    return None


def key_ambiguities(model: nn.Module) -> list[Ambiguity]:
    """Every option the model's state-dict keys cannot pin down, judged from the built layers' structure."""
    found: dict[tuple[str, tuple[Any, ...]], list[str]] = {}
    for name, family, branch in _layers(model):
        if family == "ivmcl-release":
            found.setdefault(("use_rsd", (True, False)), []).append(name)
            found.setdefault(("use_maxpool", (False, True)), []).append(name)
            found.setdefault(("act_cfg", tuple(ACT_CFG_TYPES)), []).append(name)
            continue
        layout = _family1_layout(branch)
        if layout is None or layout[0]:
            continue  # modes 1 and 3 (two convs) have keys of their own
        candidates = (2, 5, 6) if layout[2] and not layout[1] else (0, 4) if layout[1] and not layout[2] else None
        if candidates:
            found.setdefault(("attention_mode", candidates), []).append(name)
    return [Ambiguity(option, candidates, tuple(layers)) for (option, candidates), layers in found.items()]


def live_options(model: nn.Module) -> dict[str, Any]:
    """The values the model's AN layers use now: ``attention_mode`` (family 1), ``use_rsd``/``use_maxpool``.

    A value shared by every layer is given as is; layers that disagree give a ``{layer: value}`` mapping.
    """
    values: dict[str, dict[str, Any]] = {}
    for name, family, branch in _layers(model):
        if family == "ivmcl-release":
            values.setdefault("use_rsd", {})[name] = bool(getattr(branch, "use_rsd", True))
            values.setdefault("use_maxpool", {})[name] = bool(getattr(branch, "use_maxpool", False))
            values.setdefault("act_cfg", {})[name] = _act_cfg_type(branch.attention[-1])
            continue
        layout = _family1_layout(branch)
        modes = [mode for mode, known in MODE_LAYOUT.items() if known == layout]
        if modes:
            values.setdefault("attention_mode", {})[name] = modes[0]
    return {option: (next(iter(per.values())) if len(set(per.values())) == 1 else per)
            for option, per in values.items()}


def apply_options(model: nn.Module, options: Mapping[str, Any]) -> None:
    """Set options the keys cannot show on a built model, in place.

    Args:
        model: a model whose AN layers were built with some value of these options.
        options: ``attention_mode`` (only between modes with the same keys), ``use_rsd``, ``use_maxpool``.

    Raises:
        ValueError: a value the built layers cannot take (e.g. a mode whose keys differ from the built one).
    """
    for name, family, branch in _layers(model):
        if family == "ivmcl-release":
            if "use_rsd" in options:
                branch.use_rsd = bool(options["use_rsd"])
            if "use_maxpool" in options:
                branch.use_maxpool = bool(options["use_maxpool"]) and not branch.use_rsd
            if "act_cfg" in options:
                value = options["act_cfg"]
                branch.attention[-1] = build_attn_activation(value if isinstance(value, Mapping) else {"type": value})
            continue
        if "attention_mode" not in options:
            continue
        mode = options["attention_mode"]
        layout = _family1_layout(branch)
        current = [m for m, known in MODE_LAYOUT.items() if known == layout]
        group = next((g for g in _SAME_KEYS if current and current[0] in g), ())
        if current and mode == current[0]:
            continue
        if mode not in group:
            built = "/".join(map(str, group or current)) or "unknown"
            raise ValueError(f"{name} holds an attention branch of mode {built}, not of mode {mode}")
        branch.attention[-1] = ACTIVATIONS[_ACTIVATION_OF_MODE[mode]]()
        if hasattr(branch, "attention_mode"):
            branch.attention_mode = mode
