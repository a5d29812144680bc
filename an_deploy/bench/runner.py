"""``an-deploy bench`` as a function: load (or make) the model, export it in function form, time every row."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from an_deploy.accuracy.inputs import realistic_inputs
from an_deploy.bench.report import BenchConfig, BenchReport, Environment, write_report
from an_deploy.bench.rows import default_rows
from an_deploy.bench.suite import measure
from an_deploy.checkpoint import load_model
from an_deploy.errors import UserError
from an_deploy.export.torch_export import export_model
from an_deploy.files import check_output_dir
from an_deploy.models.model_config import ModelConfig
from an_deploy.models.randomize import calibrated_
from an_deploy.models.registry import get_arch
from an_deploy.resources import check_memory
from an_deploy.trt.availability import Backend
from an_deploy.weights_check import finite_warning


def run_bench(
    checkpoint: Path | None,
    arch: str | None,
    batch: int,
    iters: int,
    warmup: int,
    min_seconds: float,
    compile_row: bool,
    trt: bool,
    plugin: Path | None,
    out: Path,
    log: Callable[[str], None] = lambda _: None,
    warn: Callable[[str], None] = lambda _: None,
    config: ModelConfig | None = None,
    assume_published: bool = False,
    backend: Backend = Backend.AUTO,
) -> tuple[BenchReport, dict[str, Path]]:
    """Benchmark one model and write ``latency.{json,md,png}`` under ``out``.

    The checkpoint is loaded as :func:`an_deploy.checkpoint.load_model` does (``arch``, ``config``,
    ``assume_published``); ``backend`` chooses the TensorRT of the TensorRT rows.

    Every check that can fail (options, report folder, checkpoint, memory for the batch) runs before the
    first timed row. The report's input shape and batch are those of the tensor actually timed.

    Raises:
        UserError: bad checkpoint or options, an unwritable report folder, or a batch too large for memory.
    """
    if batch < 1 or iters < 1 or warmup < 0 or min_seconds < 0:
        raise UserError("--batch and --iters must be >= 1, --warmup and --min-seconds >= 0")
    check_output_dir(out, inputs=[checkpoint, plugin], what="--out folder")
    if checkpoint is None:
        name = arch or "an_resnet_demo"
        try:
            entry = get_arch(name)
        except KeyError as e:
            raise UserError(str(e.args[0])) from None
        calibration = realistic_inputs((8, *entry.input_shape[1:]), 8, seed=1)
        model = calibrated_(entry.builder(), calibration, seed=0)
        label = f"{name} (random realistic weights, batch statistics calibrated)"
        input_shape = entry.input_shape
    else:
        loaded = load_model(checkpoint, arch, config=config, assume_published=assume_published)
        model, name, label = loaded.model.eval(), loaded.arch, f"{loaded.arch} ({checkpoint.name})"
        input_shape = loaded.input_shape
    warning = finite_warning(model, str(checkpoint) if checkpoint is not None else label)
    if warning is not None:
        warn(warning)
    shape = (batch, *input_shape[1:])
    check_memory(model, shape, "bench", "--batch")
    log(f"exporting {label} in function form")
    function = export_model(model, (1, *shape[1:]), form="function").model
    x = realistic_inputs(shape, batch)
    if x.shape[0] < batch:  # the demo's held-out digits are fewer than the batch: repeat them
        x = x.repeat(-(-batch // x.shape[0]), 1, 1, 1)[:batch].contiguous()
    shape = tuple(x.shape)
    with tempfile.TemporaryDirectory(prefix="an-deploy-bench-") as work:
        rows = default_rows(model, function, shape, Path(work), compile_row, trt, plugin, backend=backend)
        results = measure(rows, x, warmup=warmup, iters=iters, min_seconds=min_seconds, log=log)
    config = BenchConfig(label, list(shape), warmup, iters, min_seconds, [r.name for r in rows])
    report = BenchReport(config, Environment.collect(), results)
    report.notes.append("inputs are moved to each row's device before timing; outputs stay on it")
    if warning is not None:
        report.notes.append(warning)
    for row in report.summary["unstable_rows"]:
        warn(next(n for n in report.notes if n.startswith(f"unstable timing in {row}:")))
    return report, write_report(report, out)
