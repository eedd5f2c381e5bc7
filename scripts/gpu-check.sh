#!/usr/bin/env bash
# Prove the toolchain on this machine's GPU before trusting it there (docs/GPU.md):
#   scripts/gpu-check.sh [--require-gpu] [OUTPUT_DIR]        (default runs/gpu-check)
# Prints the GPU, driver, compute capability and the CUDA/cuDNN/TensorRT libraries found (the loader's cache,
# LD_LIBRARY_PATH, pip's nvidia-* wheels, $CONDA_PREFIX/lib), builds with -Pcuda, then runs 'convbert gpu-check': DJL on
# CUDA vs CPU and the reference (forward, fine-tuning steps, fp16 mixed precision vs fp32, pre-training), ONNX Runtime
# CUDA and TensorRT vs CPU (float32 and float16), and latency and training throughput of medium-small
# -> OUTPUT_DIR/gpu-check.json.
# Without a GPU it says NOT VERIFIED in one line and exits 0; with --require-gpu (a CI job on a GPU runner) it exits 1.
set -euo pipefail
source "$(dirname "$0")/common.sh"
require=""
if [[ "${1:-}" == "--require-gpu" ]]; then
  require="--require-gpu"
  shift
fi
out=${1:-runs/gpu-check}
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "no GPU: NOT VERIFIED (nvidia-smi finds no NVIDIA GPU on this machine; nothing was checked)"
  [[ -n "$require" ]] && exit 1
  exit 0
fi
echo "== GPU"
nvidia-smi --query-gpu=index,name,driver_version,compute_cap,memory.total --format=csv
echo "== libraries (ONNX Runtime's CUDA provider needs CUDA 12 + cuDNN 9; TensorRT 10 for tensorrt)"
# where a loader or a user puts them: the loader's cache, LD_LIBRARY_PATH, pip's nvidia-* wheels, a conda environment
dirs=()
IFS=: read -r -a ld <<< "${LD_LIBRARY_PATH:-}"
for d in "${ld[@]}"; do [[ -n "$d" ]] && dirs+=("$d"); done
for py in python3 python; do
  if command -v "$py" >/dev/null 2>&1; then
    while IFS= read -r d; do dirs+=("$d"); done < <("$py" - <<'PY' 2>/dev/null || true
import glob, os, site
roots = set(site.getsitepackages() + [site.getusersitepackages()])
for r in sorted(roots):
    for d in sorted(glob.glob(os.path.join(r, "nvidia", "*", "lib"))) + sorted(glob.glob(os.path.join(r, "tensorrt_libs"))):
        print(d)
PY
)
    break
  fi
done
[[ -n "${CONDA_PREFIX:-}" ]] && dirs+=("$CONDA_PREFIX/lib")
for lib in libcudart.so.12 libcublasLt.so.12 libcudnn.so.9 libnvinfer.so.10; do
  found=""
  if hit=$(ldconfig -p 2>/dev/null | grep -m1 " $lib "); then
    found="${hit##*=> } (loader cache)"
  fi
  for d in "${dirs[@]}"; do
    if [[ -z "$found" && -e "$d/$lib" ]]; then
      found="$d/$lib"
    fi
  done
  if [[ -n "$found" ]]; then
    echo "  $lib: $found"
  else
    echo "  $lib: not found (loader cache, LD_LIBRARY_PATH, pip nvidia-* wheels, \$CONDA_PREFIX/lib); add its folder to LD_LIBRARY_PATH"
  fi
done
echo "== build with -Pcuda (pytorch-native-cu124, onnxruntime_gpu)"
(cd "$ROOT" && mvn -q -B -DskipTests package -Pcuda)
touch "$ROOT/benchmarks/target/classpath.txt"
echo "== convbert gpu-check"
CONVBERT_MAVEN_ARGS=-Pcuda "$CONVBERT" gpu-check --output "$out" --testdata "$ROOT/testdata" $require
