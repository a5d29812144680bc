"""Find Attentive Normalization layers in any module tree by their structure, not by their class.

A module is an AN layer when it has

* ``weight_`` and ``bias_`` parameters of the same shape [K, C] (the K mixed affines),
* an attention child named ``attention_weights`` or ``attn_weights`` that holds an ``attention``
  ``nn.Sequential`` (the branch computing the K mixture weights), and
* a normaliser: it is a BatchNorm (a ``_BatchNorm`` subclass, whose running statistics normalise) or it
  carries an integer ``num_groups`` (a GroupNorm-style layer).

That covers this project's classes and the authors' own (``MixtureBatchNorm2d``/``MixtureGroupNorm`` of the
ImageNet code, ``AttnBatchNorm2d``/``AttnGroupNorm`` of the refactored release) without importing or naming
them, so a user's own module tree exports as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

ATTENTION_CHILDREN = ("attention_weights", "attn_weights")


@dataclass(frozen=True)
class ANLayerParts:
    """The parts of one AN layer that folding reads."""

    branch: nn.Module  # the attention child
    attention: nn.Sequential  # branch.attention
    norm: str  # "batch" or "group"


def an_layer_parts(module: nn.Module) -> ANLayerParts | None:
    """The parts of ``module`` if it is an AN layer by structure, else ``None``.

    Args:
        module: any module.

    Returns:
        The attention branch, its sequence and the normaliser kind, or ``None`` when ``module`` lacks one of them.
    """
    weight, bias = getattr(module, "weight_", None), getattr(module, "bias_", None)
    if not isinstance(weight, nn.Parameter) or not isinstance(bias, nn.Parameter):
        return None
    if weight.dim() != 2 or weight.shape != bias.shape:
        return None
    branch = next((getattr(module, n) for n in ATTENTION_CHILDREN if isinstance(getattr(module, n, None), nn.Module)),
                  None)
    if branch is None or not isinstance(getattr(branch, "attention", None), nn.Sequential):
        return None
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        norm = "batch"
    elif isinstance(getattr(module, "num_groups", None), int):
        norm = "group"
    else:
        return None
    return ANLayerParts(branch=branch, attention=branch.attention, norm=norm)


def is_an_layer(module: nn.Module) -> bool:
    """True when ``module`` is an AN layer by structure (see the module docstring)."""
    return an_layer_parts(module) is not None


def find_an_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every AN layer of ``model`` with its qualified name, in module order (``""`` names ``model`` itself).

    Args:
        model: any module tree.

    Returns:
        ``(qualified_name, layer)`` pairs; nothing inside a found layer is searched again.
    """
    found: list[tuple[str, nn.Module]] = []
    for name, module in model.named_modules():
        if any(name == f or name.startswith(f + ".") if f else True for f, _ in found):
            continue
        if is_an_layer(module):
            found.append((name, module))
    return found
