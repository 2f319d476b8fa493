# What every tests/cli script shares, sourced first (named .bash so that the tests/cli glob of
# *.sh does not run it): its arguments (ETWIRE SHARED_DIR), a scratch folder removed at exit,
# failing and skipping (exit 77, CTest's SKIP_RETURN_CODE), the corpus or a skip, and waits on
# events with deadlines: a child's exit, a file appearing or growing or a log line (inotify),
# never a sleep that guesses how long something takes. Safe under `set -u`.

ETWIRE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SHARED=${2:-}
WORK=$(mktemp -d /tmp/etwire-cli.XXXXXX)
PIDS=()

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# fail MESSAGE: the test fails, showing the tail of every log it kept in $WORK.
fail() {
    echo "FAIL: $*" >&2
    local f
    for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; } >&2; done
    exit 1
}

# skip REASON: the test is skipped (CTest shows it so).
skip() {
    echo "SKIP: $*"
    exit 77
}

# need_cmd COMMAND [WHY]: skip without COMMAND.
need_cmd() {
    command -v "$1" >/dev/null || skip "no $1${2:+ ($2)}"
}

# need_corpus [REL...]: skip unless $SHARED/corpus (and each REL below it) exists.
need_corpus() {
    [ -n "$SHARED" ] && [ -d "$SHARED/corpus" ] || skip "../shared/corpus absent"
    local r
    for r in "$@"; do [ -f "$SHARED/corpus/$r" ] || skip "$SHARED/corpus/$r absent"; done
}

# wait_exit PID SECONDS: waits for PID (a child) to exit, at most SECONDS: a watchdog kills it
# then. Returns the child's status, or 254 if the watchdog had to kill it.
wait_exit() {
    local pid=$1 rc=0 mark="$WORK/.watchdog.$1"
    rm -f "$mark"
    # The watchdog must not run the test's EXIT trap if it is stopped before it started: the
    # trap is off while it forks. Its sleep is the deadline itself, ended as soon as the child
    # exits.
    trap - EXIT
    local timer='trap "kill \$s 2>/dev/null; exit 0" TERM; sleep "$1" & s=$!; wait $s && kill -9 "$2" && : >"$3"' # deadline
    bash -c "$timer" _ "$2" "$pid" "$mark" >/dev/null 2>&1 &
    local dog=$!
    trap cleanup EXIT
    wait "$pid" || rc=$?
    kill "$dog" 2>/dev/null
    wait "$dog" 2>/dev/null
    [ -e "$mark" ] && { rm -f "$mark"; return 254; }
    return "$rc"
}

# until_changed SECONDS DIR COMMAND...: runs COMMAND now, and again whenever something below DIR
# is created, written, moved in or deleted (inotifywait, Debian inotify-tools), until it
# succeeds (returns 0); 1 once SECONDS have passed. A watcher that stops early (it can, when
# entries vanish while it sets up its watches, or the machine runs out of inotify instances)
# is started again: only the deadline ends the wait. Skips the test without inotifywait.
until_changed() {
    local secs=$1 dir=$2 line rc=1 st left watcher events deadline starts=0
    shift 2
    need_cmd inotifywait "Debian inotify-tools"
    deadline=$((SECONDS + secs))
    while [ "$rc" -ne 0 ] && [ "$SECONDS" -lt "$deadline" ]; do
        # A pipe without a name, so that nothing of the watcher's own lives in DIR.
        exec {events}< <(exec inotifywait -m -r -e create -e modify -e close_write -e moved_to \
            -e delete --format '%w%f' "$dir" 2>&1)
        watcher=$!
        starts=$((starts + 1))
        # It says "Watches established." once nothing after that can be missed.
        line=""
        while [ "$line" != "Watches established." ]; do
            left=$((deadline - SECONDS))
            [ "$left" -gt 0 ] && read -r -t "$left" -u "$events" line || break
        done
        while [ "$line" = "Watches established." ]; do
            if "$@"; then
                rc=0
                break
            fi
            left=$((deadline - SECONDS))
            [ "$left" -gt 0 ] || break
            read -r -t "$left" -u "$events" line
            st=$?
            [ "$st" -eq 0 ] || break # > 128: the deadline; else the watcher ended: start it again
            line="Watches established."
            # What came meanwhile is one change: take it all before checking again.
            while read -r -t 0 -u "$events" && read -r -u "$events" _; do :; done
        done
        kill "$watcher" 2>/dev/null
        exec {events}<&-
        [ "$rc" -eq 0 ] || [ "$line" = "Watches established." ] || ! "$@" || rc=0 # it did not start
        [ "$rc" -eq 0 ] || [ "$starts" -lt 1000 ] || break # a watcher that cannot start at all
    done
    [ "$rc" -eq 0 ] || "$@" && rc=0 # one last look at the deadline
    [ "$rc" -eq 0 ] || [ "$starts" -le 1 ] || echo "until_changed: inotifywait started $starts times" >&2
    return $rc
}

# file_size PATH: its size in bytes, 0 when absent.
file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# wait_log SECONDS FILE TEXT: until FILE holds TEXT (a fixed string); 1 at the deadline.
wait_log() {
    local secs=$1 file=$2
    until_changed "$secs" "$(dirname "$file")" grep -qF -- "$3" "$file"
}
