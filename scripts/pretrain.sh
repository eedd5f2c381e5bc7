#!/usr/bin/env bash
# ELECTRA-style pre-training on shards from build_data.sh; resumes from the last checkpoint when OUTPUT has one.
#   scripts/pretrain.sh DATA_DIR OUTPUT_DIR [--config small|medium-small|base|FILE] [pretrain options, e.g. --device gpu]
# The discriminator lands in OUTPUT_DIR/discriminator, ready for scripts/finetune.sh TASK OUT --model that directory.
set -euo pipefail
source "$(dirname "$0")/common.sh"
[[ $# -ge 2 ]] || { sed -n '2,4p' "$0"; exit 2; }
data=$1; out=$2; shift 2
extra=("$@")
[[ " ${extra[*]:-} " == *" --config "* ]] || extra+=(--config small)
[[ -f "$out/checkpoint.json" && " ${extra[*]} " != *" --resume "* ]] && extra+=(--resume)
# the vocabulary comes with the data (build-data stores it beside the shards)
exec "$CONVBERT" pretrain --data "$data" --output "$out" "${extra[@]}"
