#!/usr/bin/env bash
# dump and stats filters by name (--provider NAME|GUID, --event NAME|ID, --level, --keyword,
# --pid, --tid, --process; repeatable) select exactly the events the same selection over
# `dump -f json` does; the process name appears as JSON "process", a CSV column and a text field.
set -uo pipefail
. "$(dirname "$0")/common.bash"
need_corpus tx/Process.etl traceevent/diaghub/diaghub.kernel.1.etl
tx=$SHARED/corpus/tx/Process.etl
kernel=$SHARED/corpus/traceevent/diaghub/diaghub.kernel.1.etl

key='[.time, .provider_guid, .id, .opcode, .tid] | @json'
# check TRACE 'jq selection' FILTER-OPTIONS...: dump with the options = the selection; stats agrees.
check() {
    local trace=$1 select=$2
    shift 2
    jq -r "select($select) | $key" "$WORK/$(basename "$trace").json" > "$WORK/want"
    [ -s "$WORK/want" ] || fail "selection '$select' is empty: the check would prove nothing"
    "$ETWIRE" dump -f json "$@" "$trace" | jq -r "$key" > "$WORK/got" || fail "dump $*"
    cmp -s "$WORK/want" "$WORK/got" || fail "dump $*: $(wc -l < "$WORK/got") events, want $(wc -l < "$WORK/want")"
    n=$("$ETWIRE" stats "$@" "$trace" | awk '/^events:/ {print $2}')
    [ "$n" -eq "$(wc -l < "$WORK/want")" ] || fail "stats $*: $n events, want $(wc -l < "$WORK/want")"
}
for t in "$tx" "$kernel"; do
    "$ETWIRE" dump -f json "$t" > "$WORK/$(basename "$t").json" || fail "dump $t"
done

kp=22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716
check "$tx" ".provider_guid == \"$kp\"" --provider Microsoft-Windows-Kernel-Process
check "$tx" ".provider_guid == \"$kp\"" --provider "{${kp^^}}"
check "$kernel" '.provider == "Windows Kernel"' --provider "windows kernel"
check "$kernel" '.provider_guid == "3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c"' --provider Process
check "$kernel" '.event == "Process/DCStart"' --event Process/DCStart
check "$kernel" '.event | endswith("/DCStart")' --event DCStart
check "$kernel" '.event | startswith("Image/")' --event Image
check "$tx" '.id == 5 or .id == 6' --event 5 --event 6
check "$tx" '.level <= 3' --level warning
check "$tx" '.keyword == "0x0" or ((.keyword | ltrimstr("0x") | explode | .[-2:] | implode) as $lo | ($lo | test("^[13579bdf][0-9a-f]$")))' --keyword 0x10
check "$tx" '.tid == 8048 or .tid == 5724' --tid 8048 --tid 5724
check "$tx" '.pid == 3324' --pid 3324
check "$tx" '.process == "devenv.exe"' --process devenv
check "$tx" '.process == "devenv.exe" and (.id == 5 or .id == 6)' --process DEVENV.EXE --event 5 --event 6
check "$kernel" '.process == "svchost.exe" or .process == "System"' --process svchost --process system

# The process name in every format.
jq -e -s 'all(.[]; has("process")) and ([.[] | select(.process != "")] | length) > 15000' \
    "$WORK/diaghub.kernel.1.etl.json" > /dev/null || fail "JSON process member"
"$ETWIRE" dump -f csv "$kernel" > "$WORK/k.csv" || fail "csv"
head -1 "$WORK/k.csv" | grep -q ',decoded,fields,process$' || fail "CSV process column"
[ "$(grep -c ',"System"$' "$WORK/k.csv")" -eq "$(jq -s '[.[] | select(.process == "System")] | length' \
    "$WORK/diaghub.kernel.1.etl.json")" ] || fail "CSV process column disagrees with JSON"
"$ETWIRE" dump --process devenv "$tx" > "$WORK/t.txt" || fail "text dump"
[ -s "$WORK/t.txt" ] && ! grep -qv ' process=devenv.exe ' "$WORK/t.txt" || fail "text process field"
# stats: events by process add up to all events, and agree with dump's process names.
"$ETWIRE" stats --top 0 "$tx" > "$WORK/s.txt" || fail "stats"
total=$(awk '/^events:/ {print $2}' "$WORK/s.txt")
sum=$(awk '/^events by process/ {on=1; next} on {s += $1} END {print s}' "$WORK/s.txt")
[ "$sum" -eq "$total" ] || fail "stats by process: $sum of $total events"
want=$(jq -s '[.[] | select(.process == "devenv.exe" and .pid == 5864)] | length' "$WORK/Process.etl.json")
grep -q "^ *$want  devenv.exe  pid=5864\$" "$WORK/s.txt" || fail "stats devenv.exe line, want $want: $(grep devenv "$WORK/s.txt")"
"$ETWIRE" dump --provider '{not-a-guid}' "$tx" > /dev/null 2>&1 && fail "malformed GUID accepted"
"$ETWIRE" dump --level loud "$tx" > /dev/null 2>&1 && fail "bad level accepted"
"$ETWIRE" dump --keyword x "$tx" > /dev/null 2>&1 && fail "bad keyword accepted"
echo "filters: dump and stats agree with selections over dump -f json"
