#!/usr/bin/env bash
# Export a fine-tuned model directory to ONNX (fused SpanDynamicConv; add --fp16 or --inline as needed).
#   scripts/export.sh MODEL_DIR OUTPUT.onnx [export options]
set -euo pipefail
source "$(dirname "$0")/common.sh"
[[ $# -ge 2 ]] || { sed -n '2,3p' "$0"; exit 2; }
model=$1; out=$2; shift 2
exec "$CONVBERT" export --model "$model" --output "$out" "$@"
