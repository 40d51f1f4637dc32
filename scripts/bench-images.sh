#!/usr/bin/env bash
# Decode + resize + normalise throughput against Pillow on the same ~640x480 JPEGs, same sitting, one thread each
# (what `make bench-images` runs):
#
#   scripts/bench-images.sh BIN
#
# The JPEGs come from scripts/make_bench_jpegs.py (COUNT of them, seeded); ROUNDS sittings alternate the tools.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:?usage: scripts/bench-images.sh BIN}
WORK=${WORK:-build/bench-images}
COUNT=${COUNT:-200}
ROUNDS=${ROUNDS:-3}

[ -d "$WORK" ] || .venv/bin/python scripts/make_bench_jpegs.py "$WORK" "$COUNT" >/dev/null
echo "== image bench $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(lscpu | sed -n 's/^Model name: *//p' | head -1), Pillow $(.venv/bin/python -c 'import PIL; print(PIL.__version__)')"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for r in $(seq 1 "$ROUNDS"); do
    "$BIN" bench-images --images "$WORK" --threads 1 --rounds 5 | head -1 | tee -a "$log"
    .venv/bin/python scripts/pillow_preprocess_bench.py "$WORK" --rounds 5 | head -1 | tee -a "$log"
done
.venv/bin/python - "$log" <<'PY'
import re, statistics, sys
rates = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\S+) threads=\d+ images=\d+ median ([\d.]+) img/s", line)
    if m:
        rates.setdefault(m.group(1), []).append(float(m.group(2)))
ours, pillow = statistics.median(rates["bottleneck-preprocess"]), statistics.median(rates["pillow-preprocess"])
print(f"median of {len(rates['pillow-preprocess'])} sittings: bottleneck {ours:.1f} img/s, Pillow {pillow:.1f} img/s, ratio {ours / pillow:.2f}x")
PY
