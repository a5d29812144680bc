#!/usr/bin/env bash
# Every GPU check of the plugin in one run, for any CUDA machine (no TensorRT, no network needed):
#   1. build the plugin for one architecture (AN_CUDA_ARCH, default 90) with the given TensorRT headers
#   2. the C++ harness: the plugin through its IPluginV3 interface (creator -> createPlugin -> configurePlugin ->
#      onShapeChange -> enqueue) on device buffers vs a float64 CPU reference
#   3. pytest tests/gpu: the C entry point over the test grid, and fold -> kernel vs the original layer
#   4. benchmarks/bench_plugin_kernel.py (fp16): kernel vs PyTorch eager / torch.compile vs the copy floor
#   5. the kernel's experiment switches (AN_KERNEL_* in attentiveNormKernelCommon.cuh): a library per variant, the GPU
#      tests on the one with every switch on, then benchmarks/bench_kernel_variants.py (bitwise equal to the
#      default, then timed against it, taking turns)
#   6. benchmarks/kernel_traffic.py: DRAM bytes and time of each launch from the hardware counters (ncu), for the
#      default and the reversed-apply build (needs a runtime where ncu can read counters)
# Logs and results go to $OUT (default ./gpu_out). Usage:
#   TENSORRT_INCLUDE_DIR=/path/to/trt/include OUT=/tmp/out bash benchmarks/gpu_check.sh
# A machine without network cannot fetch the headers: copy build/plugins/_deps/tensorrt_include from a machine that
# fetched them and set TENSORRT_INCLUDE_DIR=$PWD/build/plugins/_deps/...
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
echo "== [${SECONDS}s] experiment switches: builds"
declare -A SWITCHES=([pdl]="AN_KERNEL_PDL" [reversed]="AN_KERNEL_APPLY_REVERSED"
                     [pdl_reversed]="AN_KERNEL_PDL;AN_KERNEL_APPLY_REVERSED")
for v in "${!SWITCHES[@]}"; do
  { cmake -S plugins -B "build/variants/$v" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CUDA_ARCHITECTURES="${AN_CUDA_ARCH:-90}" -DAN_PLUGIN_SANITIZERS=OFF -DAN_PLUGIN_GPU_HARNESS=OFF \
      "${headers[@]}" -DAN_KERNEL_SWITCHES="${SWITCHES[$v]}" \
    && cmake --build "build/variants/$v" --target attentive_norm_plugin -j"$(nproc)"; } > "$OUT/build_$v.log" 2>&1 &
done
wait
variants=(default=build/plugins/libattentive_norm_plugin.so)
for v in pdl reversed pdl_reversed; do
  lib=build/variants/$v/libattentive_norm_plugin.so
  if [ -f "$lib" ]; then variants+=("$v=$lib"); else tail -20 "$OUT/build_$v.log"; echo "FAILED | build $v"; fi
done

if [ -f build/variants/pdl_reversed/libattentive_norm_plugin.so ]; then
  echo "== [${SECONDS}s] pytest tests/gpu on pdl_reversed"
  AN_DEPLOY_PLUGIN=build/variants/pdl_reversed/libattentive_norm_plugin.so timeout 300 "$PY" -m pytest tests/gpu -q \
    -p no:cacheprovider > "$OUT/pytest_pdl_reversed.log" 2>&1
  echo "pytest exit $?"; grep -E "passed|failed|error" "$OUT/pytest_pdl_reversed.log" | tail -12
fi

echo "== [${SECONDS}s] experiment switches: bitwise check + A/B timing"
timeout 300 "$PY" benchmarks/bench_kernel_variants.py "${variants[@]}" --out "$OUT" > "$OUT/variants.log" 2>&1
echo "variants exit $?"; tail -40 "$OUT/variants.log"
echo "== [${SECONDS}s] DRAM traffic per launch (ncu)"
traffic=(default=build/plugins/libattentive_norm_plugin.so)
if [ -f build/variants/reversed/libattentive_norm_plugin.so ]; then
  traffic+=(reversed=build/variants/reversed/libattentive_norm_plugin.so)
fi
timeout 240 "$PY" benchmarks/kernel_traffic.py "${traffic[@]}" --out "$OUT" > "$OUT/traffic.log" 2>&1
echo "traffic exit $?"; tail -20 "$OUT/traffic.log"
echo "== [${SECONDS}s] done"
