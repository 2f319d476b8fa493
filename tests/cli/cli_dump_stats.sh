#!/usr/bin/env bash
# etwire dump / stats / generate end to end: line counts, JSON validity and field names,
# filters, decoded fields on a real trace, and errors that go to stderr with a non-zero exit.
set -uo pipefail
. "$(dirname "$0")/common.bash"

"$ETWIRE" generate --seed 3 --events 20000 --processors 4 -o "$WORK/g.etl" 2>/dev/null || fail "generate"
"$ETWIRE" stats "$WORK/g.etl" > "$WORK/stats.txt" || fail "stats exit code"
events=$(awk '/^events:/ {print $2}' "$WORK/stats.txt")
[ -n "$events" ] && [ "$events" -gt 20000 ] || fail "stats events: '$events'"

"$ETWIRE" dump "$WORK/g.etl" > "$WORK/dump.txt" || fail "dump exit code"
[ "$(wc -l < "$WORK/dump.txt")" -eq "$events" ] || fail "dump lines != stats events"

"$ETWIRE" dump -f json "$WORK/g.etl" > "$WORK/dump.json" || fail "json exit code"
jq -e -s "length == $events" "$WORK/dump.json" >/dev/null || fail "JSON lines invalid or wrong count"
jq -e -s 'all(.[]; has("time") and has("provider_guid") and has("id") and has("version") and has("level")
                  and has("opcode") and has("task") and has("keyword") and has("pid") and has("tid")
                  and has("cpu") and has("flags") and has("payload_length"))' "$WORK/dump.json" >/dev/null \
    || fail "JSON field names"
jq -e -s '[.[].time] as $t | $t == ($t | sort)' "$WORK/dump.json" >/dev/null || fail "not time ordered"

"$ETWIRE" dump -f csv "$WORK/g.etl" > "$WORK/dump.csv" || fail "csv exit code"
[ "$(wc -l < "$WORK/dump.csv")" -eq $((events + 1)) ] || fail "csv rows != events + header"
head -1 "$WORK/dump.csv" | grep -q '^time,provider_guid,provider,event,id,' || fail "csv header"

pid=$(jq -s -r '[.[] | select(.pid != 4294967295)][5].pid' "$WORK/dump.json")
want=$(jq -s "[.[] | select(.pid == $pid)] | length" "$WORK/dump.json")
got=$("$ETWIRE" dump --pid "$pid" "$WORK/g.etl" | wc -l)
[ "$got" -eq "$want" ] || fail "--pid filter: $got != $want"

want=$(jq -s '[.[] | select(.provider_guid == "5e7c1a01-2b3d-4c11-9a0e-457477697201")] | length' "$WORK/dump.json")
got=$("$ETWIRE" dump --provider '{5e7c1a01-2b3d-4c11-9a0e-457477697201}' "$WORK/g.etl" | wc -l)
[ "$want" -gt 0 ] && [ "$got" -eq "$want" ] || fail "--provider filter: $got != $want"
"$ETWIRE" dump --provider '{not-a-guid}' "$WORK/g.etl" > /dev/null 2>&1 && fail "bad --provider accepted"

if "$ETWIRE" dump "$WORK/missing.etl" > /dev/null 2> "$WORK/err"; then fail "missing file exit 0"; fi
grep -q "missing.etl" "$WORK/err" || fail "missing file message"
"$ETWIRE" dump --format xml "$WORK/g.etl" > /dev/null 2>&1 && fail "bad option accepted"

# --mof: a MOF class for the generator's first classic provider (every event type, any version)
# turns exactly its events into decoded ones; a broken MOF is refused with its line number.
cat > "$WORK/gen.mof" <<'MOF'
[Dynamic, Guid("{5e7c1a01-2b3d-4c11-9a0e-457477697201}"), DisplayName("GenClassic")]
class GenClassic : EventTrace { };
[EventType{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39}]
class GenClassic_Any : GenClassic
{
    [WmiDataId(1), StringTermination("NotCounted")] string Bytes;
};
MOF
want=$(jq -s '[.[] | select(.provider_guid == "5e7c1a01-2b3d-4c11-9a0e-457477697201")] | length' "$WORK/dump.json")
[ "$want" -gt 0 ] || fail "generator wrote no classic events"
"$ETWIRE" dump -f json --mof "$WORK/gen.mof" "$WORK/g.etl" > "$WORK/mof.json" || fail "dump --mof exit code"
got=$(jq -s '[.[] | select(.provider_guid == "5e7c1a01-2b3d-4c11-9a0e-457477697201" and .decoded == true
                    and .provider == "GenClassic" and (.fields | has("Bytes")))] | length' "$WORK/mof.json")
[ "$got" -eq "$want" ] || fail "--mof decoded $got of $want events"
others=$(jq -s '[.[] | select(.decoded == true)] | length' "$WORK/dump.json")
all=$(jq -s '[.[] | select(.decoded == true)] | length' "$WORK/mof.json")
[ "$all" -eq $((others + want)) ] || fail "--mof changed other events: $all != $others + $want"
printf 'class A {\n  uint32 x\n};\n' > "$WORK/bad.mof"
if "$ETWIRE" dump --mof "$WORK/bad.mof" "$WORK/g.etl" > /dev/null 2> "$WORK/err"; then fail "bad MOF accepted"; fi
grep -q "bad.mof: line 3: expected ';'" "$WORK/err" || fail "bad MOF message: $(cat "$WORK/err")"

# A reader that stops early (`dump | head`) ends the output quietly: exit 0, nothing on stderr,
# in every format (the output is far larger than a pipe holds, so the writer meets the close).
for f in text json csv; do
    set +o pipefail
    "$ETWIRE" dump -f $f "$WORK/g.etl" 2> "$WORK/pipe.err" | head -n 1 > /dev/null
    st=${PIPESTATUS[0]}
    set -o pipefail
    [ "$st" -eq 0 ] || fail "dump -f $f | head: exit $st"
    [ ! -s "$WORK/pipe.err" ] || fail "dump -f $f | head: $(cat "$WORK/pipe.err")"
done

need_corpus invalid/ExplorerStartupLog-win10-nul-to-space.etl traceevent/primitive-types.etl \
    traceevent/net.4.5.2.x86.etl # the generated-trace checks above passed; the real-trace ones skip
"$ETWIRE" dump "$SHARED/corpus/invalid/ExplorerStartupLog-win10-nul-to-space.etl" > /dev/null 2> "$WORK/err" \
    && fail "damaged file exit 0"
grep -q "buffer 0 at offset 0" "$WORK/err" || fail "damaged file message: $(cat "$WORK/err")"

"$ETWIRE" dump -f json "$SHARED/corpus/traceevent/primitive-types.etl" > "$WORK/p.json" || fail "primitive-types"
jq -e -s '[.[] | select(.event == "PrimitiveTypesTest")] | length == 5' "$WORK/p.json" >/dev/null || fail "event names"
jq -e -s '[.[] | select(.event == "PrimitiveTypesTest")][0].fields.string_type == "Mercury"' "$WORK/p.json" >/dev/null \
    || fail "decoded field"
"$ETWIRE" stats "$SHARED/corpus/traceevent/net.4.5.2.x86.etl" > "$WORK/c.txt" || fail "compressed stats"
grep -q "compressed: 275 buffers" "$WORK/c.txt" || fail "compression ratio line"
echo "cli dump/stats: all checks passed"
