#!/bin/bash
# Faults on loopback: the collector is killed (SIGKILL) mid-stream and restarted on the same
# port; later the sender is killed and restarted with the same --instance. After recovery the
# saved .etl holds every buffer exactly once (it is byte-identical to the sent file) and the
# decoded JSON lines every event exactly once.
# Usage: relay_fault.sh ETWIRE SHARED_DIR
. "$(dirname "$0")/relay_lib.bash"
need_cmd inotifywait "Debian inotify-tools"

make_trace c --seed 21 --events 60000 --processors 4
SIZE=$(stat -c %s "$WORK/c.etl")
# A slow collector (2 MB/s per connection) leaves time to interrupt it mid-stream.
COLLECT_ARGS=(--out "$WORK/out" --json "$WORK/json" --max-rate 2M --stats "$WORK/stats.jsonl")

saved() { ls "$WORK"/out/src/c-????????????????.etl 2>/dev/null | head -1; }
saved_size() { local f; f=$(saved); [ -n "$f" ] && stat -c %s "$f" || echo 0; }
saved_has() { [ "$(saved_size)" -ge "$1" ]; }
wait_for_bytes() { # wait_for_bytes N: until the saved .etl holds at least N bytes (60 s, inotify)
    mkdir -p "$WORK/out"
    until_changed 60 "$WORK/out" saved_has "$1" || fail "the collector never received $1 bytes (has $(saved_size))"
}

# 1. Collector SIGKILL and restart.
start_collector one "${COLLECT_ARGS[@]}"
timeout 90 "$ETWIRE" send --to "127.0.0.1:$PORT" --plain --source src --window 8 --retry 30 -v \
    "$WORK/c.etl" 2>"$WORK/send1.log" &
SENDER=$!
PIDS+=("$SENDER")
wait_for_bytes $((SIZE / 4))
kill -9 "$COLLECTOR_PID"
wait "$COLLECTOR_PID" 2>/dev/null
CUT=$(saved_size)
[ "$CUT" -lt "$SIZE" ] || fail "the transfer ended before the collector was killed"
# The killed collector is reaped: its connection is gone, so the sender must reconnect.
LISTEN_PORT=$PORT start_collector two "${COLLECT_ARGS[@]}"
wait "$SENDER" || fail "the sender did not recover from the collector's restart"
grep -q "reconnects" "$WORK/send1.log" || fail "no sender summary"
grep -q " 0 reconnects" "$WORK/send1.log" && fail "the sender never reconnected"
stop_collector
cmp -s "$WORK/c.etl" "$(saved)" || fail "after a collector restart the saved .etl differs"
# The resumed session replays the saved buffers, so the JSON lines hold every event once.
"$ETWIRE" dump --format json "$WORK/c.etl" | sort >"$WORK/want.jsonl"
sort "$WORK"/json/src/c-*.jsonl >"$WORK/got.jsonl"
cmp -s "$WORK/want.jsonl" "$WORK/got.jsonl" ||
    fail "after a collector restart the JSON events are not each there once" \
        "($(comm -23 "$WORK/want.jsonl" "$WORK/got.jsonl" | wc -l) missing, $(comm -13 "$WORK/want.jsonl" "$WORK/got.jsonl" | wc -l) extra)"
echo "ok collector SIGKILL at $CUT of $SIZE bytes: $(grep -o '[0-9]* resent, [0-9]* reconnects' "$WORK/send1.log")," \
    "$(wc -l <"$WORK/got.jsonl") events each once"

# 2. Sender SIGKILL, then the same session (same instance) sent again from the start.
rm -rf "$WORK/out" "$WORK/json"
LISTEN_PORT=0 start_collector three "${COLLECT_ARGS[@]}"
INSTANCE=00c0ffee12345678
timeout 90 "$ETWIRE" send --to "127.0.0.1:$PORT" --plain --source src --window 8 --instance $INSTANCE \
    "$WORK/c.etl" 2>"$WORK/send2.log" &
SENDER=$!
PIDS+=("$SENDER")
wait_for_bytes $((SIZE / 3))
# $SENDER is timeout(1): the sender itself is its child.
kill -9 $(pgrep -P "$SENDER") "$SENDER"
wait "$SENDER" 2>/dev/null
CUT=$(saved_size)
timeout 90 "$ETWIRE" send --to "127.0.0.1:$PORT" --plain --source src --window 8 --instance $INSTANCE \
    --retry 30 -v "$WORK/c.etl" 2>"$WORK/send3.log" || fail "the restarted sender failed"
stop_collector
cmp -s "$WORK/c.etl" "$(saved)" || fail "after a sender restart the saved .etl differs"
"$ETWIRE" dump --format json "$WORK/c.etl" | sort >"$WORK/want.jsonl"
sort "$WORK"/json/src/c-*.jsonl >"$WORK/got.jsonl"
cmp -s "$WORK/want.jsonl" "$WORK/got.jsonl" || fail "after a sender restart the JSON events differ"
echo "ok sender SIGKILL at $CUT of $SIZE bytes: $(grep -o '[0-9]* already held' "$WORK/send3.log")"
echo "relay faults: ok"
