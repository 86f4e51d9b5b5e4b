#!/usr/bin/env bash
# Soak: produce and consume at a steady rate for a long time against `kinlocal serve
# --data-dir`, sampling the engine's and the consumer's RSS and the journal size, then checking
# that every produced record was delivered exactly as often as it was produced.
#
#   bench/soak.sh [DURATION_SECONDS=600] [RATE=2000] [SHARDS=4] [MAX_RETENTION=2m]
#
# The engine runs with `--max-retention MAX_RETENTION` so that retention trims within the run
# (a stream's own minimum is 24 hours): from then on the engine holds only that much traffic,
# and its RSS and journal should stop growing. Uses target/release/kinlocal (built with
# `cargo build --release` if missing). Prints one sample line every 10 s and a summary; the
# samples are also left in $OUT (default: a temp dir).
set -euo pipefail

DURATION=${1:-600}
RATE=${2:-2000}
SHARDS=${3:-4}
MAX_RETENTION=${4:-2m}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${KINLOCAL_BIN:-$ROOT/target/release/kinlocal}
OUT=${OUT:-$(mktemp -d)}
DATA=$OUT/data
mkdir -p "$DATA"

if [ ! -x "$BIN" ]; then
  (cd "$ROOT" && cargo build --release)
fi

cleanup() {
  [ -n "${CONSUMER:-}" ] && kill "$CONSUMER" 2>/dev/null || true
  [ -n "${PRODUCER:-}" ] && kill "$PRODUCER" 2>/dev/null || true
  [ -n "${ENGINE:-}" ] && kill "$ENGINE" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

"$BIN" serve --port 0 --json --data-dir "$DATA" --max-retention "$MAX_RETENTION" >"$OUT/engine.out" 2>"$OUT/engine.err" &
ENGINE=$!
for _ in $(seq 100); do
  [ -s "$OUT/engine.out" ] && break
  sleep 0.1
done
ENDPOINT=$(sed -n 's/.*"endpoint":"\([^"]*\)".*/\1/p' "$OUT/engine.out" | head -n1)
[ -n "$ENDPOINT" ] || { echo "engine did not start: $(cat "$OUT/engine.err")" >&2; exit 1; }

# The handler: appends each record's sequence number to a file, one per line.
HANDLER=$OUT/handler.py
cat >"$HANDLER" <<'EOF'
import json, sys
event = json.load(sys.stdin)
with open(sys.argv[1], "a") as out:
    for r in event["Records"]:
        out.write(r["kinesis"]["sequenceNumber"] + "\n")
print("null")
EOF

"$BIN" create-stream soak --shards "$SHARDS" --endpoint-url "$ENDPOINT" >/dev/null
"$BIN" consume --stream soak --endpoint-url "$ENDPOINT" --batch-size 1000 --timeout 60s \
  --exec "python3 $HANDLER" -- "$OUT/delivered.txt" >/dev/null 2>"$OUT/consumer.err" &
CONSUMER=$!
"$BIN" produce --stream soak --endpoint-url "$ENDPOINT" --rate "$RATE" --duration "${DURATION}s" \
  --json >"$OUT/produce.json" 2>"$OUT/produce.err" &
PRODUCER=$!

rss() { awk '/^VmRSS/ {print int($2/1024)}' "/proc/$1/status" 2>/dev/null || echo 0; }
echo "seconds engine_rss_mib consumer_rss_mib journal_mib delivered" | tee "$OUT/samples.txt"
start=$(date +%s)
while kill -0 "$PRODUCER" 2>/dev/null; do
  sleep 10
  now=$(( $(date +%s) - start ))
  journal=$(( $(stat -c %s "$DATA/kinesis.journal") / 1048576 ))
  delivered=$(wc -l <"$OUT/delivered.txt" 2>/dev/null || echo 0)
  echo "$now $(rss "$ENGINE") $(rss "$CONSUMER") $journal $delivered" | tee -a "$OUT/samples.txt"
done
wait "$PRODUCER"
PRODUCER=

produced=$(sed -n 's/.*"records":\([0-9]*\).*/\1/p' "$OUT/produce.json" | head -n1)
# Let the consumer drain what is left.
for _ in $(seq 120); do
  delivered=$(wc -l <"$OUT/delivered.txt")
  [ "$delivered" -ge "${produced:-0}" ] && break
  sleep 1
done
unique=$(sort -u "$OUT/delivered.txt" | wc -l)
# RSS and journal over the run: the first minute (start-up), then the rest.
awk 'NR > 1 && $1 > 60 {
       if (!n++) { emin = emax = $2; cmin = cmax = $3; jmax = $4 }
       if ($2 < emin) emin = $2; if ($2 > emax) emax = $2
       if ($3 < cmin) cmin = $3; if ($3 > cmax) cmax = $3
       if ($4 > jmax) jmax = $4
     }
     END { if (n) printf "after the first minute: engine RSS %d-%d MiB, consumer RSS %d-%d MiB, journal at most %d MiB\n", emin, emax, cmin, cmax, jmax }' \
  "$OUT/samples.txt"
echo "produced (acknowledged): ${produced:-?}"
echo "delivered: $delivered (unique sequence numbers: $unique)"
echo "lost: $(( ${produced:-0} - unique ))"
echo "samples and logs: $OUT"
