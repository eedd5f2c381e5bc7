#!/usr/bin/env bash
# Prove the toolchain on this machine's GPU before trusting it there (docs/GPU.md):
#   scripts/gpu-check.sh [OUTPUT_DIR]        (default runs/gpu-check)
# Prints the GPU, driver, compute capability and the CUDA/cuDNN/TensorRT libraries found, builds with -Pcuda, then runs
# 'convbert gpu-check': DJL on CUDA vs CPU and the reference (forward + fine-tuning steps), ONNX Runtime CUDA and
# TensorRT vs CPU (float32 and float16), and a 1x128 / 32x128 latency run of medium-small -> OUTPUT_DIR/gpu-check.json.
# Without a GPU it says so in one line and exits 0.
set -euo pipefail
source "$(dirname "$0")/common.sh"
out=${1:-runs/gpu-check}
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "no GPU: skipped (nvidia-smi finds no NVIDIA GPU on this machine)"
  exit 0
fi
echo "== GPU"
nvidia-smi --query-gpu=index,name,driver_version,compute_cap,memory.total --format=csv
echo "== libraries the loader finds (ONNX Runtime's CUDA provider needs CUDA 12 + cuDNN 9; TensorRT 10 for tensorrt)"
for lib in libcudart.so.12 libcublasLt.so.12 libcudnn.so.9 libnvinfer.so.10; do
  ldconfig -p | grep -m1 " $lib " || echo "  $lib: not found (set LD_LIBRARY_PATH if it is installed elsewhere)"
done
echo "== build with -Pcuda (pytorch-native-cu124, onnxruntime_gpu)"
(cd "$ROOT" && mvn -q -B -DskipTests package -Pcuda)
touch "$ROOT/benchmarks/target/classpath.txt"
echo "== convbert gpu-check"
CONVBERT_MAVEN_ARGS=-Pcuda "$CONVBERT" gpu-check --output "$out" --testdata "$ROOT/testdata"
