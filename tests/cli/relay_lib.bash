# Helpers shared by the relay_*.sh and live_*.sh tests, sourced by them (named .bash so that
# the tests/cli glob of *.sh does not run it), over common.bash. Everything listens on
# 127.0.0.1 only.

. "$(dirname "${BASH_SOURCE[0]}")/common.bash"

# ready_fifo NAME: a fresh FIFO $WORK/NAME.ready for a collector's --ready-fd (see wait_ready).
ready_fifo() {
    rm -f "$WORK/$1.ready"
    mkfifo "$WORK/$1.ready" || fail "mkfifo"
}

# wait_ready NAME [SECONDS]: waits (60 s at most) for the line a collector started with
# `--ready-fd 3 3>"$WORK/NAME.ready"` writes once it listens, and sets PORT. A collector that
# exits first closes the FIFO: end of file, and the test fails at once.
wait_ready() {
    local line
    read -r -t "${2:-60}" line <"$WORK/$1.ready" || fail "collector $1 did not start"
    PORT=$line
}

# start_collector NAME ARGS...: starts a plain loopback collector (on $LISTEN_PORT, default
# any free port), sets COLLECTOR_PID and PORT once it listens.
start_collector() {
    local name=$1; shift
    ready_fifo "$name"
    "$ETWIRE" collect --listen "127.0.0.1:${LISTEN_PORT:-0}" --plain --ready-fd 3 "$@" \
        3>"$WORK/$name.ready" >"$WORK/$name.out" 2>>"$WORK/$name.log" &
    COLLECTOR_PID=$!
    PIDS+=("$COLLECTOR_PID")
    wait_ready "$name"
}

# stop_collector: SIGTERM, then at most 20 s for a clean exit.
stop_collector() {
    kill -TERM "$COLLECTOR_PID"
    local rc=0
    wait_exit "$COLLECTOR_PID" 20 || rc=$?
    [ "$rc" -ne 254 ] || fail "collector did not exit on SIGTERM"
    [ "$rc" -eq 0 ] || fail "collector exited with an error"
}

# A synthetic trace, or the first suitable corpus file, in $WORK/$1.etl; 77 when neither exists.
make_trace() {
    local out="$WORK/$1.etl"; shift
    if "$ETWIRE" generate "$@" -o "$out" >/dev/null 2>&1; then
        return 0
    fi
    local f
    f=$(ls "$SHARED"/corpus/*/*.etl 2>/dev/null | grep -v /invalid/ | head -1)
    [ -n "$f" ] || skip "no 'etwire generate' and no corpus"
    cp "$f" "$out"
}

# Relay frames written by hand from a trace's real buffers ($BUFFERS_OF, an .etl whose buffers
# all have the first one's size), for tests that play a misbehaving sender.
le() { # le BYTES VALUE: VALUE little-endian on stdout
    local i v=$2
    for ((i = 0; i < $1; i++)); do printf "\\$(printf %03o $((v & 255)))"; v=$((v >> 8)); done
}
frame() { printf 'ETWR\001'; printf "\\$(printf %03o "$1")"; le 2 0; le 4 "$2"; }
hello_frame() { # hello_frame WINDOW INSTANCE [SOURCE]: a HELLO for SOURCE (host-1)/Kernel
    local src=${3:-host-1}
    frame 1 $((20 + 1 + ${#src} + 1 + 6)); le 4 $((1 << 20)); le 4 "$1"; le 4 0; le 8 "$2"
    printf "\\$(printf %03o ${#src})%s\\006Kernel" "$src"
}
buffer_frame() { # buffer_frame SEQ INDEX: buffer INDEX of $BUFFERS_OF as sequence number SEQ
    local size
    size=$(od -An -tu4 -N4 "$BUFFERS_OF" | tr -d ' ')
    frame 3 $((12 + size)); le 8 "$1"; le 4 "$size"
    tail -c +$(($2 * size + 1)) "$BUFFERS_OF" | head -c "$size"
}
real() { # real NAME: sends the session the function real_NAME writes, until the collector closes
    "real_$1" >"$WORK/$1.bin" # one write: the collector reads it at once, before any ACK
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "connect"
    (trap "" PIPE; cat "$WORK/$1.bin") >&3 2>/dev/null
    timeout 5 cat <&3 >/dev/null
    exec 3>&-
}
