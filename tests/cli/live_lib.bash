# For the live_*.sh tests (sourced after relay_lib.bash; named .bash so that the tests/cli glob
# of *.sh does not run it): they wait with until_changed (common.bash), so inotifywait (Debian
# inotify-tools) is required up front.
need_cmd inotifywait "Debian inotify-tools"

# listed NAME [MIN]: `etwire sessions` lists NAME with at least MIN (1) buffers published.
listed() {
    "$ETWIRE" sessions 2>/dev/null | awk -v n="$1" -v m="${2:-1}" '$1 == n && $4 >= m { ok = 1 } END { exit !ok }'
}
