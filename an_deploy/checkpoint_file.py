"""Read and write checkpoint files: the restricted unpickler, wrappers, prefixes, dtypes and our own metadata.

Files written by the authors' training code load as they are: AOGNet-v2's ``model_best.pth.tar`` (fp16 tensors,
``module.network.`` keys, an apex loss scaler object under ``optimizer``, zip or legacy format), iVMCL-Release's
``model_best.pth`` (``state_dict``) and resume ``current.pth`` (``model``), plain and DataParallel state dicts.
"""

from __future__ import annotations

import hashlib
import struct
import warnings
import zipfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from an_deploy import safe_unpickle
from an_deploy.an_options import live_options
from an_deploy.errors import UserError, first_line

WRAPPER_KEYS = ("state_dict", "model", "model_state", "model_state_dict", "net")
PREFIXES = ("module.network.", "network.", "module.")  # apex FP16Model inside (apex) DDP, FP16Model alone, DDP
METADATA_KEY = "an_deploy"
METADATA_VERSION = 1
_PLAIN = (str, int, float, bool, type(None))


class CheckpointError(UserError):
    """A user-facing problem with a checkpoint file (the message is one readable line)."""


@dataclass
class CheckpointContents:
    """What a checkpoint file holds once unwrapped.

    Attributes:
        state_dict: parameter name -> float32 (or integer) tensor, wrapper and prefix removed.
        meta: the wrapper's other plain entries (``epoch``, ``arch``, ``best_prec1``...).
        wrapper_key: the entry the weights were under (``None`` for a bare state dict).
        prefix: the key prefix that was stripped (``""`` for none).
        converted: source dtype name -> number of tensors converted to float32.
        an_deploy: the metadata :func:`save_checkpoint` wrote (``{}`` for other files).
    """

    state_dict: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)
    wrapper_key: str | None = None
    prefix: str = ""
    converted: dict[str, int] = field(default_factory=dict)
    an_deploy: dict[str, Any] = field(default_factory=dict)

    def layout(self) -> str:
        """One line: where the weights were and what was converted."""
        parts = [f"under {self.wrapper_key!r}" if self.wrapper_key else "bare state dict"]
        if self.prefix:
            parts.append(f"prefix {self.prefix!r} stripped")
        parts += [f"{n} {dtype} tensors -> float32" for dtype, n in sorted(self.converted.items())]
        return ", ".join(parts)


def read_object(path: Path) -> Any:
    """Unpickle a checkpoint file with the restricted unpickler (foreign globals become inert placeholders).

    Raises:
        CheckpointError: missing, not a file, or not a readable PyTorch checkpoint.
    """
    if not path.exists():
        raise CheckpointError(f"checkpoint not found: {path}")
    if not path.is_file():
        raise CheckpointError(f"checkpoint is not a file: {path}")
    try:
        with warnings.catch_warnings():  # legacy files warn that a placeholder class has no source to compare
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=False, pickle_module=safe_unpickle)
    # garbage bytes fail inside the unpickler with low-level errors
    except (safe_unpickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError, TypeError,
            AttributeError, OSError, struct.error, IndexError, KeyError, ImportError) as e:
        raise CheckpointError(f"{path} is not a readable PyTorch checkpoint (corrupt or truncated?): "
                              f"{first_line(e)}") from None


def _foreign_message(obj: Any, where: str, expected: str = ", not a state dict") -> str | None:
    name = safe_unpickle.foreign_name(obj)
    if name is None:
        return None
    state = obj.__dict__.get("pickle_state") if isinstance(obj, safe_unpickle.ForeignObject) else None
    if isinstance(state, Mapping) and "_parameters" in state:
        return f"{where} is a pickled model object ({name}){expected}: save model.state_dict() in the code that " \
               "defines it"
    return (f"{where} is a pickled {name} object{expected}; loading it would need that code, which is never run "
            "(save the weights with model.state_dict())")


def _unwrap(obj: Any) -> tuple[Any, str | None, dict[str, Any]]:
    if isinstance(obj, Mapping):
        for key in WRAPPER_KEYS:
            inner = obj.get(key)
            if safe_unpickle.foreign_name(inner) is not None:
                raise CheckpointError(_foreign_message(inner, f"the checkpoint's {key!r} entry"))
            if isinstance(inner, Mapping):
                meta: dict[str, Any] = {k: v for k, v in obj.items()
                                        if k != key and isinstance(k, str) and isinstance(v, _PLAIN)}
                ours = obj.get(METADATA_KEY)
                if isinstance(ours, Mapping):
                    meta[METADATA_KEY] = dict(ours)
                return inner, key, meta
    return obj, None, {}


def common_prefix(keys: list[str]) -> str:
    """The longest of :data:`PREFIXES` that every key starts with (``""`` for none)."""
    for prefix in PREFIXES:
        if keys and all(k.startswith(prefix) for k in keys):
            return prefix
    return ""


def extract_state_dict(obj: Any) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Unwrap a checkpoint object into a float32 state dict without training-wrapper prefixes.

    Returns:
        The state dict and the wrapper's other plain entries (for example ``arch``).

    Raises:
        CheckpointError: the object holds no state dict of tensors (a pickled model, a foreign object...).
    """
    contents = unpack(obj)
    return contents.state_dict, contents.meta


def unpack(obj: Any) -> CheckpointContents:
    """Like :func:`extract_state_dict`, with the layout details (wrapper key, prefix, converted dtypes).

    Raises:
        CheckpointError: the object holds no state dict of tensors.
    """
    message = _foreign_message(obj, "the file")
    if message:
        raise CheckpointError(message)
    inner, wrapper_key, meta = _unwrap(obj)
    if not isinstance(inner, Mapping) or not inner:
        raise CheckpointError("the file holds no state dict (expected a mapping of parameter names to tensors)")
    for k, v in inner.items():
        message = _foreign_message(v, f"state-dict entry {k!r}", " where a tensor should be")
        if message:
            raise CheckpointError(message)
    bad = [k for k, v in inner.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"the state dict has {len(bad)} non-tensor entries, e.g. {bad[0]!r}")
    prefix = common_prefix(list(inner))
    converted: Counter[str] = Counter()
    sd: dict[str, torch.Tensor] = {}
    for k, v in inner.items():
        v = v.detach()
        if v.is_floating_point() and v.dtype != torch.float32:
            converted[str(v.dtype).removeprefix("torch.")] += 1
            v = v.float()
        sd[k[len(prefix):]] = v
    ours = meta.get(METADATA_KEY, {})
    return CheckpointContents(sd, meta, wrapper_key, prefix, dict(converted), ours if isinstance(ours, dict) else {})


def read_checkpoint(path: str | Path) -> CheckpointContents:
    """Read a checkpoint file into its state dict, plain entries and layout.

    Raises:
        CheckpointError: missing, unreadable or corrupt file, or no state dict of tensors in it.
    """
    path = Path(path)
    try:
        return unpack(read_object(path))
    except CheckpointError as e:
        text = str(e)
        raise CheckpointError(text if str(path) in text else f"{path}: {text}") from None


def read_state_dict(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint file into a plain float32 state dict (wrappers and prefixes removed) and its other entries.

    Raises:
        CheckpointError: missing, unreadable, corrupt file, or no state dict of tensors in it.
    """
    contents = read_checkpoint(path)
    return contents.state_dict, contents.meta


def save_checkpoint(model: nn.Module, path: str | Path, arch: str, options: Mapping[str, Any] | None = None) -> None:
    """Write ``{"state_dict": ..., "an_deploy": {"arch", "options"}}`` so the file says what model it holds.

    Args:
        model: the trained module (its ``state_dict()`` is saved as is).
        path: the file to write.
        arch: the registry name of the architecture.
        options: options the keys cannot show (e.g. ``{"attention_mode": 2}``), plain values only; those the
            model's AN layers use now (:func:`an_deploy.an_options.live_options`) are added when not given.

    Raises:
        ValueError: an option value is not a plain Python value.
    """
    options = {**{k: v for k, v in live_options(model).items() if isinstance(v, _PLAIN)}, **(options or {})}
    for name, value in options.items():
        if not isinstance(value, _PLAIN):
            raise ValueError(f"option {name!r} must be a plain value (str, int, float, bool, None), got {value!r}")
    meta = {"version": METADATA_VERSION, "arch": arch, "options": options}
    torch.save({"state_dict": model.state_dict(), METADATA_KEY: meta}, Path(path))


def describe_keys(keys: list[str], prefix: str = "") -> str:
    """What naming scheme a state dict's keys follow, for error messages (one clause)."""
    def example(fragment: str) -> str:
        return next(k for k in keys if fragment in k)

    if any(".AttnBN2d" in k for k in keys):
        seen = f"iVMCL-Release ResNetAN ({example('.AttnBN2d')}...)"
    elif any(".attn_weights.attention." in k for k in keys):
        seen = f"iVMCL-Release AttnBatchNorm2d/AttnGroupNorm layers ({example('.attn_weights.attention.')}...)"
    elif any("stage_" in k and "_block_" in k for k in keys):
        seen = f"AOGNet ({example('_block_')}...)"
    elif any(".attention_weights.attention." in k for k in keys):
        seen = f"AOGNet-v2 MixtureBatchNorm2d layers ({example('.attention_weights.attention.')}...)"
    else:
        firsts = sorted({k.split(".", 1)[0] for k in keys})
        seen = f"top-level names {', '.join(firsts[:6])}{' ...' if len(firsts) > 6 else ''}"
    return f"keys look like {seen}" + (f" after stripping {prefix!r}" if prefix else "")


def state_dict_digest(sd: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 over every entry's name, dtype, shape and bytes (sorted by name): equal digests, identical weights."""
    h = hashlib.sha256()
    for key in sorted(sd):
        t = sd[key].detach().contiguous().cpu()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()
