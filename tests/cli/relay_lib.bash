# Helpers shared by the relay_*.sh tests, sourced by them (named .bash so that the tests/cli
# glob of *.sh does not run it). Everything listens on 127.0.0.1 only.

ETWIRE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SHARED=$2
WORK=$(mktemp -d /tmp/etwire-relay.XXXXXX)
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "$KEEP" ] || rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; } >&2; done
    exit 1
}

# start_collector NAME ARGS...: starts a plain loopback collector (on $LISTEN_PORT, default
# any free port), sets COLLECTOR_PID and PORT.
start_collector() {
    local name=$1; shift
    rm -f "$WORK/$name.port"
    "$ETWIRE" collect --listen "127.0.0.1:${LISTEN_PORT:-0}" --plain --port-file "$WORK/$name.port" "$@" \
        >"$WORK/$name.out" 2>>"$WORK/$name.log" &
    COLLECTOR_PID=$!
    PIDS+=("$COLLECTOR_PID")
    for _ in $(seq 100); do
        [ -s "$WORK/$name.port" ] && break
        sleep 0.05
    done
    [ -s "$WORK/$name.port" ] || fail "collector $name did not start"
    PORT=$(cat "$WORK/$name.port")
}

# stop_collector: SIGTERM, then at most 20 s for a clean exit.
stop_collector() {
    kill -TERM "$COLLECTOR_PID"
    for _ in $(seq 200); do
        kill -0 "$COLLECTOR_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$COLLECTOR_PID" 2>/dev/null && fail "collector did not exit on SIGTERM"
    wait "$COLLECTOR_PID" || fail "collector exited with an error"
}

# A synthetic trace, or the first suitable corpus file, in $WORK/$1.etl; 77 when neither exists.
make_trace() {
    local out="$WORK/$1.etl"; shift
    if "$ETWIRE" generate "$@" -o "$out" >/dev/null 2>&1; then
        return 0
    fi
    local f
    f=$(ls "$SHARED"/corpus/*/*.etl 2>/dev/null | grep -v /invalid/ | head -1)
    [ -n "$f" ] || { echo "no 'etwire generate' and no corpus: skipped"; exit 77; }
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
