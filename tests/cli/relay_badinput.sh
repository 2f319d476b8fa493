#!/bin/bash
# Hostile input on loopback: garbage, bad magic/version, oversized lengths, sequence gaps,
# window overruns, an unknown source and a silent connection each get a log line and a closed
# connection, while a good sender's session completes byte-identical and the collector keeps
# running and exits cleanly. Usage: relay_badinput.sh ETWIRE SHARED_DIR
. "$(dirname "$0")/relay_lib.bash"
SEEDS=$(cd "$(dirname "$0")/../../fuzz/corpus/relay_session" && pwd)

make_trace g --seed 31 --events 20000 --processors 2 --buffer-size 4K
start_collector bad --out "$WORK/out" --allow good-src --allow host-1 --idle 2 --window 4

# raw NAME: sends a seed session (minus the fuzzer's chunk byte) on a bare socket.
raw() {
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "connect"
    tail -c +2 "$SEEDS/${1}_c0" >&3
    timeout 5 cat <&3 >/dev/null # until the collector closes the connection
    exec 3>&-
}

# Sessions built from the trace's real buffers (relay_lib.bash), for the rules that are checked
# only once a buffer was accepted (the seeds' buffers are not ETW buffers: they are refused).
BUFFERS_OF="$WORK/g.etl"
real_gap() { hello_frame 4 $((0x10)); buffer_frame 0 0; buffer_frame 2 2; }
real_window() { hello_frame 2 $((0x11)); buffer_frame 0 0; buffer_frame 1 1; buffer_frame 2 2; }
real_end_count() { hello_frame 4 $((0x12)); buffer_frame 0 0; frame 5 8; le 8 7; }

# A silent connection: held open while everything else runs, closed by the idle limit.
exec 4<>"/dev/tcp/127.0.0.1/$PORT"
timeout 60 "$ETWIRE" send --to "127.0.0.1:$PORT" --plain --source good-src --rate=20 \
    "$WORK/g.etl" 2>"$WORK/good.log" &
GOOD=$!
PIDS+=("$GOOD")
printf 'GET / HTTP/1.0\r\n\r\n' >/dev/tcp/127.0.0.1/$PORT
for seed in bad_magic bad_version bad_type bad_flags bad_oversized_length bad_control_too_large \
    bad_truncated bad_gap bad_window bad_before_hello bad_name bad_end_count bad_raw_size; do
    raw $seed
done
for session in gap window end_count; do
    real $session
done
timeout 30 "$ETWIRE" send --to "127.0.0.1:$PORT" --plain --source evil "$WORK/g.etl" \
    2>"$WORK/evil.log" && fail "a source not on the allow-list was accepted"
grep -q "AUTH" "$WORK/evil.log" || fail "the refused sender was not told why"
wait "$GOOD" || fail "the good sender failed while others misbehaved"
timeout 10 cat <&4 >/dev/null
exec 4>&-

# An address no retry can reach fails at once, not after --retry seconds.
for bad in "127.0.0.1:" "127.0.0.1:0" "127.0.0.1:http" "[::1]:99999"; do
    rc=0
    timeout 20 "$ETWIRE" send --to "$bad" --plain --retry 30 "$WORK/g.etl" 2>"$WORK/badaddr.err" || rc=$?
    [ "$rc" = 1 ] || fail "send --to '$bad' exited $rc (124: it retried)"
    grep -q "bad address" "$WORK/badaddr.err" || fail "send --to '$bad' did not say why: $(cat "$WORK/badaddr.err")"
done

# A collector that cannot start (its port is taken) closes its --ready-fd: whoever waits for
# the ready line reads end of file at once, not at the deadline.
ready_fifo taken
"$ETWIRE" collect --listen "127.0.0.1:$PORT" --plain --ready-fd 3 3>"$WORK/taken.ready" 2>"$WORK/taken.err" &
TAKEN=$!
START=$SECONDS
read -r -t 30 line <"$WORK/taken.ready" && fail "a collector on a taken port said it was ready ($line)"
[ $((SECONDS - START)) -lt 20 ] || fail "the failed collector's ready descriptor was not closed"
wait_exit "$TAKEN" 20 && fail "a collector on a taken port exited 0"
grep -q "listen" "$WORK/taken.err" || fail "the failed collector did not say why: $(cat "$WORK/taken.err")"
stop_collector

cmp -s "$WORK/g.etl" "$(ls "$WORK"/out/good-src/g-*.etl)" || fail "the good session's .etl differs"
LOG="$WORK/bad.log"
for want in "magic" "unsupported protocol version" "unknown frame type" "reserved frame flag" \
    "over the announced limit" "out of order" "more unacknowledged buffers" "not allowed at this point" \
    "invalid source or session name" "allow-list" "idle" "raw size"; do
    grep -q "$want" "$LOG" || fail "no log line saying '$want'"
done
[ -z "$(ls "$WORK"/out/ 2>/dev/null | grep -v -e good-src -e host-1)" ] || fail "unexpected output directories"
echo "relay bad input: ok ($(grep -c closed "$LOG") connections closed with a reason)"
