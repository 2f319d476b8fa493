#!/usr/bin/env bash
# Progress lines on stderr: shown by dump, stats and export when stderr is a terminal (run under
# script(1) for a pseudo-terminal), erased before the command's own output ends, and never
# written when stderr is a pipe or a file.
set -uo pipefail
. "$(dirname "$0")/common.bash"
need_cmd script
"$ETWIRE" generate --seed 2 --events 5000 -o "$WORK/g.etl" 2> /dev/null || fail "generate"
for cmd in "dump $WORK/g.etl" "stats $WORK/g.etl" "export timeline $WORK/g.etl -o $WORK/t.json"; do
    script -qec "$ETWIRE $cmd > /dev/null" /dev/null > "$WORK/tty" 2>&1 || fail "$cmd under a terminal"
    grep -q "buffers, [0-9]* events" "$WORK/tty" || fail "$cmd: no progress on a terminal"
    grep -q $'\033\\[K' "$WORK/tty" || fail "$cmd: progress line not erased"
    $ETWIRE $cmd > /dev/null 2> "$WORK/pipe" || fail "$cmd"
    grep -q "buffers, [0-9]* events" "$WORK/pipe" && fail "$cmd: progress written to a file"
    grep -q $'\r' "$WORK/pipe" && fail "$cmd: carriage return in a file"
done
echo "progress: terminal only"
