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

from collections.abc import Callable
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


def replace_an_layers(model: nn.Module, make: Callable[[str, nn.Module], nn.Module]) -> list[str]:
    """Replace, in place, every AN layer of ``model`` (see :func:`find_an_layers`) by ``make(name, layer)``.

    This one swap serves the exporters (an export stand-in per layer) and the PyTorch op (a module calling
    ``torch.ops.an_deploy.attentive_norm``).

    Args:
        model: the module tree to change (pass a copy to keep the original).
        make: builds the replacement of one layer from its qualified name and the live layer.

    Returns:
        The qualified names of the replaced layers, in module order.

    Raises:
        ValueError: ``model`` is itself an AN layer (it has no parent to hold the replacement).
    """
    layers = find_an_layers(model)
    if any(name == "" for name, _ in layers):
        raise ValueError("the model is a single AN layer; wrap it in a container module")
    for name, layer in layers:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, make(name, layer))
    return [name for name, _ in layers]
