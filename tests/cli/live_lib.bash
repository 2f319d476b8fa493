# Waiting on events with a deadline for the live_*.sh tests (sourced after relay_lib.bash; named
# .bash so that the tests/cli glob of *.sh does not run it): inotifywait (Debian inotify-tools)
# reports each change below a folder and the condition is checked again then, never on a timer.
command -v inotifywait >/dev/null || { echo "no inotifywait (Debian inotify-tools): skipped"; exit 77; }

# until_changed SECONDS DIR COMMAND...: runs COMMAND now, and again whenever something below DIR
# is created, written or moved in, until it succeeds (returns 0); 1 once SECONDS have passed.
until_changed() {
    local secs=$1 dir=$2 fifo line="" rc=1 left watcher events
    shift 2
    fifo=$(mktemp -u "$WORK/.changes.XXXXXX")
    mkfifo "$fifo" || fail "mkfifo $fifo"
    inotifywait -m -r -e create -e modify -e close_write -e moved_to --format '%w%f' "$dir" \
        >"$fifo" 2>&1 &
    watcher=$!
    exec {events}<"$fifo"
    rm -f "$fifo"
    # It says "Watches established." once nothing after that can be missed.
    until [ "$line" = "Watches established." ]; do
        read -r -t "$secs" -u "$events" line || break
    done
    local deadline=$((SECONDS + secs))
    while :; do
        if "$@"; then
            rc=0
            break
        fi
        left=$((deadline - SECONDS))
        [ "$left" -gt 0 ] || break
        read -r -t "$left" -u "$events" line || break
        # What came meanwhile is one change: take it all before checking again.
        while read -r -t 0 -u "$events" && read -r -u "$events" line; do :; done
    done
    kill "$watcher" 2>/dev/null
    wait "$watcher" 2>/dev/null
    exec {events}<&-
    return $rc
}

# listed NAME [MIN]: `etwire sessions` lists NAME with at least MIN (1) buffers published.
listed() {
    "$ETWIRE" sessions 2>/dev/null | awk -v n="$1" -v m="${2:-1}" '$1 == n && $4 >= m { ok = 1 } END { exit !ok }'
}
