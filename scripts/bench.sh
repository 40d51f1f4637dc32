#!/usr/bin/env bash
# Times our engine and onnxruntime on the same model in the same sitting (what `make bench` runs):
#
#   scripts/bench.sh BIN MODEL          e.g. scripts/bench.sh .build/release/bottleneck models/efficientnet-lite0.onnx
#
# For each thread count (THREADS, default "1 2") it alternates ours and onnxruntime ROUNDS times (default 3), so
# that drift in the machine's speed hits both alike, and prints both tools' own output unparsed. onnxruntime runs
# from the project venv through ../shared/bench/ort_bench.py (SHARED overrides ../shared).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:?usage: scripts/bench.sh BIN MODEL}
MODEL=${2:?usage: scripts/bench.sh BIN MODEL}
SHARED=${SHARED:-../shared}
THREADS=${THREADS:-1 2}
ROUNDS=${ROUNDS:-3}
BATCHES=${BATCHES:-1,8,32}
ORT_BENCH=$SHARED/bench/ort_bench.py

echo "== bench $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "== cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc)"
echo "== model: $MODEL ($(stat -c %s "$MODEL") bytes), commit $(git rev-parse --short HEAD 2>/dev/null || echo none)"
echo "== onnxruntime $(.venv/bin/python -c 'import onnxruntime; print(onnxruntime.__version__)')"

for t in $THREADS; do
    for r in $(seq 1 "$ROUNDS"); do
        echo
        echo "-- threads $t, round $r/$ROUNDS: bottleneck"
        "$BIN" bench --model "$MODEL" --batch "$BATCHES" --threads "$t"
        echo "-- threads $t, round $r/$ROUNDS: onnxruntime"
        .venv/bin/python "$ORT_BENCH" "$MODEL" "$t"
    done
done
