"""Train the demo AN-ResNet and its BN twin on scikit-learn's digits (reproducible, CPU, a few minutes).

Run: ``python scripts/train_demo.py`` (writes ``models/demo/*.pt`` and ``models/demo/demo_metrics.json``).
The checkpoints are written by :func:`an_deploy.checkpoint_file.save_checkpoint`, so they name their architecture
and attention options and load with no flags; the metrics file records each state dict's digest.
"""

from __future__ import annotations

import json
import time

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

from an_deploy.checkpoint_file import save_checkpoint, state_dict_digest
from an_deploy.models.digits import (
    DEMO_BN_CHECKPOINT,
    DEMO_CHECKPOINT,
    DEMO_DIR,
    HELDOUT_PATH,
    preprocess,
    split_indices,
)
from an_deploy.models.registry import get_arch

EPOCHS = 10
BATCH = 128
SEED = 1234


def _load_digits() -> tuple[torch.Tensor, torch.Tensor]:
    digits = load_digits()
    return torch.tensor(digits.data, dtype=torch.uint8), torch.tensor(digits.target, dtype=torch.int64)


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random shifts of up to one pixel (16x16 space)."""
    dx, dy = (int(v) for v in torch.randint(-1, 2, (2,), generator=gen))
    return torch.roll(x, shifts=(dy, dx), dims=(2, 3))


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def train(arch: str, x: torch.Tensor, y: torch.Tensor) -> nn.Module:
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    model = get_arch(arch).builder()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=EPOCHS * ((len(x) + BATCH - 1) // BATCH))
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in range(0, len(x), BATCH):
            idx = perm[i:i + BATCH]
            loss = F.cross_entropy(model(_augment(x[idx], gen)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        print(f"  {arch} epoch {epoch + 1}/{EPOCHS} loss {total / len(x):.4f}", flush=True)
    return model.eval()


def main() -> None:
    torch.set_num_threads(1)  # tiny model: threads only add barrier waits on a busy 2-core machine
    pixels, labels = _load_digits()
    train_idx, held_idx = split_indices(len(labels))
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    torch.save({"pixels": pixels[held_idx].clone(), "labels": labels[held_idx].clone()}, HELDOUT_PATH)
    x_train, y_train = preprocess(pixels[train_idx]), labels[train_idx]
    x_held, y_held = preprocess(pixels[held_idx]), labels[held_idx]
    metrics = {"data": "sklearn load_digits, 8x8 -> 16x16", "train_size": len(train_idx),
               "heldout_size": len(held_idx), "epochs": EPOCHS, "seed": SEED, "models": {}}
    for arch, path in (("an_resnet_demo", DEMO_CHECKPOINT), ("resnet_demo", DEMO_BN_CHECKPOINT)):
        start = time.perf_counter()
        model = train(arch, x_train, y_train)
        acc = accuracy(model, x_held, y_held)
        seconds = time.perf_counter() - start
        print(f"{arch}: held-out accuracy {acc:.4f} ({seconds:.0f} s)")
        save_checkpoint(model, path, arch)
        metrics["models"][arch] = {"heldout_accuracy": round(acc, 4), "train_seconds": round(seconds, 1),
                                   "state_dict_sha256": state_dict_digest(model.state_dict())}
    (DEMO_DIR / "demo_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")


if __name__ == "__main__":
    main()
