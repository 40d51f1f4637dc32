#!/usr/bin/env bash
# Lambda figures of the packaged function, measured under the AWS Lambda Runtime Interface Emulator:
# cold start (first invocation: process start, model load, first image), warm latency per image, peak RSS of the
# bootstrap, and the zip's size.
#
#   scripts/bench-lambda.sh ZIP IMAGE [ROUNDS]      (what `make bench-lambda` runs)
#
# ZIP is build/lambda.zip from `bottleneck package-lambda`; IMAGE a JPEG or PNG served from a local HTTP server on
# 127.0.0.1 (loopback is allowed for this run only: BOTTLENECK_ALLOW_LOOPBACK=1). The zip is unzipped once. Each round
# it starts a fresh emulator + bootstrap, invokes once (the cold start: from launching the emulator to that first
# response), then WARM more times. Medians are printed.
set -euo pipefail
cd "$(dirname "$0")/.."

zip=${1:?usage: bench-lambda.sh ZIP IMAGE [ROUNDS]}
image=${2:?usage: bench-lambda.sh ZIP IMAGE [ROUNDS]}
rounds=${3:-5}
warm=${WARM:-20}
rie=build/tools/aws-lambda-rie-x86_64
python=.venv/bin/python
[ -x "$rie" ] || { echo "no $rie: run \`make rie\`" >&2; exit 1; }
[ -s "$zip" ] || { echo "no $zip: run \`make lambda\`" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
rie_pid=""
cleanup() {
    status=$?
    # curl -sf is silent: on failure the emulator's and bootstrap's output is the only clue.
    if [ "$status" != 0 ] && [ -s "$work/rie.log" ]; then
        echo "bench-lambda failed (exit $status); the emulator's log:" >&2
        cat "$work/rie.log" >&2
    fi
    [ -n "$rie_pid" ] && kill "$rie_pid" 2>/dev/null || true
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

unzip -q "$zip" -d "$work/task"
mkdir -p "$work/www"
cp "$image" "$work/www/image"

free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
image_port=$(free_port)
"$python" -m http.server "$image_port" --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$image_port/image" -o /dev/null && break; sleep 0.1; done

event="{\"url\": \"http://127.0.0.1:$image_port/image\", \"top\": 3}"
now_ms() { date +%s%3N; }

echo "zip: $(stat -c %s "$zip") bytes ($(du -m "$zip" | cut -f1) MiB), unzipped $(du -sm "$work/task" | cut -f1) MiB"
cold=()
warm_all=()
rss=()
for round in $(seq "$rounds"); do
    api_port=$(free_port)
    invoke_port=$(free_port)
    start=$(now_ms)
    env -i PATH=/usr/bin:/bin TZ=UTC LAMBDA_TASK_ROOT="$work/task" \
        LD_LIBRARY_PATH="/lib64:/usr/lib64:$work/task:$work/task/lib" \
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=3538 BOTTLENECK_ALLOW_LOOPBACK=1 \
        "$rie" --runtime-interface-emulator-address "127.0.0.1:$invoke_port" \
        --runtime-api-address "127.0.0.1:$api_port" "$work/task/bootstrap" >"$work/rie.log" 2>&1 &
    rie_pid=$!
    url="http://127.0.0.1:$invoke_port/2015-03-31/functions/function/invocations"
    # Cold start: from launching the emulator (which starts the bootstrap) to the first response.
    for _ in $(seq 500); do (exec 3<>"/dev/tcp/127.0.0.1/$invoke_port") 2>/dev/null && break; sleep 0.01; done
    first=$(curl -sf -XPOST "$url" -d "$event")
    cold+=($(( $(now_ms) - start )))
    [ "$round" = 1 ] && echo "first response: $first"
    for _ in $(seq "$warm"); do
        start=$(now_ms)
        curl -sf -XPOST "$url" -d "$event" >/dev/null
        warm_all+=($(( $(now_ms) - start )))
    done
    bootstrap_pid=$(pgrep -f "^$work/task/bootstrap" | head -1)
    rss+=($(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$bootstrap_pid/status"))
    kill "$rie_pid"; wait "$rie_pid" 2>/dev/null || true
    rie_pid=""
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
echo "cold start (first invocation, emulator -> bootstrap init -> fetch + classify): median $(median "${cold[@]}") ms" \
    "of $rounds (${cold[*]})"
echo "warm invocation (fetch from 127.0.0.1 + decode + classify, through the emulator): median" \
    "$(median "${warm_all[@]}") ms of $(( rounds * warm ))"
echo "peak RSS of the bootstrap: median $(median "${rss[@]}") MiB (${rss[*]})"
