#!/usr/bin/env bash
# Serve an exported model over HTTP on 127.0.0.1.
#   scripts/serve.sh MODEL.onnx [--port 8080] [serve options]
set -euo pipefail
source "$(dirname "$0")/common.sh"
[[ $# -ge 1 ]] || { sed -n '2,3p' "$0"; exit 2; }
model=$1; shift
exec "$CONVBERT" serve --model "$model" "$@"
