"""CPU benchmark (not a test): TensorRT-RTX engine builds, no GPU, for the demo model and AN-ResNet-50.

For each model, the function-form export is prepared once per implementation (``native``: AN inlined into
standard ops; ``plugin``: AN nodes bound to our plugin, built in the child process TensorRT-RTX needs for
plugin layers, see plugins/README.md) and built ``--repeats`` times with a dynamic batch profile 1:8:32.
Reported: median and min build wall time (``time.perf_counter`` around the parse + build, the child process
included for plugin builds), engine size, network layers. Results: ``trt_build_cpu.json`` and ``.md`` in
``--out`` (default ``benchmarks/results``), with the machine and the code's revision described.

    python benchmarks/bench_trt_build_cpu.py [--repeats 3] [--skip-plugin] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import onnx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from common import RESULTS, document, environment, machine_line, median, run_script, write_results  # noqa: E402

from an_deploy.export.torch_export import export_model  # noqa: E402
from an_deploy.models.randomize import realistic_  # noqa: E402
from an_deploy.models.registry import DEMO_INPUT_SHAPE, an_resnet50, an_resnet_demo  # noqa: E402
from an_deploy.plugin.library import find_plugin_library  # noqa: E402
from an_deploy.trt import AnImpl  # noqa: E402
from an_deploy.trt.availability import Backend, TrtBackend, require_backend  # noqa: E402
from an_deploy.trt.isolated import build_rtx_plugin_network, parser_finds_core  # noqa: E402
from an_deploy.trt.network import Serialized, build_serialized  # noqa: E402
from an_deploy.trt.onnx_prep import prepare  # noqa: E402
from an_deploy.trt.plugin_library import load_into_tensorrt  # noqa: E402
from an_deploy.trt.profiles import ShapeProfile, resolve_profile  # noqa: E402

BATCH = (1, 8, 32)


def _quiet(_: str) -> None:
    pass


def markdown(data: dict[str, Any]) -> str:
    """The Markdown rendering of the results (also of results files written before this version)."""
    cfg = data["config"]
    lines = [f"# TensorRT-RTX engine builds on CPU (no GPU): {cfg['backend']}", "",
             machine_line(data["environment"]),
             f"Dynamic batch profile {cfg['batch_profile'].split('= ')[-1]}, fp32, {cfg['repeats']} builds each; "
             f"{cfg['timing']}.", "",
             "| model | an-impl | AN nodes | build median s | build min s | engine MiB | network layers "
             "| plugin layers | export s | prepare s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in data["results"]:
        lines.append(f"| {r['model']} | {r['an_impl']} | {r['an_nodes']} | {r['build_median_seconds']:.2f} "
                     f"| {r['build_min_seconds']:.2f} | {r['engine_bytes'] / 2**20:.1f} | {r['network_layers']} "
                     f"| {r['network_plugin_layers']} | {r['export_seconds']:.1f} | {r['prepare_seconds']:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Export, prepare and build each model per AN implementation; write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-plugin", action="store_true", help="only native builds (no plugin library needed)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the results (default: %(default)s)")
    args = parser.parse_args()

    backend = require_backend(Backend.TENSORRT_RTX)
    plugin = None if args.skip_plugin else find_plugin_library().path
    if plugin is not None:
        load_into_tensorrt(plugin, backend)
    models = {
        "an_resnet_demo": (an_resnet_demo(), DEMO_INPUT_SHAPE),
        "an_resnet50": (an_resnet50(), (1, 3, 224, 224)),
    }
    impls = [AnImpl.NATIVE] + ([AnImpl.PLUGIN] if plugin is not None else [])
    rows = []
    for name, (module, shape) in models.items():
        t0 = time.perf_counter()
        exported = export_model(realistic_(module, seed=0), shape, form="function").model
        export_s = time.perf_counter() - t0
        profile = resolve_profile(exported, batch=BATCH)
        for impl in impls:
            t0 = time.perf_counter()
            prepared = prepare(exported, impl)
            prepare_s = time.perf_counter() - t0
            seconds, built = [], None
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                built = _build(backend, prepared.model, profile, plugin if impl is AnImpl.PLUGIN else None)
                seconds.append(time.perf_counter() - t0)
            assert built is not None
            rows.append({
                "model": name, "an_impl": impl.value, "an_nodes": prepared.an_nodes, "export_seconds": export_s,
                "prepare_seconds": prepare_s, "build_seconds": seconds,
                "build_median_seconds": median(seconds),
                "build_min_seconds": min(seconds), "engine_bytes": len(built.engine),
                "network_layers": built.network_layers, "network_plugin_layers": built.network_plugin_layers,
            })
            print(f"{name} {impl.value}: build median {rows[-1]['build_median_seconds']:.2f} s, "
                  f"engine {len(built.engine) / 2**20:.1f} MiB, {built.network_layers} layers", flush=True)
    env = environment(backend=backend.label)
    data = document(1, env,
                    config={"backend": backend.label, "batch_profile": "min:opt:max = " + ":".join(map(str, BATCH)),
                            "precision": "fp32 (TensorRT-RTX: strongly typed, the ONNX types)",
                            "repeats": args.repeats,
                            "timing": "perf_counter around parse + build (plugin: child process included)",
                            "weights": "realistic random (an_deploy.models.randomize.realistic_, seed 0)",
                            "gpu": "none: TensorRT-RTX's ahead-of-time builder"},
                    results=rows)
    write_results(args.out / "trt_build_cpu", data, markdown(data))


def _build(backend: TrtBackend, model: onnx.ModelProto, profile: ShapeProfile, plugin: Path | None) -> Serialized:
    """One engine build: in the child process when the plugin needs it, else in this process."""
    if plugin is not None and not parser_finds_core():
        return build_rtx_plugin_network(model, plugin=plugin, profile=profile, workspace_mib=None, timing_cache=None,
                                        version_compatible=False)
    return build_serialized(backend, model, profile=profile, plugin=plugin, log=_quiet)


if __name__ == "__main__":
    sys.exit(run_script(main))
