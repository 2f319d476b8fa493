#!/usr/bin/env bash
# Collector and sender throughput on loopback, whole processes, side by side in one run with a
# plain read of the same file (`cat FILE > /dev/null`, page cache) and the file pipeline
# (`etwire dump -f json`): one generated trace (~100 MB, 64 KiB buffers), sent by `etwire send`
# (buffers straight from the file index) to `etwire collect` (plain TCP on 127.0.0.1) by 1 and
# 8 concurrent senders, saving .etl only, then .etl + decoded JSON. Each case runs RUNS times
# (default 3); the table shows the median MB/s of buffers, the ratio to the plain read, and the
# collector's CPU (user+sys seconds per wall second: 2.0 = both cores) and its MB per CPU-second;
# the load average is printed since other processes stretch wall times. The aims (issue #11):
# .etl >= 1000 MB/s and .etl+JSON >= 300 MB/s with one sender; 8 senders use both cores.
# Usage: scripts/bench-relay.sh [build] [runs]
set -euo pipefail
build=${1:-build}
runs=${2:-3}
etwire="$build/etwire"
[ -x "$etwire" ] || { echo "no $etwire: build first (cmake -S . -B build && cmake --build build)"; exit 1; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package time)"; exit 1; }
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

"$etwire" generate --seed 42 --events 400000 -o "$tmp/t.etl" 2>/dev/null
bytes=$(stat -c %s "$tmp/t.etl")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "trace: $bytes bytes (generated, 64 KiB buffers); $runs runs each, medians"
now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }

timed() { # timed CMD...: median wall seconds of RUNS runs
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(now); "$@" >/dev/null; t1=$(now)
    elapsed "$t0" "$t1"
  done | median
}
cat "$tmp/t.etl" >/dev/null # into the page cache
read_s=$(timed cat "$tmp/t.etl")
dump_s=$(timed "$etwire" dump -f json "$tmp/t.etl")
row() { # row NAME BYTES SECONDS [CPU]
  printf "%-36s %9.1f MB/s  %6.2fx a plain read  %s\n" "$1" "$(awk -v b="$2" -v s="$3" 'BEGIN { print b / s / 1e6 }')" \
      "$(awk -v r="$read_s" -v b="$2" -v s="$3" -v o="$bytes" 'BEGIN { print (s / (b / o)) / r }')" "${4:-}"
}
row "plain read (cat)" "$bytes" "$read_s"
row "file: etwire dump -f json" "$bytes" "$dump_s"

once() { # once SENDERS COLLECT-OPTIONS...: prints "seconds cpu"
  local n=$1
  shift
  rm -rf "$tmp/out" "$tmp/json" "$tmp/port"
  /usr/bin/time -f "%U %S" -o "$tmp/cpu" "$etwire" collect --listen 127.0.0.1:0 --plain \
      --port-file "$tmp/port" --out "$tmp/out" --reorder unbounded "$@" 2>"$tmp/collect.log" &
  local timer=$!
  for _ in $(seq 200); do [ -s "$tmp/port" ] && break; sleep 0.05; done
  local port pids=() t0 t1 collector
  port=$(cat "$tmp/port")
  collector=$(pgrep -P "$timer")
  t0=$(now)
  for i in $(seq "$n"); do
    "$etwire" send --to "127.0.0.1:$port" --plain --source "s$i" "$tmp/t.etl" 2>"$tmp/send$i.log" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  t1=$(now) # every session is acknowledged: saved (and with JSON, decoded) whole
  kill -TERM "$collector"
  wait "$timer" || true
  local secs
  secs=$(elapsed "$t0" "$t1")
  echo "$secs $(awk -v s="$secs" '{ print ($1 + $2) / s }' "$tmp/cpu")"
}

run() { # run NAME SENDERS COLLECT-OPTIONS...
  local name=$1 n=$2
  shift 2
  for _ in $(seq "$runs"); do once "$n" "$@"; done >"$tmp/runs"
  local secs cpu
  secs=$(cut -d' ' -f1 "$tmp/runs" | median)
  cpu=$(cut -d' ' -f2 "$tmp/runs" | median)
  # MB per collector CPU-second: what the collector would do with a core to itself (robust
  # against other load on the machine, which stretches the wall time).
  row "$name" $((bytes * n)) "$secs" "$(printf 'collector CPU %.2f, %.0f MB per CPU-second' "$cpu" \
      "$(awk -v b=$((bytes * n)) -v s="$secs" -v c="$cpu" 'BEGIN { print b / (s * c) / 1e6 }')")"
}
run "send->collect .etl, 1 sender" 1
run "send->collect .etl, 8 senders" 8
run "send->collect .etl+JSON, 1 sender" 1 --json "$tmp/json"
run "send->collect .etl+JSON, 8 senders" 8 --json "$tmp/json"
