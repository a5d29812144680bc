"""What every benchmark script shares: where results go, how they are written, the environment they name,
sample statistics, device names as file names, and the loop that times several candidates taking turns.

The scripts run as ``python benchmarks/<script>.py``, so this folder is first on ``sys.path`` and they import
this module as ``common``; tests that load a script by path get the same by the script's own ``sys.path`` line.

Statistics: every percentile (median, p10, p90) is the linear interpolation between the two nearest ranks, the
definition ``numpy.percentile`` uses by default and ``an_deploy.bench.timing.LatencyStats`` reports.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from an_deploy.errors import UserError
from an_deploy.files import check_output_file, staged_outputs
from an_deploy.report_schema import environment as library_environment
from an_deploy.report_schema import hardware_line, tool_info

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"

T = TypeVar("T")


def run_script(main: Callable[[], int | None]) -> int:
    """A script's entry point: ``main()``'s exit status (0 for None); a problem the user can fix (an
    ``an_deploy.errors.UserError``: a missing backend, an unwritable output) is one ``error: ...`` line on stderr
    and status 1. Anything else is a bug and keeps its traceback."""
    try:
        return main() or 0
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def document(schema_version: int, env: dict[str, Any], **body: Any) -> dict[str, Any]:
    """The top of a results file: schema version, tool, environment, then the script's own keys in order.

    Args:
        schema_version: the script's results schema (bumped when a key changes meaning).
        env: from :func:`environment`.
        body: the script's keys (config, results, summary ...).

    Returns:
        The JSON-ready dict.
    """
    return {"schema_version": schema_version, "tool": tool_info(), "environment": env, **body}


def code_revision(repo: Path = REPO) -> str | None:
    """The commit the benchmark's code is at, ``+`` when tracked files other than results differ from it; None
    outside a git checkout."""
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, timeout=30)
        if head.returncode != 0:
            return None
        status = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no", "--", ".",
                                 ":(exclude)benchmarks/results"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return head.stdout.strip() + ("+" if status.stdout.strip() else "")


def environment(**extra: Any) -> dict[str, Any]:
    """The machine a benchmark ran on (Python, CPU, cores, torch threads, packages, CUDA, GPU, driver), the code's
    revision (:func:`code_revision`), plus the script's own entries (e.g. the machine's load average)."""
    return library_environment() | {"code_revision": code_revision()} | extra


def machine_line(env: dict[str, Any]) -> str:
    """One Markdown line naming the hardware, the code's revision and the package versions of an
    :func:`environment`."""
    packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)
    code = f"; code {env['code_revision']}" if env.get("code_revision") else ""
    known = {"torch_threads": "?", "driver": None} | env  # older results files lack some entries
    return f"Machine: {hardware_line(known)}{'' if env.get('gpu') else ', no GPU'}{code}; {packages}."


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``samples``, linearly interpolated between the nearest ranks.

    Raises:
        ValueError: no samples, or ``q`` outside 0..100.
    """
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile {q} is outside 0..100")
    xs = sorted(samples)
    position = (len(xs) - 1) * q / 100.0
    lo = math.floor(position)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (position - lo)


def median(samples: Sequence[float]) -> float:
    """The 50th :func:`percentile`."""
    return percentile(samples, 50.0)


def p10(samples: Sequence[float]) -> float:
    """The 10th :func:`percentile`."""
    return percentile(samples, 10.0)


def p90(samples: Sequence[float]) -> float:
    """The 90th :func:`percentile`."""
    return percentile(samples, 90.0)


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` of two times; ``nan`` when the denominator is not positive (nothing to compare)."""
    return numerator / denominator if denominator > 0 else math.nan


def device_slug(name: str) -> str:
    """A device name as part of a file name: ``NVIDIA H200`` -> ``NVIDIA_H200``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")


def write_results(stem: Path, data: dict[str, Any], markdown: str) -> tuple[Path, Path]:
    """Write ``stem.json`` (``data``, indented) and ``stem.md`` (``markdown``), creating the folder. Both targets are
    checked first, then both files are staged and renamed over the old ones together (``an_deploy.files``), so a
    reader never sees half a file, and an error or an interrupt leaves the old pair.

    Returns:
        The JSON and Markdown paths.

    Raises:
        an_deploy.files.OutputPathError: a target is a folder or cannot be written; neither file is then changed.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".md")
    for path in (json_path, md_path):
        check_output_file(path, what="benchmark result")
    with staged_outputs() as stage:
        stage.write_text(json_path, json.dumps(data, indent=2) + "\n")
        stage.write_text(md_path, markdown if markdown.endswith("\n") else markdown + "\n")
    return json_path, md_path


def wall_ms(fn: Callable[[], object]) -> Callable[[], float]:
    """A call of ``fn`` that returns its wall time in milliseconds (``time.perf_counter``)."""

    def timed() -> float:
        start = time.perf_counter()
        fn()
        return (time.perf_counter() - start) * 1e3

    return timed


def take_turns(calls: Mapping[str, Callable[[], T]], rounds: int, warmup: int = 0, alternate: bool = False,
               after: Callable[[str, int, T], None] | None = None) -> dict[str, list[T]]:
    """Call each candidate once per round, the candidates taking turns, so that drift in the machine's load or
    clocks hits all of them alike.

    Args:
        calls: name -> one measurement (a time, or a dict describing an attempt).
        rounds: measured rounds.
        warmup: rounds run first whose results are dropped.
        alternate: reverse the order every other round, so that no candidate always runs first.
        after: called as ``after(name, round, result)`` after each measured call (progress lines).

    Returns:
        name -> its ``rounds`` results, in round order.
    """
    results: dict[str, list[T]] = {name: [] for name in calls}
    names = list(calls)
    for r in range(warmup + rounds):
        for name in reversed(names) if alternate and r % 2 else names:
            result = calls[name]()
            if r >= warmup:
                results[name].append(result)
                if after is not None:
                    after(name, r - warmup, result)
    return results
