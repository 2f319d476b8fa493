#!/usr/bin/env bash
# WPP messages through `--tmf`: a generated trace's messages stay undecoded (named by message
# GUID and number, raw arguments) without a TMF, and decode through a TMF directory to the
# format string with its argument, which is checked against the raw payload bytes of the same
# event; stats counts them; a broken TMF is reported with its file and line.
set -uo pipefail
. "$(dirname "$0")/common.bash"

"$ETWIRE" generate --seed 5 --events 3000 --kinds MESSAGE,EVENT64 -o "$WORK/g.etl" 2>/dev/null || fail generate
mkdir "$WORK/tmf"
guid=7b2e3c01-1a2b-4f66-a452-457477697221
{
    echo "$guid gen // SRC=gen.c MJ= MN="
    for i in $(seq 10 49); do
        printf '#typev gen_c%d %d "%%0m%d v=%%10!08x!" // LEVEL=TRACE_LEVEL_INFORMATION FUNC=F%d\n{\nv, ItemULongX -- 10\n}\n' \
            $((1000 + i)) "$i" "$i" "$i"
    done
} > "$WORK/tmf/$guid.tmf"

"$ETWIRE" dump -f json "$WORK/g.etl" | jq -c 'select(.flags % 16 >= 8)' > "$WORK/raw.json" || fail "dump"
"$ETWIRE" dump -f json --tmf "$WORK/tmf" "$WORK/g.etl" | jq -c 'select(.flags % 16 >= 8)' > "$WORK/wpp.json" ||
    fail "dump --tmf"
n=$(wc -l < "$WORK/raw.json")
[ "$n" -gt 1000 ] || fail "only $n WPP messages generated"
[ "$(wc -l < "$WORK/wpp.json")" -eq "$n" ] || fail "--tmf changed the number of events"
jq -e -s 'all(.[]; .decoded == false and .event == "Message(\(.id))" and .provider == "{\(.provider_guid)}")' \
    "$WORK/raw.json" > /dev/null || fail "WPP messages without a TMF: not undecoded, or not named by GUID and number"

# Pair each event with its raw form: the message must show the first 4 payload bytes as a
# little-endian hex number.
jq -s -c --slurpfile raw "$WORK/raw.json" '
    [to_entries[] | .value as $e | $raw[.key] as $r |
     select($e.provider_guid == "'$guid'") |
     if $r.payload_length >= 4 then
        ($r.payload_hex) as $h |
        {ok: ($e.decoded and $e.provider == "gen" and $e.event == "gen_c\(1000 + $e.id)" and
              $e.fields.Message == "m\($e.id) v=\($h[6:8] + $h[4:6] + $h[2:4] + $h[0:2])" and
              $e.fields.Function == "F\($e.id)" and $e.fields.File == "gen.c" and
              $e.fields.Line == 1000 + $e.id and $e.fields.Level == "TRACE_LEVEL_INFORMATION")}
     else {ok: ($e.decoded == false and $e.fields.Message == "m\($e.id) v=?")} end] |
    {n: length, bad: map(select(.ok | not)) | length}' "$WORK/wpp.json" > "$WORK/check.json" || fail "jq check"
read -r checked bad < <(jq -r '"\(.n) \(.bad)"' "$WORK/check.json")
[ "$checked" -gt 300 ] || fail "only $checked messages of $guid"
[ "$bad" -eq 0 ] || fail "$bad of $checked messages decoded wrongly"
decodable=$(jq -s '[.[] | select(.provider_guid == "'$guid'" and .payload_length >= 4)] | length' "$WORK/raw.json")

d0=$("$ETWIRE" stats --undecoded "$WORK/g.etl" | awk '/^decoded:/ {print $2}')
d1=$("$ETWIRE" stats --undecoded --tmf "$WORK/tmf" "$WORK/g.etl" | awk '/^decoded:/ {print $2}')
[ $((d1 - d0)) -eq "$decodable" ] || fail "stats: decoded $d0 -> $d1, expected +$decodable"

printf '%s gen // SRC=gen.c\n#typev gen_c1 10 "x" // FUNC=F\n{\nv, ItemULongX\n}\n' "$guid" > "$WORK/bad.tmf"
"$ETWIRE" dump --tmf "$WORK/bad.tmf" "$WORK/g.etl" > /dev/null || fail "a TMF with one bad argument line was refused"
# A line skipped inside a usable file is not fatal, but a file with no message is.
printf 'nothing here\n' > "$WORK/none.tmf"
"$ETWIRE" dump --tmf "$WORK/none.tmf" "$WORK/g.etl" > /dev/null 2> "$WORK/err2.txt" && fail "a non-TMF file was accepted"
grep -q "none.tmf: not a TMF file.*line 1" "$WORK/err2.txt" || fail "error does not name file and line: $(cat "$WORK/err2.txt")"
echo "wpp: $checked messages checked ($decodable decodable), stats decoded $d0 -> $d1"
