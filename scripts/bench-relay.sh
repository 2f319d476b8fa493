#!/usr/bin/env bash
# Collector throughput on loopback, side by side with the plain file pipeline on the same data:
# one generated trace (~100 MB), read by `etwire dump` (the file pipeline) and by `etwire stats`
# (events, no output), then sent through send -> collect (plain TCP on 127.0.0.1) by 1 and by
# 8 concurrent senders, saving .etl only and then .etl + decoded JSON. Prints MB/s of buffers
# and events/s for each, and the ratio to the file pipeline. Usage: scripts/bench-relay.sh [build]
set -euo pipefail
build=${1:-build}
etwire="$build/etwire"
[ -x "$etwire" ] || { echo "no $etwire: build first (cmake -S . -B build && cmake --build build)"; exit 1; }
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

"$etwire" generate --seed 42 --events 400000 -o "$tmp/t.etl" 2>/dev/null
bytes=$(stat -c %s "$tmp/t.etl")
events=$("$etwire" stats "$tmp/t.etl" | awk '/^events:/ {print $2}')
echo "trace: $bytes bytes, $events events"
now() { date +%s.%N; }
rate() { awk -v b="$1" -v e="$2" -v s="$3" 'BEGIN { printf "%8.1f MB/s %10.0f events/s", b / s / 1e6, e / s }'; }

t0=$(now); "$etwire" dump -f json "$tmp/t.etl" > /dev/null; t1=$(now)
base=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
printf "%-34s %s  (%.2f s)\n" "file: etwire dump -f json" "$(rate "$bytes" "$events" "$base")" "$base"
t0=$(now); "$etwire" stats "$tmp/t.etl" > /dev/null; t1=$(now)
s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
printf "%-34s %s  (%.2f s)\n" "file: etwire stats" "$(rate "$bytes" "$events" "$s")" "$s"

run() { # run NAME SENDERS COLLECT-OPTIONS...
  local name=$1 n=$2
  shift 2
  rm -rf "$tmp/out" "$tmp/json" "$tmp/port"
  "$etwire" collect --listen 127.0.0.1:0 --plain --port-file "$tmp/port" --out "$tmp/out" \
      --reorder unbounded "$@" 2> "$tmp/collect.log" &
  local collector=$!
  for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
  local port
  port=$(cat "$tmp/port")
  t0=$(now)
  local pids=()
  for i in $(seq "$n"); do
    "$etwire" send --to "127.0.0.1:$port" --plain --source "s$i" "$tmp/t.etl" 2> "$tmp/send$i.log" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  kill -TERM "$collector"; wait "$collector" || true
  t1=$(now)
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  printf "%-34s %s  (%.2f s, %.2fx the file pipeline)\n" "$name" \
      "$(rate $((bytes * n)) $((events * n)) "$secs")" "$secs" \
      "$(awk -v b="$base" -v s="$secs" -v n="$n" 'BEGIN { print (b * n) / s }')"
}
run "send->collect, .etl, 1 sender" 1
run "send->collect, .etl, 8 senders" 8
run "send->collect, .etl+JSON, 1 sender" 1 --json "$tmp/json"
run "send->collect, .etl+JSON, 8 senders" 8 --json "$tmp/json"
