"""Load AN checkpoints into eval-mode models without guessing anything the file does not say.

Files are read with a restricted unpickler (:mod:`an_deploy.safe_unpickle`), unwrapped and converted to float32
(:mod:`an_deploy.checkpoint_file`). The model comes from a training config, from the architecture name the user
passes, from our own checkpoint metadata, or from the registry architecture whose keys match; the file's own
``arch`` entry is only a hint (the authors' AOGNet-v2 code writes ``'resnet50'`` for AN-ResNet-50). Options the keys
cannot show (attention modes 2/5/6 and 0/4, ``use_rsd``/``use_maxpool``) must come from a config, our metadata or an
explicit ``assume_published``; every option that changes the numbers is recorded with where it came from.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from an_deploy.an_options import PUBLISHED, Ambiguity, apply_options, key_ambiguities, live_options
from an_deploy.checkpoint_file import (
    METADATA_KEY,
    WRAPPER_KEYS,
    CheckpointContents,
    CheckpointError,
    describe_keys,
    extract_state_dict,
    read_checkpoint,
    read_state_dict,
    save_checkpoint,
)
from an_deploy.models.model_config import ModelConfig, OptionSource
from an_deploy.models.registry import ARCHS, get_arch

__all__ = [
    "WRAPPER_KEYS", "CheckpointError", "LoadedModel", "OptionSource", "extract_state_dict", "infer_arch",
    "load_model", "read_checkpoint", "read_state_dict", "save_checkpoint", "state_dict_mismatch",
]

_MAX_LISTED = 8
ASSUMED = "assumed: published setting"
FROM_METADATA = f"checkpoint metadata ({METADATA_KEY})"
FROM_KEYS = "checkpoint keys"
FIX_AMBIGUITY = ("pass --config <training config>, --model-def, or --assume-published to take the authors' "
                 "published setting")


@dataclass
class LoadedModel:
    """A loaded eval-mode model and what it was built from.

    Attributes:
        model: the module (eval mode, float32, CPU).
        arch: registry name, or the config's model name when built from a config.
        num_classes: classifier outputs.
        path: the checkpoint file.
        input_shape: the example input N x C x H x W the model takes (the registry's or the config's).
        metadata: the checkpoint wrapper's other plain entries (``epoch``, ``arch``...).
        options: every option that changes the numbers: value and where it came from.
        layout: where the weights were in the file and what was converted (one line).
    """

    model: nn.Module
    arch: str
    num_classes: int
    path: Path
    input_shape: tuple[int, int, int, int]
    metadata: dict[str, Any]
    options: dict[str, OptionSource] = field(default_factory=dict)
    layout: str = ""


def _classifier_key(model: nn.Module) -> str:
    last = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    return f"{last}.weight"


def _build_with_classes(builder: Callable[[int], nn.Module], default_classes: int,
                        sd: Mapping[str, torch.Tensor], device: str | torch.device = "cpu") -> tuple[nn.Module, int]:
    with torch.device("meta"):
        probe = builder(default_classes)
    key = _classifier_key(probe)
    num_classes = int(sd[key].shape[0]) if key in sd and sd[key].dim() == 2 else probe.state_dict()[key].shape[0]
    if torch.device(device).type == "meta" and num_classes == default_classes:
        return probe, num_classes
    with torch.device(device):
        return builder(num_classes), num_classes


def _build(arch: str, sd: Mapping[str, torch.Tensor], device: str | torch.device = "cpu") -> tuple[nn.Module, int]:
    builder = get_arch(arch).builder
    return _build_with_classes(lambda n: builder(num_classes=n), 1000, sd, device)


def _listing(title: str, items: list[str]) -> str:
    more = f" (+{len(items) - _MAX_LISTED} more)" if len(items) > _MAX_LISTED else ""
    return f"{len(items)} {title}: {', '.join(items[:_MAX_LISTED])}{more}"


def state_dict_mismatch(model: nn.Module, sd: Mapping[str, torch.Tensor]) -> list[str]:
    """Missing keys, unexpected keys and shape mismatches, each as one readable line (empty if none)."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(sd))
    unexpected = sorted(set(sd) - set(expected))
    shapes = [
        f"{k} {tuple(sd[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in sorted(set(sd) & set(expected))
        if tuple(sd[k].shape) != tuple(expected[k].shape)
    ]
    out = []
    if missing:
        out.append(_listing("missing keys", missing))
    if unexpected:
        out.append(_listing("unexpected keys", unexpected))
    if shapes:
        out.append(_listing("shape mismatches", shapes))
    return out


def _fits(arch: str, sd: Mapping[str, torch.Tensor]) -> bool:
    model, _ = _build(arch, sd, device="meta")
    return not state_dict_mismatch(model, sd)


def infer_arch(sd: Mapping[str, torch.Tensor], prefix: str = "") -> str:
    """The one registered architecture whose state-dict keys and shapes match ``sd`` exactly.

    Args:
        sd: the state dict (prefixes already stripped).
        prefix: the prefix that was stripped, named in the error message.

    Raises:
        CheckpointError: none matches (the message says what the keys look like and the closest architecture), or
            several match.
    """
    scored: list[tuple[int, str, list[str]]] = []
    for name in ARCHS:
        model, _ = _build(name, sd, device="meta")
        problems = state_dict_mismatch(model, sd)
        scored.append((len(set(model.state_dict()) & set(sd)), name, problems))
    exact = [name for _, name, problems in scored if not problems]
    if len(exact) == 1:
        return exact[0]
    if exact:
        raise CheckpointError(f"the checkpoint keys fit several architectures ({', '.join(exact)}); pass --arch "
                              "or --config")
    overlap, name, problems = max(scored)
    if overlap == len(sd) == len(_build(name, sd, device="meta")[0].state_dict()):
        raise CheckpointError(
            f"the checkpoint has the keys of {name} but not its shapes, so --arch cannot help ("
            + "; ".join(problems) + "); pass the model's training config with --config, or its code with --model-def"
        )
    raise CheckpointError(
        f"could not infer the architecture from the checkpoint keys; pass --arch or --config. "
        f"The {describe_keys(sorted(sd), prefix)}; closest: {name} ({overlap} of {len(sd)} keys shared; "
        + "; ".join(problems) + ")"
    )


def _choose_arch(contents: CheckpointContents, arch: str | None) -> tuple[str, str]:
    """(registry name, where it came from); hints from the file are used only when the keys fit them."""
    if arch is not None:
        if arch not in ARCHS:
            raise CheckpointError(f"unknown architecture {arch!r}; known: {', '.join(sorted(ARCHS))}")
        return arch, "--arch"
    hints = [(contents.an_deploy.get("arch"), FROM_METADATA), (contents.meta.get("arch"), "checkpoint 'arch' entry")]
    for hint, source in hints:
        if isinstance(hint, str) and hint in ARCHS and _fits(hint, contents.state_dict):
            return hint, source
    return infer_arch(contents.state_dict, contents.prefix), "inferred from the checkpoint keys"


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def _resolve_ambiguities(model: nn.Module, arch: str, contents: CheckpointContents, path: Path,
                         assume_published: bool) -> dict[str, OptionSource]:
    """Values for the options the keys cannot show: our metadata, else the published setting if allowed."""
    ambiguities: list[Ambiguity] = key_ambiguities(model)
    stored = contents.an_deploy.get("options", {}) if contents.an_deploy.get("arch") == arch else {}
    stored = stored if isinstance(stored, Mapping) else {}
    chosen: dict[str, OptionSource] = {}
    unresolved = []
    for amb in ambiguities:
        if amb.option in stored:
            chosen[amb.option] = OptionSource(stored[amb.option], FROM_METADATA)
        elif assume_published:
            chosen[amb.option] = OptionSource(PUBLISHED[amb.option], ASSUMED)
        else:
            unresolved.append(amb)
    if unresolved:
        raise CheckpointError(
            f"{path}: the keys of {arch} cannot show its " + ", nor its ".join(a.describe() for a in unresolved)
            + f"; {FIX_AMBIGUITY}"
        )
    try:
        apply_options(model, {name: o.value for name, o in chosen.items()})
    except ValueError as e:
        raise CheckpointError(f"{path}: the checkpoint metadata does not fit its keys: {e}") from None
    assumed = {name: o.value for name, o in chosen.items() if o.source == ASSUMED}
    if assumed:
        setting = ", ".join(f"{name}={value}" for name, value in assumed.items())
        _warn(f"{path}: its keys cannot show {', '.join(assumed)}; assuming the authors' published setting {setting} "
              "(pass --config <training config> to use the one it was trained with)")
    return chosen


def load_model(path: str | Path, arch: str | None = None, config: ModelConfig | None = None,
               assume_published: bool = False) -> LoadedModel:
    """Load a checkpoint into an eval-mode model, refusing to guess options the file does not hold.

    Args:
        path: a ``.pth``/``.pt``/``.pth.tar`` file (bare or wrapped state dict; apex, DDP and DataParallel
            prefixes; fp16/bf16/fp64 tensors; zip or legacy format).
        arch: registry name; when omitted, taken from our own metadata or the file's ``arch`` entry if the keys
            fit it, else inferred from the keys.
        config: a model read from its training config (``read_config``); builds the model and states its options.
        assume_published: for a model chosen by name whose keys cannot show an option, take the authors' published
            setting (printed as a warning and recorded in ``options``) instead of refusing.

    Returns:
        The model (eval mode, float32, CPU), its name, class count, the file's entries and the options used.

    Raises:
        CheckpointError: missing/corrupt/foreign file, unknown architecture, a key/shape mismatch, or an option the
            keys cannot show and nothing states.
    """
    path = Path(path)
    if arch is not None and config is not None:
        raise CheckpointError("pass either an architecture name or a config, not both")
    contents = read_checkpoint(path)
    sd = contents.state_dict
    if config is not None:
        model, num_classes = _build_with_classes(config.build, config.num_classes or 1000, sd)
        name = config.name
        options = {"config": OptionSource(str(config.path) if config.path else config.name, "--config")}
        options.update(config.options)
    else:
        name, arch_source = _choose_arch(contents, arch)
        model, num_classes = _build(name, sd)
        options = {"arch": OptionSource(name, arch_source)}
    problems = state_dict_mismatch(model, sd)
    if problems:
        raise CheckpointError(f"{path} does not fit {'config ' if config else 'architecture '}{name}: "
                              + "; ".join(problems))
    chosen = {} if config is not None else _resolve_ambiguities(model, name, contents, path, assume_published)
    built_by = f"built from config {config.name}" if config is not None else FROM_KEYS
    for option, value in live_options(model).items():
        options.setdefault(option, chosen.get(option) or OptionSource(value, built_by))
    options["num_classes"] = OptionSource(num_classes, FROM_KEYS)
    model.load_state_dict(sd, strict=True)
    model.eval()
    shape = config.input_shape if config is not None else get_arch(name).input_shape
    return LoadedModel(model=model, arch=name, num_classes=num_classes, path=path, input_shape=shape,
                       metadata=contents.meta, options=options, layout=contents.layout())
