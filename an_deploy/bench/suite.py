"""Time a list of rows (runners made lazily) on one input and collect :class:`BenchResult` s.

A row whose backend is not available here (no TensorRT, no CUDA) is ``skipped`` with the reason; a row that
raises while building or running is ``failed`` with the error, and the others still run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from an_deploy.bench.report import BenchResult
from an_deploy.bench.timing import LatencyStats, time_call
from an_deploy.runtime.base import Runner
from an_deploy.trt.availability import TensorRTUnavailable

Log = Callable[[str], None]


class RowUnavailable(Exception):
    """A row cannot run on this machine (missing backend or device): reported as skipped, not failed."""


@dataclass(frozen=True)
class Row:
    name: str
    device: str  # "cpu" or "cuda": picks the timer
    make: Callable[[], Runner]  # raises RowUnavailable / TensorRTUnavailable when it cannot run here


def measure(
    rows: list[Row],
    x: torch.Tensor,
    warmup: int = 10,
    iters: int = 100,
    min_seconds: float = 0.0,
    log: Log | None = None,
) -> list[BenchResult]:
    """Build each row's runner and time ``runner.run`` on ``x`` (moved to the row's device once, untimed)."""
    results = []
    for row in rows:
        try:
            runner = row.make()
        except (RowUnavailable, TensorRTUnavailable) as e:
            results.append(BenchResult(row.name, row.device, "skipped", reason=str(e)))
            continue
        except Exception as e:  # reported in the row; the other rows still run
            results.append(BenchResult(row.name, row.device, "failed", reason=f"{type(e).__name__}: {e}"))
            continue
        xin = x.to(row.device)
        if log:
            log(f"timing {row.name} ({warmup} warm-up, >= {iters} calls)")
        try:
            with torch.inference_mode():
                samples, timer = time_call(lambda r=runner, i=xin: r.run(i), row.device, warmup, iters, min_seconds)
        except Exception as e:  # reported in the row
            results.append(BenchResult(row.name, row.device, "failed", reason=f"{type(e).__name__}: {e}"))
            continue
        stats = LatencyStats.from_samples(samples, batch=int(x.shape[0]))
        results.append(BenchResult(row.name, row.device, "ok", timer=timer, stats=stats))
    return results
