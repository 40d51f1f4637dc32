#!/usr/bin/env bash
# The training issue's quality and speed bars, what `make bench-train` runs:
#
#   scripts/bench-train.sh BIN
#
# Full Fashion-MNIST (60,000 train / 10,000 test) through EfficientNet-Lite0 (extracted once into the cache;
# reruns reuse it), then in the same sitting: our softmax head (configs/fashion-mnist.yaml settings, training
# time as `train` reports it, test accuracy from `evaluate`) and scikit-learn's LogisticRegression on the very
# same vectors (exported with `bottleneck vectors`).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:?usage: scripts/bench-train.sh BIN}
DATA=${DATA:-datasets/fashion-mnist-full}
RUN=${RUN:-runs/fashion-mnist-full}
VECTORS=${VECTORS:-build/fashion-mnist-vectors}

echo "== training bench $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc)"
"$BIN" datasets prepare fashion-mnist --output "$DATA" | tail -1
"$BIN" extract --config configs/fashion-mnist.yaml --data "$DATA" 2>/dev/null | grep 'images in this shard'
"$BIN" train --config configs/fashion-mnist.yaml --data "$DATA" --output "$RUN" | grep -E '^trained in'
"$BIN" evaluate --run "$RUN" | grep -E '^ +accuracy'
"$BIN" vectors --config configs/fashion-mnist.yaml --data "$DATA" --output "$VECTORS" | tail -1
.venv/bin/python scripts/sklearn_baseline.py "$VECTORS"
