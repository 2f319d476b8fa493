#!/usr/bin/env bash
# Progress lines on stderr: shown by dump, stats and export when stderr is a terminal (run under
# script(1) for a pseudo-terminal), erased before the command's own output ends, and never
# written when stderr is a pipe or a file.
set -uo pipefail
etwire=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v script > /dev/null || { echo "SKIP: script(1) absent"; exit 77; }
"$etwire" generate --seed 2 --events 5000 -o "$tmp/g.etl" 2> /dev/null || fail "generate"
for cmd in "dump $tmp/g.etl" "stats $tmp/g.etl" "export timeline $tmp/g.etl -o $tmp/t.json"; do
    script -qec "$etwire $cmd > /dev/null" /dev/null > "$tmp/tty" 2>&1 || fail "$cmd under a terminal"
    grep -q "buffers, [0-9]* events" "$tmp/tty" || fail "$cmd: no progress on a terminal"
    grep -q $'\033\\[K' "$tmp/tty" || fail "$cmd: progress line not erased"
    $etwire $cmd > /dev/null 2> "$tmp/pipe" || fail "$cmd"
    grep -q "buffers, [0-9]* events" "$tmp/pipe" && fail "$cmd: progress written to a file"
    grep -q $'\r' "$tmp/pipe" && fail "$cmd: carriage return in a file"
done
echo "progress: terminal only"
