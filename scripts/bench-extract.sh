#!/usr/bin/env bash
# End-to-end extraction throughput (decode + preprocess + backbone + cache write), what `make bench-extract` runs:
#
#   scripts/bench-extract.sh BIN MODEL
#
# Two datasets: a Fashion-MNIST subset (28x28 PNGs, PER_CLASS per class and split) and JPEGs of 640x480 made from
# the golden images (scripts/make_bench_jpegs.py, JPEGS of them). Each is extracted cold (empty cache) then warm
# (everything cached), into a local folder and into S3 (moto's server on 127.0.0.1, started here). The backbone
# alone (`bottleneck bench`, batch 32) is measured in the same sitting for the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:?usage: scripts/bench-extract.sh BIN MODEL}
MODEL=${2:?usage: scripts/bench-extract.sh BIN MODEL}
WORK=${WORK:-build/bench-extract}
PER_CLASS=${PER_CLASS:-100}
JPEGS=${JPEGS:-400}
THREADS=${THREADS:-2}

mkdir -p "$WORK"
echo "== extraction bench $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc), threads $THREADS"
"$BIN" datasets prepare fashion-mnist --per-class "$PER_CLASS" --output "$WORK/fashion-mnist" >/dev/null
[ -d "$WORK/photos/photo" ] || .venv/bin/python scripts/make_bench_jpegs.py "$WORK/photos/photo" "$JPEGS" >/dev/null

port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
trap 'kill -9 $moto 2>/dev/null || true' EXIT
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$port
for _ in $(seq 100); do
    .venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null && break
    sleep 0.1
done
.venv/bin/python -c "import boto3; boto3.client('s3', endpoint_url='http://127.0.0.1:$port').create_bucket(Bucket='bench')"

echo
"$BIN" bench --model "$MODEL" --batch 32 --threads "$THREADS" --runs 5 | sed 's/^/backbone alone: /'
echo
echo "| data | images | cache | cold: extraction img/s | cold: whole command, s | warm: whole command, s |"
echo "|---|---|---|---|---|---|"
for data in fashion-mnist photos; do
    for cache in local s3; do
        if [ "$cache" = local ]; then
            rm -rf "$WORK/cache-$data"
            location="$WORK/cache-$data"
        else
            location="s3://bench/$data-$(date +%s%N)"
        fi
        # Wall time of the whole command (model load, scan and hashing, cache open, extraction, commit), and
        # the summary line's extraction rate.
        run() {
            local start end line
            start=$(date +%s.%N)
            line=$("$BIN" extract --data "$WORK/$data" --backbone "$MODEL" --cache "$location" --threads "$THREADS" 2>/dev/null | grep 'images in this shard')
            end=$(date +%s.%N)
            echo "$line|$(awk "BEGIN { print $end - $start }")"
        }
        cold=$(run)
        warm=$(run)
        images=$(sed -E 's/^([0-9]+) images.*/\1/' <<<"$cold")
        rate=$(sed -E 's/.*\(([0-9.]+) img\/s\).*/\1/' <<<"$cold")
        printf '| %s | %s | %s | %s | %.2f | %.2f |\n' "$data" "$images" "$cache" "$rate" "${cold##*|}" "${warm##*|}"
    done
done
