#!/bin/bash
# Live sessions through the CLI: `collect --live` publishes a session replayed at its own pace
# (`send --rate`); `etwire sessions` lists it; `dump --live` consumers attaching mid-stream each
# print a time-ordered share of the file's events ending with its last one and exit 0 when the
# sender ends; `send --live` forwards it to a second collector (a chain of two); a consumer
# killed mid-stream harms nobody; an unknown name and an unreachable collector are clear
# errors; the collector killed under a consumer makes it exit with an error, not hang.
# Usage: live_cli.sh ETWIRE SHARED_DIR
# ETWIRE_TEST_THREADS: collectors publish to several consumer threads at once.
. "$(dirname "$0")/relay_lib.bash"
. "$(dirname "$0")/live_lib.bash"

# A generated trace: its buffers' flush times pace `send --rate` (corpus files whose buffers
# carry no usable flush times would be sent at once).
make_trace t --seed 5 --events 30000 --processors 2
TRACE=$WORK/t.etl
"$ETWIRE" dump "$TRACE" >"$WORK/full.txt" || fail "dump of $TRACE"
# Replayed in about four seconds at the trace's own pace, scaled.
span=$("$ETWIRE" stats "$TRACE" | sed -n 's/^time span:.*(\([0-9.]*\) s)$/\1/p')
RATE=$(awk -v s="${span:-1}" 'BEGIN { r = s / 4; if (r <= 0) r = 0.05; printf "%.6f", r }')
echo "trace $TRACE: $(wc -l <"$WORK/full.txt") events over ${span}s, replayed at --rate=$RATE"

LIVE_SOCK=$WORK/edge.sock
start_collector central --out "$WORK/central"
CENTRAL_PID=$COLLECTOR_PID CENTRAL_PORT=$PORT
mkdir -p "$WORK/edge"
start_collector edge --out "$WORK/edge" --live "unix:$LIVE_SOCK"
EDGE_PID=$COLLECTOR_PID EDGE_PORT=$PORT
export ETWIRE_LIVE=unix:$LIVE_SOCK

[ "$(stat -c %a "$LIVE_SOCK")" = 660 ] || fail "live socket mode $(stat -c %a "$LIVE_SOCK"), want 660"

# Errors: a name that is not live, a collector that is not there.
"$ETWIRE" dump --live edge-1/none >/dev/null 2>"$WORK/unknown.err" && fail "unknown name accepted"
grep -q ERROR_WMI_INSTANCE_NOT_FOUND "$WORK/unknown.err" || fail "unknown name: $(cat "$WORK/unknown.err")"
ETWIRE_LIVE=unix:$WORK/absent.sock "$ETWIRE" sessions >/dev/null 2>"$WORK/absent.err" && fail "absent collector listed"
grep -q "ERROR_CONNECTION_REFUSED" "$WORK/absent.err" && grep -q absent.sock "$WORK/absent.err" ||
    fail "absent collector: $(cat "$WORK/absent.err")"

# wait_listed NAME: until `etwire sessions` lists NAME with 2+ buffers (20 s), looked at again
# whenever the edge collector writes (it publishes each buffer before it saves it).
wait_listed() {
    until_changed 60 "$WORK/edge" listed "$1" 2 || fail "$1 never listed live"
}

timeout 120 "$ETWIRE" send --to "127.0.0.1:$EDGE_PORT" --plain --source edge-1 --session live \
    --rate="$RATE" "$TRACE" 2>>"$WORK/send.log" &
SENDER=$!
PIDS+=($SENDER)
wait_listed edge-1/live
"$ETWIRE" sessions >"$WORK/sessions.txt" || fail "etwire sessions"
grep -Eq '^edge-1/live +[0-9a-f]{16} +20[0-9-]+T' "$WORK/sessions.txt" || fail "listing: $(cat "$WORK/sessions.txt")"

timeout 60 "$ETWIRE" dump --live edge-1/live >"$WORK/c1.txt" 2>"$WORK/c1.log" &
C1=$!
PIDS+=($C1)
timeout 60 "$ETWIRE" dump -f json --live edge-1/live >"$WORK/c2.jsonl" 2>"$WORK/c2.log" &
C2=$!
PIDS+=($C2)
timeout 60 "$ETWIRE" send --live edge-1/live --to "127.0.0.1:$CENTRAL_PORT" --plain --source edge-1 \
    --session forwarded 2>"$WORK/forward.log" &
FWD=$!
PIDS+=($FWD)
# One consumer is killed once it printed something.
"$ETWIRE" dump --live edge-1/live >"$WORK/killed.txt" 2>/dev/null &
KILLED=$!
PIDS+=($KILLED)
until_changed 60 "$WORK" test -s "$WORK/killed.txt" || fail "the consumer to kill printed nothing"
kill -9 "$KILLED"

wait "$SENDER" || fail "sender failed"
wait "$C1" || fail "dump --live exited $? ($(cat "$WORK/c1.log"))"
wait "$C2" || fail "dump -f json --live exited $?"
wait "$FWD" || fail "send --live exited $? ($(cat "$WORK/forward.log"))"

check_share() { # check_share FILE WHO: a time-ordered share of the file's events, ending with its last
    [ -s "$1" ] || fail "$2: no events"
    [ "$(tail -1 "$1")" = "$(tail -1 "$WORK/full.txt")" ] || fail "$2: does not end with the trace's last event"
    cut -d' ' -f1 "$1" | sort -c 2>/dev/null || fail "$2: events out of time order"
    [ -z "$(comm -23 <(sort "$1") <(sort "$WORK/full.txt") | head -1)" ] || fail "$2: events not in the trace"
    echo "ok $2: $(wc -l <"$1") of $(wc -l <"$WORK/full.txt") events"
}
check_share "$WORK/c1.txt" "dump --live"
[ "$(wc -l <"$WORK/c2.jsonl")" -gt 0 ] && jq -e . "$WORK/c2.jsonl" >/dev/null 2>&1 || {
    command -v jq >/dev/null && fail "dump -f json --live: not JSON lines"; }

# The edge saved the whole session whatever its consumers did.
cmp -s "$TRACE" "$WORK/edge/edge-1/"live-*.etl || fail "edge .etl differs from the trace"
COLLECTOR_PID=$CENTRAL_PID
stop_collector
"$ETWIRE" dump "$WORK/central/edge-1/"forwarded-*.etl >"$WORK/chain.txt" || fail "dump of the forwarded .etl"
check_share "$WORK/chain.txt" "edge -> send --live -> central"

# The collector killed under a consumer: it exits with an error, not a hang.
timeout 120 "$ETWIRE" send --to "127.0.0.1:$EDGE_PORT" --plain --source edge-1 --session doomed \
    --rate="$RATE" --retry 1 "$TRACE" 2>>"$WORK/send2.log" &
PIDS+=($!)
wait_listed edge-1/doomed
timeout 90 "$ETWIRE" dump --live edge-1/doomed >"$WORK/doomed.txt" 2>"$WORK/doomed.log" &
DOOMED=$!
until_changed 60 "$WORK" test -s "$WORK/doomed.txt" ||
    fail "the doomed consumer printed nothing ($(kill -0 "$DOOMED" 2>/dev/null && echo running || echo exited))"
kill -9 "$EDGE_PID"
wait "$DOOMED"
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "consumer of a killed collector exited $rc"
grep -q "connection to the collector lost\|closed the session" "$WORK/doomed.log" || fail "no reason given: $(cat "$WORK/doomed.log")"
echo "ok collector killed: consumer exited $rc ($(head -1 "$WORK/doomed.log"))"
