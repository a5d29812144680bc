#!/usr/bin/env bash
# Every GPU check of the plugin in one run, for a lent GPU machine (no TensorRT, no network needed):
#   1. build the plugin for one architecture (AN_CUDA_ARCH, default 90) with the given TensorRT headers
#   2. the C++ harness: the plugin through its IPluginV3 interface (creator -> createPlugin -> configurePlugin ->
#      onShapeChange -> enqueue) on device buffers vs a float64 CPU reference
#   3. pytest tests/gpu: the C entry point over the issue's grid, and fold -> kernel vs the original layer
#   4. benchmarks/bench_plugin_kernel.py (fp16): kernel vs PyTorch eager / torch.compile vs the copy floor
# Logs and results go to $OUT (default ./gpu_out). Usage:
#   TENSORRT_INCLUDE_DIR=/path/to/trt/include OUT=/tmp/out bash benchmarks/gpu_check.sh
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD PATH=$PATH:/usr/local/cuda/bin
PY=${PYTHON:-python3}
nvidia-smi > "$OUT/nvidia_smi.txt" 2>&1
head -12 "$OUT/nvidia_smi.txt"

echo "== [${SECONDS}s] build (sm_${AN_CUDA_ARCH:-90})"
headers=()
if [ -n "${TENSORRT_INCLUDE_DIR:-}" ]; then headers=(-DTENSORRT_INCLUDE_DIR="$TENSORRT_INCLUDE_DIR"); fi
if ! { cmake -S plugins -B build/plugins -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="${AN_CUDA_ARCH:-90}" \
        -DAN_PLUGIN_SANITIZERS=OFF "${headers[@]}" && cmake --build build/plugins -j"$(nproc)"; } > "$OUT/build.log" 2>&1
then
  tail -40 "$OUT/build.log"; echo "FAILED | plugin build"; exit 1
fi

echo "== [${SECONDS}s] IPluginV3 harness"
timeout 180 build/plugins/attentive_norm_plugin_gpu_harness build/plugins/libattentive_norm_plugin.so \
  > "$OUT/harness.log" 2>&1
echo "harness exit $?"; grep -E "^FAIL|^PASSED|^FAILED|^SKIPPED" "$OUT/harness.log" | tail -8

echo "== [${SECONDS}s] pytest tests/gpu"
timeout 300 "$PY" -m pytest tests/gpu -q -p no:cacheprovider > "$OUT/pytest.log" 2>&1
echo "pytest exit $?"; grep -E "passed|failed|error" "$OUT/pytest.log" | tail -12

echo "== [${SECONDS}s] benchmark (fp16)"
timeout 360 "$PY" benchmarks/bench_plugin_kernel.py --out "$OUT" > "$OUT/bench.log" 2>&1
echo "bench exit $?"; tail -30 "$OUT/bench.log"
echo "== [${SECONDS}s] done"
