#!/usr/bin/env bash
# Score an exported model on a GLUE dev split (with the accuracy gate) or write test-split submissions.
#   scripts/score.sh MODEL.onnx TASK [dev|test] [score options]      (GLUE_DIR, default samples/glue)
set -euo pipefail
source "$(dirname "$0")/common.sh"
[[ $# -ge 2 ]] || { sed -n '2,3p' "$0"; exit 2; }
model=$1; task=$2; split=${3:-dev}; shift $(( $# >= 3 ? 3 : 2 ))
exec "$CONVBERT" score --model "$model" --task "$task" --split "$split" --data-dir "${GLUE_DIR:-$ROOT/samples/glue}" "$@"
