#!/usr/bin/env bash
# The int8 stretch's accuracy bar, what `make bench-int8` runs after the throughput table:
#
#   scripts/bench-int8-accuracy.sh BIN
#
# Full Fashion-MNIST (60,000 train / 10,000 test) extracted by EfficientNet-Lite0 at fp32 and at int8 (two cache
# namespaces; reruns reuse them), the same softmax head trained on each (configs/fashion-mnist.yaml, seed 0),
# then both test accuracies and their difference. Extraction rates are printed too (cold cache only).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:?usage: scripts/bench-int8-accuracy.sh BIN}
DATA=${DATA:-datasets/fashion-mnist-full}

echo "== int8 accuracy bench $(date -u '+%Y-%m-%d %H:%M:%S UTC')," \
    "commit $(git rev-parse --short HEAD 2>/dev/null || echo none)"
"$BIN" datasets prepare fashion-mnist --output "$DATA" | tail -1
declare -A accuracy
for precision in fp32 int8; do
    run=runs/fashion-mnist-full-$precision
    echo "-- $precision"
    "$BIN" extract --config configs/fashion-mnist.yaml --data "$DATA" --precision "$precision" 2>/dev/null \
        | grep -E 'images in this shard|img/s'
    "$BIN" train --config configs/fashion-mnist.yaml --data "$DATA" --precision "$precision" --output "$run" \
        | grep -E '^trained in'
    accuracy[$precision]=$("$BIN" evaluate --run "$run" | awk '$1 == "accuracy" { print $2; exit }')
    echo "test accuracy ($precision): ${accuracy[$precision]}"
done
python3 -c "import sys; f, i = map(float, sys.argv[1:]); print(f'int8 - fp32: {100 * (i - f):+.2f} points')" \
    "${accuracy[fp32]}" "${accuracy[int8]}"
