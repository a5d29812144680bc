"""Give a model realistic, non-trivial weights and statistics (no checkpoint can be downloaded here).

Running means/variances become random and far from 0/1, affine weights move away from their init, and
every AN mixture gets distinct K affines, so that parity tests exercise every term of the math.

For a deep network, random running statistics do not match the activations they normalise, so the signal
grows layer after layer (AN-ResNet-50 logits reach 1e8). ``calibrated_`` then measures the statistics on a
batch, as training would have, so a whole model keeps activations of the trained kind (logits ~ 1-10).
"""

from __future__ import annotations

import torch
from torch import nn

from an_deploy.models.attentive_norm import is_attentive_norm


@torch.no_grad()
def realistic_(model: nn.Module, seed: int = 0) -> nn.Module:
    """Randomise ``model`` in place (deterministically for a seed) and return it in eval mode."""
    gen = torch.Generator().manual_seed(seed)

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=gen)

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen)

    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.running_mean is not None:
            c = module.num_features
            module.running_mean.copy_(0.5 * randn(c))
            module.running_var.copy_(0.5 + 1.5 * rand(c))
            module.num_batches_tracked.fill_(1000)  # type: ignore[union-attr]
            if module.affine:
                module.weight.copy_(0.6 + 0.8 * rand(c))
                module.bias.copy_(0.2 * randn(c))
        elif isinstance(module, nn.GroupNorm) and module.affine:
            module.weight.copy_(0.6 + 0.8 * rand(module.num_channels))
            module.bias.copy_(0.3 * randn(module.num_channels))
        elif isinstance(module, (nn.Conv2d, nn.Linear)):
            fan_in = module.weight[0].numel()
            module.weight.copy_(randn(*module.weight.shape) * (1.4 / fan_in) ** 0.5)
            if module.bias is not None:
                module.bias.copy_(0.1 * randn(*module.bias.shape))
        if is_attentive_norm(module):
            k, c = module.weight_.shape
            module.weight_.copy_(0.8 + 0.4 * rand(k, c))
            module.bias_.copy_(0.2 * randn(k, c))
    return model.eval()


@torch.no_grad()
def calibrated_(model: nn.Module, x: torch.Tensor, seed: int = 0) -> nn.Module:
    """``realistic_`` weights, then every batch norm's running statistics measured on ``x``; eval mode.

    The statistics are the cumulative average over ``x`` (momentum None), taken layer by layer in one
    forward pass in training mode, so each layer's statistics are those of the already-calibrated layers
    before it.
    """
    realistic_(model, seed=seed)
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    model(x)
    for m, momentum in zip(norms, saved, strict=True):
        m.momentum = momentum
    return model.eval()
