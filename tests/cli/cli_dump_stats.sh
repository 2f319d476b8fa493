#!/usr/bin/env bash
# etwire dump / stats / generate end to end: line counts, JSON validity and field names,
# filters, decoded fields on a real trace, and errors that go to stderr with a non-zero exit.
set -uo pipefail
etwire=$1
shared=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$etwire" generate --seed 3 --events 20000 --processors 4 -o "$tmp/g.etl" 2>/dev/null || fail "generate"
"$etwire" stats "$tmp/g.etl" > "$tmp/stats.txt" || fail "stats exit code"
events=$(awk '/^events:/ {print $2}' "$tmp/stats.txt")
[ -n "$events" ] && [ "$events" -gt 20000 ] || fail "stats events: '$events'"

"$etwire" dump "$tmp/g.etl" > "$tmp/dump.txt" || fail "dump exit code"
[ "$(wc -l < "$tmp/dump.txt")" -eq "$events" ] || fail "dump lines != stats events"

"$etwire" dump -f json "$tmp/g.etl" > "$tmp/dump.json" || fail "json exit code"
jq -e -s "length == $events" "$tmp/dump.json" >/dev/null || fail "JSON lines invalid or wrong count"
jq -e -s 'all(.[]; has("time") and has("provider_guid") and has("id") and has("version") and has("level")
                  and has("opcode") and has("task") and has("keyword") and has("pid") and has("tid")
                  and has("cpu") and has("flags") and has("payload_length"))' "$tmp/dump.json" >/dev/null \
    || fail "JSON field names"
jq -e -s '[.[].time] as $t | $t == ($t | sort)' "$tmp/dump.json" >/dev/null || fail "not time ordered"

"$etwire" dump -f csv "$tmp/g.etl" > "$tmp/dump.csv" || fail "csv exit code"
[ "$(wc -l < "$tmp/dump.csv")" -eq $((events + 1)) ] || fail "csv rows != events + header"
head -1 "$tmp/dump.csv" | grep -q '^time,provider_guid,provider,event,id,' || fail "csv header"

pid=$(jq -s -r '[.[] | select(.pid != 4294967295)][5].pid' "$tmp/dump.json")
want=$(jq -s "[.[] | select(.pid == $pid)] | length" "$tmp/dump.json")
got=$("$etwire" dump --pid "$pid" "$tmp/g.etl" | wc -l)
[ "$got" -eq "$want" ] || fail "--pid filter: $got != $want"

want=$(jq -s '[.[] | select(.provider_guid == "5e7c1a01-2b3d-4c11-9a0e-457477697201")] | length' "$tmp/dump.json")
got=$("$etwire" dump --provider '{5e7c1a01-2b3d-4c11-9a0e-457477697201}' "$tmp/g.etl" | wc -l)
[ "$want" -gt 0 ] && [ "$got" -eq "$want" ] || fail "--provider filter: $got != $want"
"$etwire" dump --provider '{not-a-guid}' "$tmp/g.etl" > /dev/null 2>&1 && fail "bad --provider accepted"

if "$etwire" dump "$tmp/missing.etl" > /dev/null 2> "$tmp/err"; then fail "missing file exit 0"; fi
grep -q "missing.etl" "$tmp/err" || fail "missing file message"
"$etwire" dump --format xml "$tmp/g.etl" > /dev/null 2>&1 && fail "bad option accepted"

# --mof: a MOF class for the generator's first classic provider (every event type, any version)
# turns exactly its events into decoded ones; a broken MOF is refused with its line number.
cat > "$tmp/gen.mof" <<'MOF'
[Dynamic, Guid("{5e7c1a01-2b3d-4c11-9a0e-457477697201}"), DisplayName("GenClassic")]
class GenClassic : EventTrace { };
[EventType{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39}]
class GenClassic_Any : GenClassic
{
    [WmiDataId(1), StringTermination("NotCounted")] string Bytes;
};
MOF
want=$(jq -s '[.[] | select(.provider_guid == "5e7c1a01-2b3d-4c11-9a0e-457477697201")] | length' "$tmp/dump.json")
[ "$want" -gt 0 ] || fail "generator wrote no classic events"
"$etwire" dump -f json --mof "$tmp/gen.mof" "$tmp/g.etl" > "$tmp/mof.json" || fail "dump --mof exit code"
got=$(jq -s '[.[] | select(.provider_guid == "5e7c1a01-2b3d-4c11-9a0e-457477697201" and .decoded == true
                    and .provider == "GenClassic" and (.fields | has("Bytes")))] | length' "$tmp/mof.json")
[ "$got" -eq "$want" ] || fail "--mof decoded $got of $want events"
others=$(jq -s '[.[] | select(.decoded == true)] | length' "$tmp/dump.json")
all=$(jq -s '[.[] | select(.decoded == true)] | length' "$tmp/mof.json")
[ "$all" -eq $((others + want)) ] || fail "--mof changed other events: $all != $others + $want"
printf 'class A {\n  uint32 x\n};\n' > "$tmp/bad.mof"
if "$etwire" dump --mof "$tmp/bad.mof" "$tmp/g.etl" > /dev/null 2> "$tmp/err"; then fail "bad MOF accepted"; fi
grep -q "bad.mof: line 3: expected ';'" "$tmp/err" || fail "bad MOF message: $(cat "$tmp/err")"

if [ ! -d "$shared/corpus" ]; then echo "corpus absent: real-trace checks skipped"; exit 0; fi
"$etwire" dump "$shared/corpus/invalid/ExplorerStartupLog-win10-nul-to-space.etl" > /dev/null 2> "$tmp/err" \
    && fail "damaged file exit 0"
grep -q "buffer 0 at offset 0" "$tmp/err" || fail "damaged file message: $(cat "$tmp/err")"

"$etwire" dump -f json "$shared/corpus/traceevent/primitive-types.etl" > "$tmp/p.json" || fail "primitive-types"
jq -e -s '[.[] | select(.event == "PrimitiveTypesTest")] | length == 5' "$tmp/p.json" >/dev/null || fail "event names"
jq -e -s '[.[] | select(.event == "PrimitiveTypesTest")][0].fields.string_type == "Mercury"' "$tmp/p.json" >/dev/null \
    || fail "decoded field"
"$etwire" stats "$shared/corpus/traceevent/net.4.5.2.x86.etl" > "$tmp/c.txt" || fail "compressed stats"
grep -q "compressed: 275 buffers" "$tmp/c.txt" || fail "compression ratio line"
echo "cli dump/stats: all checks passed"
