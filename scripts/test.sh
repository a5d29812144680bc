#!/usr/bin/env bash
# Fresh-machine set-up and every check CI runs (.ci/run calls exactly this script).
#   1. a virtual environment with the pinned CPU torch (never a multi-GB CUDA build) and the dev tools
#   2. the TensorRT plugin (.so + host test harness), built with CMake
#   3. ruff, mypy (TensorRT-facing modules against tensorrt-stubs), pytest
#   4. the parity + latency report of the demo model on CPU, under reports/
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step prints the seconds spent so far, so a slow CI run shows where its time went.
step() { echo "== [${SECONDS}s] $* =="; }

step "virtual environment + install"
python3 -m venv .venv
.venv/bin/pip install --quiet torch==2.13.0 -e ".[dev,rtx]"
# tensorrt-stubs declares a dependency on the tensorrt wheel, whose installer downloads from NVIDIA's index:
# the stubs alone are what the type check needs.
.venv/bin/pip install --quiet --no-deps tensorrt-stubs==10.13.0.35.1

step "build the TensorRT plugin"
cmake -S plugins -B build/plugins -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE="$PWD/.venv/bin/python" >/dev/null
cmake --build build/plugins -j2

step "ruff"
.venv/bin/ruff check .
step "mypy (TensorRT-facing modules against tensorrt-stubs)"
.venv/bin/python -m tests.trt.make_tensorrt_stubs build/typings
MYPYPATH=build/typings .venv/bin/mypy
step "pytest"
.venv/bin/python -m pytest --durations=15
step "parity (asserted) + latency (reported) of the demo model on CPU"
.venv/bin/python scripts/ci_report.py --out reports
step "done"
