#!/usr/bin/env bash
# A real Spark standalone cluster on this machine's loopback, and spark-score submitted to it (docs/SPARK.md):
#   scripts/spark-standalone.sh [--workers N] MODEL.onnx GLUE_DIR TASK SPLIT OUT_DIR
# Starts a master and N workers (1 core each) from Spark's own classes (the jars Maven fetched, as SPARK_HOME/jars),
# submits the spark-submit jar through SparkSubmit to spark://127.0.0.1:PORT, runs `score` on the same split, and
# compares: the test split's submission files must be identical (a dev split: the same metrics). Stops every process
# it started, whatever happens. Writes OUT_DIR/standalone.json (rows, seconds, rows/s, workers) and the logs.
set -euo pipefail
source "$(dirname "$0")/common.sh"
workers=2
if [[ "${1:-}" == "--workers" ]]; then
  workers=$2
  shift 2
fi
if [[ $# -ne 5 ]]; then
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
model=$(realpath "$1"); glue=$(realpath "$2"); task=$3; split=$4; out=$5
mkdir -p "$out"
out=$(realpath "$out")
vocab_args=()
if [[ ! -f "${model%.onnx}.vocab.txt" ]]; then
  vocab_args=(--vocab "$VOCAB")      # an export without its own vocabulary: BERT's, which the tests' models use
fi
jar="$ROOT/spark/target/convbert-spark-0.1.0-SNAPSHOT-spark-submit.jar"
# the job jar as the sources are now (a stale one would run yesterday's code on the cluster)
(cd "$ROOT" && mvn -q -B -DskipTests package -pl spark -am) >&2

# SPARK_HOME: Spark's jars as a distribution lays them out (the spark module's classpath less what the job jar carries)
home="$out/spark-home"
rm -rf "$home" && mkdir -p "$home/jars"
# -am: the spark module's siblings resolve from the reactor; the last module written (spark) leaves its classpath
(cd "$ROOT" && mvn -q -B dependency:build-classpath -pl spark -am -Dmdep.outputFile="$home/classpath.txt") >&2
tr ':' '\n' < "$home/classpath.txt" \
  | grep -v -E '/target/classes|/dev/convbert/|onnxruntime|tribuo|protobuf-java|picocli|progressbar|/jline|io/prometheus' \
  | while read -r j; do ln -s "$j" "$home/jars/"; done
touch "$home/RELEASE"
export SPARK_HOME="$home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1
opens=""
for p in java.lang java.lang.invoke java.io java.net java.nio java.util java.util.concurrent sun.nio.ch sun.nio.cs \
         sun.security.action sun.util.calendar; do
  opens="$opens --add-opens=java.base/$p=ALL-UNNAMED"
done

pids=()
stop() {
  for p in "${pids[@]:-}"; do
    [[ -n "$p" ]] && kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]:-}"; do
    [[ -n "$p" ]] && wait "$p" 2>/dev/null || true
  done
}
trap stop EXIT INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# shellcheck disable=SC2086
java -Xmx1g $opens -cp "$home/jars/*" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" \
  --webui-port 0 > "$out/master.log" 2>&1 &
pids+=($!)
for i in $(seq 1 "$workers"); do
  mkdir -p "$out/worker-$i"
  # shellcheck disable=SC2086
  java -Xmx1g $opens -cp "$home/jars/*" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 --memory 3g \
    --webui-port 0 --work-dir "$out/worker-$i" "spark://127.0.0.1:$port" > "$out/worker-$i.log" 2>&1 &
  pids+=($!)
done
deadline=$((SECONDS + 90))
until [[ $(grep -c "Registering worker" "$out/master.log" 2>/dev/null || true) -ge $workers ]]; do
  if (( SECONDS > deadline )); then
    echo "spark-standalone: the workers did not register within 90 s (see $out/master.log)" >&2
    exit 1
  fi
  sleep 1
done
echo "spark-standalone: master spark://127.0.0.1:$port with $workers worker(s) of 1 core"

rm -rf "$out/spark-score"
start=$(date +%s.%N)
# shellcheck disable=SC2086
java -Xmx2g $opens -cp "$home/jars/*:$jar" org.apache.spark.deploy.SparkSubmit --master "spark://127.0.0.1:$port" \
  --class dev.convbert.spark.SparkScoreCommand --conf spark.executor.memory=2g --conf spark.executor.cores=1 \
  --conf spark.ui.enabled=false "$jar" \
  --model "$model" "${vocab_args[@]}" --task "$task" --split "$split" --data-dir "$glue" --output "$out/spark-score" \
  > "$out/spark-submit.log" 2>&1 || { echo "spark-standalone: spark-submit failed (see $out/spark-submit.log)" >&2; tail -5 "$out/spark-submit.log" >&2; exit 1; }
end=$(date +%s.%N)

"$CONVBERT" score --model "$model" "${vocab_args[@]}" --task "$task" --split "$split" --data-dir "$glue" \
  --submission-dir "$out/score-submission" --output "$out/score.json" > "$out/score.log" 2>&1 || true
if [[ "$split" == test* ]]; then
  for f in "$out"/score-submission/*.tsv; do
    cmp "$f" "$out/spark-score/submission/$(basename "$f")" \
      || { echo "spark-standalone: $(basename "$f") differs from score's" >&2; exit 1; }
  done
  echo "spark-standalone: the cluster's submission equals score's"
fi
rows=$(python3 -c "import json; print(json.load(open('$out/spark-score/_convbert.json'))['rows'])")
python3 - "$out" "$workers" "$rows" "$start" "$end" <<'PY'
import json, sys
out, workers, rows, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
summary = json.load(open(f"{out}/spark-score/_convbert.json"))
result = {"workers": workers, "cores_per_worker": 1, "rows": rows, "submit_seconds": round(end - start, 1),
          "job_seconds": round(summary["seconds"], 2), "rows_per_s": round(summary["rows_per_s"], 1),
          "master": summary["master"], "executors": summary["executors"]}
json.dump(result, open(f"{out}/standalone.json", "w"), indent=2)
print(f"spark-standalone: {rows} rows in {result['job_seconds']} s of job ({result['rows_per_s']} rows/s) on "
      f"{workers} worker(s); {result['submit_seconds']} s with the submit")
PY
