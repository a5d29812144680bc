"""PyTorch side: the AttentiveNorm layers, the architectures that use them, and the demo checkpoints."""
