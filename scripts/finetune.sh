#!/usr/bin/env bash
# Fine-tune on a GLUE task with the original recipe.
#   scripts/finetune.sh TASK OUTPUT [--model PRETRAINED_DIR | --config small|medium-small|base|FILE] [finetune options]
# GLUE_DIR (default samples/glue) is the data directory.
set -euo pipefail
source "$(dirname "$0")/common.sh"
[[ $# -ge 2 ]] || { sed -n '2,4p' "$0"; exit 2; }
task=$1; out=$2; shift 2
extra=("$@")
[[ " ${extra[*]:-} " == *" --model "* || " ${extra[*]:-} " == *" --config "* ]] || extra+=(--config small)
[[ " ${extra[*]} " == *" --config "* && " ${extra[*]} " != *" --vocab "* ]] && extra+=(--vocab "$VOCAB")
exec "$CONVBERT" finetune --task "$task" --data-dir "${GLUE_DIR:-$ROOT/samples/glue}" --output "$out" "${extra[@]}"
