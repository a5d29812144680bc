"""Load AN checkpoints: safe unpickling, wrapper and ``module.`` stripping, architecture inference.

Only ``torch.load(..., weights_only=True)`` is used: a pickle that would run code is refused.
"""

from __future__ import annotations

import pickle
import re
import struct
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from an_deploy.errors import UserError
from an_deploy.models.registry import ARCHS, get_arch

WRAPPER_KEYS = ("state_dict", "model", "model_state", "model_state_dict", "net")
_MAX_LISTED = 8


class CheckpointError(UserError):
    """A user-facing problem with a checkpoint file (the message is one readable paragraph)."""


@dataclass
class LoadedModel:
    model: nn.Module
    arch: str
    num_classes: int
    path: Path
    metadata: dict[str, Any]


def _first_line(e: BaseException) -> str:
    """The first line of an exception's message (its type name when the message is empty)."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _unpickler_detail(e: BaseException) -> str:
    """What torch's weights-only unpickler objected to ("Unsupported global: GLOBAL posix.system ..."), without
    the advice around it to retry with weights_only=False."""
    lines = [line.strip() for line in str(e).splitlines()[1:] if line.strip()]
    text = " ".join(line for line in lines if not line.startswith("Check the documentation"))
    detail = re.sub(r"^Please file an issue.*?WeightsUnpickler error:\s*", "", text) or _first_line(e)
    return detail if len(detail) <= 200 else detail[:197] + "..."


def _read(path: Path) -> Any:
    if not path.exists():
        raise CheckpointError(f"checkpoint not found: {path}")
    if not path.is_file():
        raise CheckpointError(f"checkpoint is not a file: {path}")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before it rejects the file anyway
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"refusing to load {path}: not a plain-tensor PyTorch checkpoint (the weights-only unpickler rejected "
            f"it: {_unpickler_detail(e)}; a pickle is never allowed to run code)"
        ) from None
    # garbage bytes fail inside the weights-only unpickler with low-level errors, not UnpicklingError
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError, struct.error, IndexError, KeyError) as e:
        first = _first_line(e)
        raise CheckpointError(f"{path} is not a readable PyTorch checkpoint (corrupt or truncated?): {first}") from None


def extract_state_dict(obj: Any) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Unwrap ``{"state_dict": ...}``-style containers and strip a DataParallel ``module.`` prefix.

    Returns:
        The state dict and the wrapper's other plain entries (for example ``arch``).

    Raises:
        CheckpointError: the object holds no state dict of tensors.
    """
    meta: dict[str, Any] = {}
    if isinstance(obj, Mapping):
        for key in WRAPPER_KEYS:
            if isinstance(obj.get(key), Mapping):
                meta = {k: v for k, v in obj.items() if k != key and not isinstance(v, (Mapping, torch.Tensor))}
                obj = obj[key]
                break
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointError("the file holds no state dict (expected a mapping of parameter names to tensors)")
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"the state dict has {len(bad)} non-tensor entries, e.g. {bad[0]!r}")
    sd = dict(obj)
    if all(k.startswith("module.") for k in sd):
        sd = {k[len("module."):]: v for k, v in sd.items()}
    return sd, meta


def read_state_dict(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint file into a plain state dict (wrappers and prefixes removed) and its other entries.

    Raises:
        CheckpointError: missing, unreadable, corrupt or hostile file, or no state dict in it.
    """
    return extract_state_dict(_read(Path(path)))


def _classifier_key(model: nn.Module) -> str:
    last = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    return f"{last}.weight"


def _build(arch: str, sd: Mapping[str, torch.Tensor], device: str | torch.device = "cpu") -> tuple[nn.Module, int]:
    builder = get_arch(arch).builder
    with torch.device("meta"):
        probe = builder()
    key = _classifier_key(probe)
    num_classes = int(sd[key].shape[0]) if key in sd and sd[key].dim() == 2 else probe.state_dict()[key].shape[0]
    with torch.device(device):
        return builder(num_classes=num_classes), num_classes


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


def infer_arch(sd: Mapping[str, torch.Tensor]) -> str:
    """The registered architecture whose state-dict keys and shapes match ``sd`` exactly.

    Raises:
        CheckpointError: none matches (the message names the closest one and what differs).
    """
    scored: list[tuple[int, str, list[str]]] = []
    for name in ARCHS:
        model, _ = _build(name, sd, device="meta")
        problems = state_dict_mismatch(model, sd)
        if not problems:
            return name
        overlap = len(set(model.state_dict()) & set(sd))
        scored.append((overlap, name, problems))
    overlap, name, problems = max(scored)
    raise CheckpointError(
        "could not infer the architecture from the checkpoint keys; pass --arch. "
        f"Closest: {name} ({overlap} of {len(sd)} keys shared; " + "; ".join(problems) + ")"
    )


def load_model(path: str | Path, arch: str | None = None) -> LoadedModel:
    """Load a checkpoint into an eval-mode model.

    Args:
        path: a ``.pth``/``.pt`` file (a bare state dict or one wrapped under ``state_dict``/``model``).
        arch: registry name; inferred from the file (its ``arch`` entry, else its keys) when omitted.

    Returns:
        The model (eval mode, float32, CPU) with its architecture name and class count.

    Raises:
        CheckpointError: missing/corrupt/hostile file, unknown architecture or a key/shape mismatch.
    """
    path = Path(path)
    sd, meta = read_state_dict(path)
    if arch is None:
        stored = meta.get("arch")
        arch = stored if isinstance(stored, str) and stored in ARCHS else infer_arch(sd)
    elif arch not in ARCHS:
        raise CheckpointError(f"unknown architecture {arch!r}; known: {', '.join(sorted(ARCHS))}")
    model, num_classes = _build(arch, sd)
    problems = state_dict_mismatch(model, sd)
    if problems:
        raise CheckpointError(f"{path} does not fit architecture {arch}: " + "; ".join(problems))
    model.load_state_dict(sd, strict=True)
    model.eval()
    return LoadedModel(model=model, arch=arch, num_classes=num_classes, path=path, metadata=meta)
