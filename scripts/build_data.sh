#!/usr/bin/env bash
# Build pre-training shards from a corpus tree: text, .xz/.gz, tars of .txt, OpenWebText (unpacked or openwebtext.tar.xz).
#   scripts/build_data.sh CORPUS_DIR OUTPUT_DIR [build-data options, e.g. --max-seq-length 128 --threads 2]
# VOCAB (default: the committed BERT uncased vocab) is the WordPiece vocabulary. Reruns skip finished shards.
set -euo pipefail
source "$(dirname "$0")/common.sh"
[[ $# -ge 2 ]] || { sed -n '2,4p' "$0"; exit 2; }
corpus=$1; out=$2; shift 2
exec "$CONVBERT" build-data --corpus "$corpus" --vocab "$VOCAB" --output "$out" "$@"
