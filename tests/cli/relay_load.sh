#!/bin/bash
# Load on loopback: 64 senders at once, each its own source and session, against one collector
# with a small per-connection memory quota. Every session's .etl and JSON must be exact, and the
# collector's peak resident memory must stay under its configured bound.
# Usage: relay_load.sh ETWIRE SHARED_DIR
. "$(dirname "$0")/relay_lib.bash"

SENDERS=64
make_trace l --seed 51 --events 6000 --processors 2 --buffer-size 16K
QUOTA=$((1 << 20)) # bytes in flight per connection
# Bound: the quota and one frame per connection, plus 64 MiB for the process itself (more
# under sanitizers, whose shadow memory and quarantine count as resident too).
BASE=$((64 << 20))
grep -q __asan_init "$ETWIRE" && BASE=$((512 << 20))
grep -q __tsan_init "$ETWIRE" && BASE=$((2048 << 20))
BOUND_KB=$(( (SENDERS * (QUOTA + 16384) + BASE) / 1024 ))
start_collector load --out "$WORK/out" --json "$WORK/json" --max-memory $QUOTA \
    --max-connections 128 --window 32
START=$(date +%s.%N)
SENDS=()
for i in $(seq $SENDERS); do
    timeout 120 "$ETWIRE" send --to "127.0.0.1:$PORT" --plain --source "load-$i" --window 32 \
        --retry 30 "$WORK/l.etl" 2>>"$WORK/send.log" &
    SENDS+=($!)
done
for p in "${SENDS[@]}"; do wait "$p" || fail "a sender failed"; done
END=$(date +%s.%N)
PEAK_KB=$(awk '/VmHWM/ {print $2}' "/proc/$COLLECTOR_PID/status")
stop_collector

"$ETWIRE" dump --format json "$WORK/l.etl" >"$WORK/want.jsonl"
for i in $(seq $SENDERS); do
    cmp -s "$WORK/l.etl" "$WORK"/out/load-$i/l-*.etl || fail "load-$i: saved .etl differs"
    cmp -s <(sort "$WORK/want.jsonl") <(sort "$WORK"/json/load-$i/l-*.jsonl) || fail "load-$i: JSON differs"
done
[ "$PEAK_KB" -lt "$BOUND_KB" ] || fail "collector peak memory ${PEAK_KB} KiB over the bound ${BOUND_KB} KiB"
MB=$(( SENDERS * $(stat -c %s "$WORK/l.etl") / 1048576 ))
echo "relay load: ok ($SENDERS senders, $MB MiB in $(echo "$END - $START" | bc) s," \
    "collector peak ${PEAK_KB} KiB, bound ${BOUND_KB} KiB)"
