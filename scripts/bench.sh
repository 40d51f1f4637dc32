#!/usr/bin/env bash
# Times our engine and onnxruntime on the same model in the same sitting (what `make bench` runs):
#
#   scripts/bench.sh BIN MODEL          e.g. scripts/bench.sh .build/release/bottleneck models/efficientnet-lite0.onnx
#
# For each thread count (THREADS, default "1 2") it alternates ours and onnxruntime ROUNDS times (default 3), so
# that drift in the machine's speed hits both alike, prints both tools' own lines, then a table of medians and
# ratios. onnxruntime runs
# from the project venv through ../shared/bench/ort_bench.py (SHARED overrides ../shared). PRECISION=int8 runs our
# engine in int8 (onnxruntime stays fp32: the int8 stretch is measured against onnxruntime's fp32).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:?usage: scripts/bench.sh BIN MODEL}
MODEL=${2:?usage: scripts/bench.sh BIN MODEL}
SHARED=${SHARED:-../shared}
THREADS=${THREADS:-1 2}
ROUNDS=${ROUNDS:-3}
BATCHES=${BATCHES:-1,8,32}
PRECISION=${PRECISION:-fp32}
ORT_BENCH=$SHARED/bench/ort_bench.py

echo "== bench $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "== cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc)"
echo "== model: $MODEL ($(stat -c %s "$MODEL") bytes), commit $(git rev-parse --short HEAD 2>/dev/null || echo none)"
echo "== precision: ours $PRECISION, onnxruntime fp32"
echo "== onnxruntime $(.venv/bin/python -c 'import onnxruntime; print(onnxruntime.__version__)')"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in $THREADS; do
    for r in $(seq 1 "$ROUNDS"); do
        echo
        echo "-- threads $t, round $r/$ROUNDS: bottleneck ($PRECISION)"
        "$BIN" bench --model "$MODEL" --batch "$BATCHES" --threads "$t" --precision "$PRECISION" \
            | sed 's/^/bottleneck /' | tee -a "$log"
        echo "-- threads $t, round $r/$ROUNDS: onnxruntime"
        .venv/bin/python "$ORT_BENCH" "$MODEL" "$t" | sed 's/^/onnxruntime /' | tee -a "$log"
    done
done

# Medians over the rounds, and our throughput as a multiple of onnxruntime's (above 1: we are faster).
echo
.venv/bin/python - "$log" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\S+) threads=(\d+) bs=(\d+) median ([\d.]+) ms/batch\s+([\d.]+) img/s", line)
    if m:
        tool, t, b, ms, ips = m.groups()
        runs.setdefault((int(t), int(b)), {}).setdefault(tool, []).append((float(ms), float(ips)))
print("| threads | batch | bottleneck ms/batch | bottleneck img/s | onnxruntime ms/batch | onnxruntime img/s | ratio |")
print("|---|---|---|---|---|---|---|")
for (t, b), tools in sorted(runs.items()):
    ours, peer = tools.get("bottleneck"), tools.get("onnxruntime")
    if not ours or not peer:
        continue
    med = lambda xs, i: statistics.median(x[i] for x in xs)
    print(f"| {t} | {b} | {med(ours, 0):.1f} | {med(ours, 1):.1f} | {med(peer, 0):.1f} | {med(peer, 1):.1f} | "
          f"{med(ours, 1) / med(peer, 1):.2f}x |")
PY
