#!/bin/bash
# Descriptor exhaustion on loopback: a collector whose hard descriptor limit is 80 clamps
# --max-sessions and --max-connections to what that allows (and says so); a flood of 120
# abandoned sessions from one source (HELLO, a buffer, WELCOME read, then gone) leaves it
# serving: a good sender's session still arrives byte-identical, and the collector exits
# cleanly. Before the clamp, each abandoned session kept its .etl open until the limit made
# every new session fail. Usage: relay_descriptors.sh ETWIRE SHARED_DIR
. "$(dirname "$0")/relay_lib.bash"

make_trace g --seed 13 --events 4000 --processors 2 --buffer-size 4K
BUFFERS_OF="$WORK/g.etl"
ready_fifo fd
(ulimit -Sn 40 && ulimit -Hn 80 && exec "$ETWIRE" collect --listen 127.0.0.1:0 --plain --ready-fd 3 \
    --out "$WORK/out" --session-idle 1 2>"$WORK/fd.log") 3>"$WORK/fd.ready" &
COLLECTOR_PID=$!
PIDS+=("$COLLECTOR_PID")
wait_ready fd
grep -q "descriptors allow [0-9]* connections and [0-9]* sessions" "$WORK/fd.log" ||
    fail "no warning that the limits were lowered"
[ "$(awk '/Max open files/ {print $4}' "/proc/$COLLECTOR_PID/limits")" = 80 ] ||
    fail "the soft descriptor limit was not raised to the hard one"

abandon() { # abandon INSTANCE: a session that sends one buffer, reads its WELCOME and goes
    { hello_frame 8 "$1" flood; buffer_frame 0 0; } >"$WORK/a.bin"
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 0 # refused while full: fine
    (trap "" PIPE; cat "$WORK/a.bin") >&3 2>/dev/null
    timeout 5 head -c 32 <&3 >/dev/null
    exec 3>&-
}
for i in $(seq 120); do abandon $((0x1000 + i)); done
timeout 60 "$ETWIRE" send --to "127.0.0.1:$PORT" --plain --source good --retry 30 "$WORK/g.etl" \
    2>"$WORK/good.log" || fail "the good sender was locked out after the flood"
stop_collector
cmp -s "$WORK/g.etl" "$(ls "$WORK"/out/good/g-*.etl)" || fail "the good session's .etl differs"
grep -q "Too many open files" "$WORK/fd.log" && fail "the collector ran out of descriptors"
echo "relay descriptors: ok ($(ls "$WORK/out/flood" | wc -l) abandoned sessions saved, $(grep -o 'allow [0-9]* connections and [0-9]* sessions' "$WORK/fd.log"))"
