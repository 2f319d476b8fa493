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
