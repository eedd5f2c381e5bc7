#!/usr/bin/env bash
# Latency/throughput of ORT fused vs ORT inline vs ORT int8 vs DJL eager, gated by the dev accuracy check.
#   scripts/benchmark.sh MODEL_DIR TASK OUTPUT_DIR [benchmark options]     (GLUE_DIR, default samples/glue)
set -euo pipefail
source "$(dirname "$0")/common.sh"
[[ $# -ge 3 ]] || { sed -n '2,3p' "$0"; exit 2; }
model=$1; task=$2; out=$3; shift 3
echo "malloc: MALLOC_MMAP_THRESHOLD_=$MALLOC_MMAP_THRESHOLD_ MALLOC_TRIM_THRESHOLD_=$MALLOC_TRIM_THRESHOLD_"
exec "$CONVBERT" benchmark --model "$model" --task "$task" --data-dir "${GLUE_DIR:-$ROOT/samples/glue}" --output "$out" "$@"
