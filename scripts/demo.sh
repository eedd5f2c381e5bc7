#!/usr/bin/env bash
# The whole chain on the committed sample: fine-tune a small padding-invariant ConvBERT on SST-2, export it to ONNX,
# score it with the accuracy gate (and write the test submission), then a short latency benchmark.
#   scripts/demo.sh [--data-dir GLUE_DIR] [--output DIR]      (defaults: samples/glue, runs/demo)
set -euo pipefail
source "$(dirname "$0")/common.sh"
data="$ROOT/samples/glue"; out="$ROOT/runs/demo"
while [[ $# -gt 0 ]]; do
  case $1 in
    --data-dir) data=$2; shift 2 ;;
    --output) out=$2; shift 2 ;;
    *) echo "unknown option $1; usage: scripts/demo.sh [--data-dir GLUE_DIR] [--output DIR]" >&2; exit 2 ;;
  esac
done
start=$(date +%s)
step() { echo; echo "== [$(( $(date +%s) - start ))s] $*"; }
rm -rf "$out"; mkdir -p "$out"

step "build"
"$CONVBERT" --version
step "data: $data"
"$CONVBERT" glue-stats --data-dir "$data" | grep -E "task|SST-2"
step "fine-tune (random init, configs/small-4layer.json, 3 epochs)"
"$CONVBERT" finetune --task sst-2 --data-dir "$data" --config "$ROOT/configs/small-4layer.json" --vocab "$VOCAB" \
  --output "$out/sst2" --epochs 3 --lr 1e-4 --layer-decay 1.0 --eval-every 250 --save-every 250
step "export to ONNX (fused SpanDynamicConv)"
"$CONVBERT" export --model "$out/sst2" --output "$out/export/sst2.onnx"
step "score dev with the accuracy gate"
"$CONVBERT" score --model "$out/export/sst2.onnx" --task sst-2 --data-dir "$data" --split dev --output "$out/score-dev.json"
step "the same dev split on an embedded Apache Spark (local[2]): the same accuracy, rows through Spark's committer"
"$CONVBERT" spark-score --model "$out/export/sst2.onnx" --task sst-2 --split dev --data-dir "$data" --output "$out/spark-dev" \
  --master 'local[2]'
step "test-set submission"
"$CONVBERT" score --model "$out/export/sst2.onnx" --task sst-2 --data-dir "$data" --split test --submission-dir "$out/submission"
step "latency benchmark (short grid; scripts/benchmark.sh for the full one)"
"$CONVBERT" benchmark --model "$out/sst2" --task sst-2 --data-dir "$data" --output "$out/benchmark" \
  --batch-sizes 1,8,32 --seq-lengths 32,128 --repeats 3 --min-seconds 0.3
step "optimize: the fastest export that passes the gate, with its run settings in its card (short timing)"
"$CONVBERT" optimize --model "$out/sst2" --task sst-2 --data-dir "$data" --output "$out/optimized" --fresh \
  --min-seconds 0.3 --max-runs 20
"$CONVBERT" score --model "$out/optimized/sst2.onnx" --task sst-2 --data-dir "$data" --split dev
step "done in $(( $(date +%s) - start )) s. Artefacts:"
cat <<TXT
  model directory (HF layout):   $out/sst2  (training_metrics.json, train.log, metrics.jsonl)
  ONNX export + model card:      $out/export/sst2.onnx, $out/export/sst2.card.json
  dev score + gate (JSON):       $out/score-dev.json
  Spark-scored dev rows:         $out/spark-dev  (Parquet, _convbert.json)
  GLUE submission:               $out/submission/SST-2.tsv
  benchmark:                     $out/benchmark/summary.md, results.json, results.csv, latency.png
  optimized export + report:     $out/optimized/sst2.onnx (run_settings in sst2.card.json), optimize.md, optimize.png
TXT
