"""The ``--json`` output of ``archs``, ``inspect``, ``eval`` and ``export``: one small, stable schema.

Every record is ``{"schema_version": 1, "tool": {"name", "version"}, "command": NAME, "result": {...}}``;
``result`` holds plain numbers and strings (documented per function). Keys are only ever added.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from an_deploy.export.metadata import an_layer_options
from an_deploy.models.registry import ARCHS
from an_deploy.report_schema import tool_info
from an_deploy.weights_check import nonfinite_tensors

if TYPE_CHECKING:
    from an_deploy.checkpoint import LoadedModel
    from an_deploy.export.pipeline import ExportSummary
    from an_deploy.summary import EvalResult

SCHEMA_VERSION = 1


def record(command: str, result: Any) -> dict[str, Any]:
    """Wrap a command's result in the common envelope."""
    return {"schema_version": SCHEMA_VERSION, "tool": tool_info(), "command": command, "result": result}


def archs_record() -> dict[str, Any]:
    """``result``: ``{"archs": [{"name", "input_shape": [N, C, H, W], "description"}, ...]}``."""
    archs = [{"name": a.name, "input_shape": list(a.input_shape), "description": a.description}
             for a in ARCHS.values()]
    return record("archs", {"archs": archs})


def inspect_record(loaded: LoadedModel) -> dict[str, Any]:
    """``result``: path, arch, parameters, num_classes, an_layers (options per layer, see
    ``an_deploy.export.metadata.an_layer_options``) and nonfinite (tensors with NaN/Inf: name, nan, inf, numel)."""
    model = loaded.model
    return record("inspect", {
        "path": str(loaded.path),
        "arch": loaded.arch,
        "parameters": sum(p.numel() for p in model.parameters()),
        "num_classes": loaded.num_classes,
        "an_layers": an_layer_options(model),
        "nonfinite": [asdict(b) for b in nonfinite_tensors(model)],
    })


def eval_record(result: EvalResult, path: Path) -> dict[str, Any]:
    """``result``: path, arch, accuracy (0..1), correct, total."""
    return record("eval", {"path": str(path), "arch": result.arch, "accuracy": result.accuracy,
                           "correct": result.correct, "total": result.total})


def export_record(summary: ExportSummary) -> dict[str, Any]:
    """``result``: path, arch, form, opset, input_shape, dynamic_batch, an_layers, an_nodes, options_source,
    export_seconds and validation (null when skipped; else rule, batch_sizes, max_abs, max_rel, torch_error,
    worst_ratio (error / bound, at most 1), top1_agreement or null, passed)."""
    v = summary.validation
    validation = None if v is None else {
        "rule": v.rule, "batch_sizes": list(v.batch_sizes), "max_abs": v.max_abs, "max_rel": v.max_rel,
        "torch_error": v.torch_error, "worst_ratio": v.worst_ratio, "top1_agreement": v.top1_agreement,
        "passed": True,
    }
    return record("export", {
        "path": str(summary.path),
        "arch": summary.arch,
        "form": summary.form,
        "opset": summary.opset,
        "input_shape": list(summary.input_shape),
        "dynamic_batch": summary.dynamic_batch,
        "an_layers": summary.an_layers,
        "an_nodes": summary.an_nodes,
        "options_source": summary.options_source,
        "exporter": summary.exporter,
        "export_seconds": round(summary.export_seconds, 3),
        "validation": validation,
    })
