"""Memory estimates checked before the expensive work, so an oversized batch is one clear error instead of a
process the kernel kills half-way (exit 137) after minutes of swapping.

The estimate: the bytes of every module output for one sample (a forward on the ``meta`` device, no real
memory), times the batch, times a per-task factor for the copies each task keeps alive at once (PyTorch's
activations, ONNX Runtime's arena, float64 reference outputs). It is deliberately coarse; a batch is refused
only when the estimate exceeds ``LIMIT_FRACTION`` of the memory available now.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import nn

from an_deploy.errors import UserError

GIB = 1024**3
LIMIT_FRACTION = 0.8
# copies of one forward's activations alive at once. Export: tracing at the example shape plus the validation
# run (measured on the demo, 2-core EPYC: 1.1 GB peak RSS at batch 2000 against 0.9 GB estimated activations).
# Parity keeps a float64 reference (2x the bytes) and two ORT sessions; bench runs one backend at a time.
TASK_FACTORS = {"export": 1.5, "parity": 5.0, "bench": 2.0}


class ResourceError(UserError):
    """The requested work would not fit in the available memory."""


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def available_memory() -> int | None:
    """Bytes this process can still allocate: MemAvailable, lowered by a cgroup limit when one is set."""
    avail = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    limit, used = _read_int("/sys/fs/cgroup/memory.max"), _read_int("/sys/fs/cgroup/memory.current")
    if limit is None:  # cgroup v1
        limit = _read_int("/sys/fs/cgroup/memory/memory.limit_in_bytes")
        used = _read_int("/sys/fs/cgroup/memory/memory.usage_in_bytes")
    if limit is not None and used is not None and limit < 1 << 60:
        avail = min(avail, limit - used) if avail is not None else limit - used
    return avail


def activation_bytes_per_sample(model: nn.Module, chw: tuple[int, ...]) -> int:
    """Bytes of every module's output for one float32 sample of shape ``chw``.

    Runs the forward on the ``meta`` device (shapes only); falls back to a real batch-1 forward on the CPU
    for a model that cannot run on ``meta``, and counts only the input when the model cannot take ``chw``.
    """
    total = 0

    def hook(_m: nn.Module, _i: object, out: object) -> None:
        nonlocal total
        if isinstance(out, torch.Tensor):
            total += out.numel() * 4

    def run(m: nn.Module, device: str) -> None:
        handles = [sub.register_forward_hook(hook) for sub in m.modules() if not list(sub.children())]
        try:
            with torch.no_grad():
                m(torch.zeros((1, *chw), device=device))
        finally:
            for h in handles:
                h.remove()

    try:
        run(copy.deepcopy(model).to("meta").eval(), "meta")
    except (RuntimeError, NotImplementedError, TypeError, ValueError):
        total = 0
        try:
            run(model.eval(), "cpu")
        except (RuntimeError, TypeError, ValueError):  # the model cannot take this input: the export says why
            total = 0
    return total + int(torch.Size(chw).numel()) * 4


def estimate_bytes(model: nn.Module, shape: tuple[int, ...], task: str) -> int:
    """Estimated peak bytes of ``task`` (``export``, ``parity`` or ``bench``) at input ``shape`` (N x C x H x W)."""
    return int(activation_bytes_per_sample(model, tuple(shape[1:])) * shape[0] * TASK_FACTORS[task])


def check_memory(model: nn.Module, shape: tuple[int, ...], task: str, option: str,
                 available: int | None = None) -> int:
    """Refuse a batch whose estimated memory exceeds what is available, before the work starts.

    Args:
        model: the model that will run.
        shape: the input N x C x H x W.
        task: ``export``, ``parity`` or ``bench``.
        option: the option that sets the batch, for the message (``--input-shape``, ``--batch``).
        available: bytes available (measured now when omitted; no check when it cannot be measured).

    Returns:
        The estimate in bytes.

    Raises:
        ResourceError: the estimate exceeds ``LIMIT_FRACTION`` of the available memory.
    """
    need = estimate_bytes(model, shape, task)
    avail = available if available is not None else available_memory()
    if avail is not None and need > LIMIT_FRACTION * avail:
        per_sample = need / shape[0]
        fits = max(int(LIMIT_FRACTION * avail / per_sample), 0)
        raise ResourceError(
            f"{task} at batch {shape[0]} (input {'x'.join(map(str, shape))}) needs about {need / GIB:.1f} GiB "
            f"(estimate), {avail / GIB:.1f} GiB is available; lower {option} to at most about {fits}"
        )
    return need
