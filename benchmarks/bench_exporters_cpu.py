"""CPU benchmark (not a test): the two ONNX exporters side by side on AN-ResNet-50 and the demo model.

For each model, ``export_model`` (TorchScript-based, ``dynamo=False``) and ``export_dynamo`` (torch.export-based,
through the ``an_deploy::attentive_norm`` op) are run ``--rounds`` times, interleaved round by round so machine load
hits both alike; wall time with ``time.perf_counter`` (the first round of each includes the exporter's one-off
set-up in this process, reported separately as ``cold``). Each file is checked (onnx.checker full, AN node count =
AN layers) and run in ONNX Runtime against PyTorch fp32 and the float64 model: a file passes when its error to
float64 is at most 3x PyTorch fp32's own plus 1e-5. Results: ``exporters_cpu.json`` and ``.md`` in ``--out``
(default ``benchmarks/results``), with the machine and the code's revision described; the last stdout line is
``PASSED | ...`` or ``FAILED | ...``.

    python benchmarks/bench_exporters_cpu.py [--rounds 3] [--size 224] [--sweep-size 64] [--out DIR]
"""

from __future__ import annotations

import argparse
import collections
import copy
import os
import sys
import time
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import onnx
import onnxruntime as ort
import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from common import (  # noqa: E402
    RESULTS,
    document,
    environment,
    machine_line,
    median,
    run_script,
    take_turns,
    write_results,
)

from an_deploy.accuracy.inputs import realistic_inputs  # noqa: E402
from an_deploy.checkpoint import load_model  # noqa: E402
from an_deploy.discover import find_an_layers as an_layers  # noqa: E402
from an_deploy.export.checks import check_model  # noqa: E402
from an_deploy.export.dynamo_export import export_dynamo  # noqa: E402
from an_deploy.export.torch_export import export_model  # noqa: E402
from an_deploy.models.digits import DEMO_CHECKPOINT  # noqa: E402
from an_deploy.models.randomize import calibrated_  # noqa: E402
from an_deploy.models.registry import ARCHS, DEMO_INPUT_SHAPE, an_resnet50  # noqa: E402
from an_deploy.onnx_graph.nodes import an_nodes  # noqa: E402

EXPORTERS: dict[str, Callable[..., Any]] = {"torchscript": export_model, "dynamo": export_dynamo}
PARITY_BATCHES = (1, 4)


def _parity(proto: onnx.ModelProto, model: nn.Module, shape: tuple[int, ...]) -> dict[str, Any]:
    """ORT vs PyTorch fp32 and vs the float64 model, at two batch sizes (the export has a dynamic batch)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    sess = ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    model64 = copy.deepcopy(model).double()
    rows = []
    for i, n in enumerate(PARITY_BATCHES):
        x = realistic_inputs(shape, n, seed=10 + i)
        out = torch.from_numpy(sess.run(None, {"input": x.numpy()})[0]).double()
        with torch.no_grad():
            ref32 = model(x).double()
            ref64 = model64(x.double())
        torch_err = float((ref32 - ref64).abs().max())
        err64 = float((out - ref64).abs().max())
        rows.append({"batch": len(x), "ort_vs_torch_fp32": float((out - ref32).abs().max()),
                     "ort_vs_float64": err64, "torch_fp32_vs_float64": torch_err,
                     "bound": 3 * torch_err + 1e-5, "passed": err64 <= 3 * torch_err + 1e-5,
                     "top1_agreement": float((out.argmax(1) == ref64.argmax(1)).double().mean())})
    return {"batches": rows, "passed": all(r["passed"] for r in rows)}


def _attempt(exporter: str, model: nn.Module, shape: tuple[int, ...]) -> dict[str, Any]:
    """One export; its wall time and, for a file, its checks."""
    start = time.perf_counter()
    try:
        result = EXPORTERS[exporter](model, shape, dynamic_batch=True)
    except Exception as e:  # a failed export is a measured outcome here, not a crash of the benchmark
        return {"ok": False, "seconds": time.perf_counter() - start,
                "error": f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}",
                "traceback": traceback.format_exc(limit=3)}
    seconds = time.perf_counter() - start
    check_model(result.model)
    ops = collections.Counter(n.op_type for n in result.model.graph.node)
    return {"ok": True, "seconds": seconds, "an_nodes": len(an_nodes(result.model)),
            "an_layers": len(result.an_layers), "nodes": len(result.model.graph.node),
            "initializers": len(result.model.graph.initializer), "op_types": dict(sorted(ops.items())),
            "model": result.model}


def _progress(model: str, exporter: str, round_index: int, attempt: dict[str, Any]) -> None:
    print(f"{model} {exporter} round {round_index + 1}: {'ok' if attempt['ok'] else 'FAILED'} "
          f"{attempt['seconds']:.1f} s", flush=True)


def _models(size: int) -> dict[str, tuple[nn.Module, tuple[int, ...], str]]:
    calibration = realistic_inputs((8, 3, size, size), 8, seed=1)
    resnet = calibrated_(an_resnet50(), calibration, seed=0)
    demo = load_model(DEMO_CHECKPOINT).model
    return {
        "an_resnet50": (resnet, (1, 3, size, size), "realistic random weights, batch statistics calibrated"),
        "an_resnet_demo": (demo, DEMO_INPUT_SHAPE, "the trained demo checkpoint (models/demo)"),
    }


def run(rounds: int, size: int) -> dict[str, Any]:
    """Every model x exporter x round, interleaved; returns the JSON-ready results."""
    results: dict[str, Any] = {}
    for name, (model, shape, desc) in _models(size).items():
        attempts = take_turns({e: partial(_attempt, e, model, shape) for e in EXPORTERS}, rounds, alternate=True,
                              after=partial(_progress, name))
        row: dict[str, Any] = {"input": "x".join(map(str, shape)), "model": desc,
                               "an_layers": len(an_layers(model)), "exporters": {}}
        for exporter, tries in attempts.items():
            ok = [a for a in tries if a["ok"]]
            summary: dict[str, Any] = {
                "attempts": len(tries), "succeeded": len(ok), "seconds": [a["seconds"] for a in tries],
                "cold_seconds": tries[0]["seconds"],
                "warm_median_seconds": median([a["seconds"] for a in tries[1:]]) if len(tries) > 1 else None,
                "errors": [a["error"] for a in tries if not a["ok"]],
            }
            if ok:
                first = ok[0]
                summary.update({k: first[k] for k in ("an_nodes", "an_layers", "nodes", "initializers", "op_types")})
                summary["parity"] = _parity(first["model"], model, shape)
            row["exporters"][exporter] = summary
        results[name] = row
    return results


def sweep(size: int) -> dict[str, Any]:
    """Reliability: every registry architecture exported once by each exporter (ImageNet ones at ``size``), each
    file checked as above. Calibrated random weights; the demo architectures at their own input."""
    rows: dict[str, Any] = {}
    for name, arch in ARCHS.items():
        shape = arch.input_shape if arch.input_shape == DEMO_INPUT_SHAPE else (1, 3, size, size)
        model = calibrated_(arch.builder(), realistic_inputs((4, *shape[1:]), 4, seed=1), seed=0)
        row: dict[str, Any] = {"input": "x".join(map(str, shape)), "an_layers": len(an_layers(model))}
        for exporter in EXPORTERS:
            a = _attempt(exporter, model, shape)
            entry = {"ok": a["ok"], "seconds": a["seconds"]}
            if a["ok"]:
                entry.update(an_nodes=a["an_nodes"], nodes=a["nodes"],
                             parity_passed=_parity(a["model"], model, shape)["passed"])
            else:
                entry["error"] = a["error"]
            row[exporter] = entry
            print(f"sweep {name} {exporter}: {'ok' if a['ok'] else 'FAILED'} {a['seconds']:.1f} s", flush=True)
        rows[name] = row
    return rows


def _verdict(results: dict[str, Any]) -> tuple[bool, str]:
    """Every attempt succeeded, AN nodes = AN layers, parity passed; plus the dynamo / TorchScript time ratio."""
    ok = all(
        e["succeeded"] == e["attempts"] and e.get("an_nodes") == e.get("an_layers") and e["parity"]["passed"]
        for row in results.values() for e in row["exporters"].values()
    )
    parts = []
    for name, row in results.items():
        ex = row["exporters"]
        if ex["torchscript"]["warm_median_seconds"] and ex["dynamo"]["warm_median_seconds"]:
            ratio = ex["dynamo"]["warm_median_seconds"] / ex["torchscript"]["warm_median_seconds"]
            parts.append(f"{name}: dynamo {ex['dynamo']['warm_median_seconds']:.1f} s vs torchscript "
                         f"{ex['torchscript']['warm_median_seconds']:.1f} s ({ratio:.2f}x)")
    return ok, "; ".join(parts)


def markdown(data: dict[str, Any]) -> str:
    """The Markdown rendering of the results."""
    env = data["environment"]
    lines = ["# ONNX exporters on CPU: TorchScript-based vs torch.export-based (through the AttentiveNorm op)", "",
             machine_line(env),
             "Load average (1, 5, 15 min; other jobs share the machine): "
             + " -> ".join(", ".join(f"{v:.1f}" for v in env["load_average_1_5_15"][k]) for k in ("start", "end"))
             + ".",
             f"Timing: {data['config']['timing']}; {data['config']['rounds']} rounds per exporter; cold = first "
             "round in the process (includes the exporter's one-off set-up), warm = median of the others.",
             f"Parity: {data['config']['parity']}.", "",
             "| model | input | exporter | ok | cold s | warm median s | nodes | AN nodes / AN layers | "
             "ORT vs fp32 (max abs) | ORT vs float64 | PyTorch fp32 vs float64 | parity |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, row in data["results"].items():
        for exporter, e in row["exporters"].items():
            warm = f"{e['warm_median_seconds']:.1f}" if e["warm_median_seconds"] is not None else "-"
            if "parity" in e:
                worst = max(e["parity"]["batches"], key=lambda b: b["ort_vs_float64"])
                par = (f"{max(b['ort_vs_torch_fp32'] for b in e['parity']['batches']):.2e} | "
                       f"{worst['ort_vs_float64']:.2e} | {worst['torch_fp32_vs_float64']:.2e} | "
                       f"{'pass' if e['parity']['passed'] else 'FAIL'}")
                nodes = f"{e['nodes']} | {e['an_nodes']} / {e['an_layers']}"
            else:
                par, nodes = "- | - | - | -", "- | -"
            lines.append(f"| {name} | {row['input']} | {exporter} | {e['succeeded']}/{e['attempts']} | "
                         f"{e['cold_seconds']:.1f} | {warm} | {nodes} | {par} |")
    lines += ["", "Node types per file:", ""]
    for name, row in data["results"].items():
        for exporter, e in row["exporters"].items():
            if "op_types" in e:
                lines.append(f"- {name}, {exporter}: " + ", ".join(f"{k} {v}" for k, v in e["op_types"].items()))
    if data["sweep"]:
        lines += ["", "Reliability sweep (every registry architecture, ImageNet ones at "
                  f"{data['config']['sweep_input']}; one export each; ok = exported, AN nodes = AN layers, parity as "
                  "above):", "",
                  "| architecture | input | AN layers | " + " | ".join(f"{e} ok | {e} s" for e in EXPORTERS) + " |",
                  "|---|---|---|" + "---|---|" * len(EXPORTERS)]
        for name, r in data["sweep"].items():
            cells = []
            for e in EXPORTERS:
                good = r[e]["ok"] and r[e]["an_nodes"] == r["an_layers"] and r[e]["parity_passed"]
                cells.append(f"{'yes' if good else 'NO: ' + r[e].get('error', 'check failed')} | {r[e]['seconds']:.1f}")
            lines.append(f"| {name} | {r['input']} | {r['an_layers']} | " + " | ".join(cells) + " |")
    lines += ["", f"Verdict: {data['summary']}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Time and check both exporters (and the sweep); write the results; print the verdict last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="exports per model and exporter (>= 2)")
    parser.add_argument("--size", type=int, default=224, help="AN-ResNet-50 input height and width")
    parser.add_argument("--sweep-size", type=int, default=64,
                        help="input height and width of the ImageNet architectures in the reliability sweep (0: skip)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the results (default: %(default)s)")
    args = parser.parse_args()
    if args.rounds < 2:
        parser.error("--rounds must be at least 2 (the first round is the cold one)")
    load_before = os.getloadavg()
    results = run(args.rounds, args.size)
    swept = sweep(args.sweep_size) if args.sweep_size > 0 else {}
    ok, summary = _verdict(results)
    sweep_ok = all(r[e]["ok"] and r[e]["an_nodes"] == r["an_layers"] and r[e]["parity_passed"]
                   for r in swept.values() for e in EXPORTERS)
    ok = ok and sweep_ok
    if swept:
        succeeded = {e: sum(r[e]["ok"] for r in swept.values()) for e in EXPORTERS}
        summary += "; sweep " + ", ".join(f"{e} {n}/{len(swept)} architectures" for e, n in succeeded.items())
    env = environment(load_average_1_5_15={"start": load_before, "end": os.getloadavg()})  # the machine is shared
    data = document(1, env,
                    config={"rounds": args.rounds, "resnet_input": f"1x3x{args.size}x{args.size}, dynamic batch",
                            "sweep_input": f"1x3x{args.sweep_size}x{args.sweep_size}",
                            "timing": "perf_counter wall time of export_model / export_dynamo, interleaved rounds",
                            "parity": f"ORT (CPU) at batch {', '.join(map(str, PARITY_BATCHES))}; pass when max abs "
                                      "error to the float64 model <= 3 x PyTorch fp32's own + 1e-5"},
                    results=results, sweep=swept, summary=f"{'PASSED' if ok else 'FAILED'} | {summary}")
    write_results(args.out / "exporters_cpu", data, markdown(data))
    print(data["summary"])


if __name__ == "__main__":
    sys.exit(run_script(main))
