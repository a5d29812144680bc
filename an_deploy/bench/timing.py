"""Timers and latency statistics.

CPU: ``time.perf_counter`` around each call. GPU: a pair of CUDA events around each call on the current
stream, read after the call finishes, so host overhead between calls is not counted but launch overhead
inside a call is. Both warm up first and then time ``iters`` calls (and keep going until ``min_seconds``
have passed, so fast models get more samples).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

CPU_TIMER = "perf_counter"
GPU_TIMER = "cuda-events"


@dataclass(frozen=True)
class LatencyStats:
    """Per-call latency in milliseconds; throughput in samples per second at the median."""

    iterations: int
    mean_ms: float
    std_ms: float
    min_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    throughput: float
    batch: int

    @classmethod
    def from_samples(cls, samples_ms: list[float], batch: int) -> LatencyStats:
        """Statistics of raw per-call times.

        Raises:
            ValueError: no samples, or a negative or non-finite time.
        """
        a = np.asarray(samples_ms, dtype=np.float64)
        if a.size == 0 or not np.all(np.isfinite(a)) or np.any(a < 0):
            raise ValueError("latency samples must be a non-empty list of finite non-negative times")
        p50, p90, p99 = (float(v) for v in np.percentile(a, [50, 90, 99]))
        return cls(
            iterations=int(a.size),
            mean_ms=float(a.mean()),
            std_ms=float(a.std()),
            min_ms=float(a.min()),
            p50_ms=p50,
            p90_ms=p90,
            p99_ms=p99,
            max_ms=float(a.max()),
            throughput=batch / (p50 / 1e3) if p50 > 0 else float("inf"),
            batch=batch,
        )


def time_cpu(fn: Callable[[], object], warmup: int, iters: int, min_seconds: float = 0.0) -> list[float]:
    """Per-call wall times (ms) of ``fn`` with ``perf_counter`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    start_all = time.perf_counter()
    while len(samples) < iters or time.perf_counter() - start_all < min_seconds:
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return samples


def time_cuda(fn: Callable[[], object], warmup: int, iters: int, min_seconds: float = 0.0) -> list[float]:
    """Per-call GPU times (ms) of ``fn`` with CUDA events on the current stream, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    samples: list[float] = []
    start_all = time.perf_counter()
    while len(samples) < iters or time.perf_counter() - start_all < min_seconds:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        samples.append(float(start.elapsed_time(end)))
    return samples


def time_call(
    fn: Callable[[], object], device: str, warmup: int, iters: int, min_seconds: float = 0.0
) -> tuple[list[float], str]:
    """Time ``fn`` with the timer that fits ``device`` ("cpu" or "cuda"); returns the samples and the timer name."""
    if device == "cuda":
        return time_cuda(fn, warmup, iters, min_seconds), GPU_TIMER
    return time_cpu(fn, warmup, iters, min_seconds), CPU_TIMER
