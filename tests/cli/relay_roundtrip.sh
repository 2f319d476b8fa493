#!/bin/bash
# send -> collect on loopback: the saved .etl is byte-identical to the sent file, `etwire dump`
# of both agree, and the collector's JSON lines equal `etwire dump --format json` of the file,
# line for line: with an unbounded reorder window and memory to spare, a buffer stream
# delivers exactly the file's event sequence (design.md decision 3).
# Covers files through the library, --raw, standard input, zstd and several sessions at once.
# Usage: relay_roundtrip.sh ETWIRE SHARED_DIR
# ETWIRE_TEST_THREADS: one collector decodes many sessions on their own threads over the shared
# schema store, so CI runs this under TSan too.
. "$(dirname "$0")/relay_lib.bash"

make_trace a --seed 11 --events 30000 --processors 4
make_trace b --seed 12 --events 5000 --processors 2 --buffer-size 8K

start_collector main --out "$WORK/out" --json "$WORK/json" --reorder unbounded --window 4096 \
    --max-memory 1G --zstd --stats "$WORK/stats.jsonl"

check() { # check SOURCE SESSION FILE
    local etl json
    etl=$(ls "$WORK/out/$1/$2"-????????????????.etl 2>/dev/null | head -1)
    json=$(ls "$WORK/json/$1/$2"-????????????????.jsonl 2>/dev/null | head -1)
    [ -n "$etl" ] || fail "$1/$2: no .etl saved"
    cmp -s "$3" "$etl" || fail "$1/$2: saved .etl differs from $3"
    "$ETWIRE" dump "$3" >"$WORK/dump-orig.txt" || fail "dump of $3"
    "$ETWIRE" dump "$etl" >"$WORK/dump-saved.txt" || fail "dump of $etl"
    cmp -s "$WORK/dump-orig.txt" "$WORK/dump-saved.txt" || fail "$1/$2: dumps differ"
    "$ETWIRE" dump --format json "$3" >"$WORK/dump.jsonl"
    if ! cmp -s "$WORK/dump.jsonl" "$json"; then
        cmp -s <(sort "$WORK/dump.jsonl") <(sort "$json") || fail "$1/$2: collector JSON events differ from etwire dump"
        fail "$1/$2: collector JSON has the same events as etwire dump, in another order"
    fi
    echo "ok $1/$2: $(wc -c <"$etl") bytes, $(wc -l <"$json") events, same sequence as etwire dump"
}

S="timeout 60 $ETWIRE send --to 127.0.0.1:$PORT --plain --retry 10 --window 1024"
$S --source host-a "$WORK/a.etl" 2>>"$WORK/send.log" || fail "send a"
$S --source host-a --raw --session a-raw "$WORK/a.etl" 2>>"$WORK/send.log" || fail "send --raw"
$S --source host-b --session from-stdin - <"$WORK/b.etl" 2>>"$WORK/send.log" || fail "send stdin"
$S --source host-z --zstd "$WORK/a.etl" "$WORK/b.etl" 2>>"$WORK/send.log" || fail "send zstd"
# Several sources at once.
for i in 1 2 3 4; do
    $S --source "par-$i" "$WORK/b.etl" 2>>"$WORK/send.log" &
    PIDS+=($!)
done
wait "${PIDS[@]:1}" || fail "parallel sends"
stop_collector

check host-a a "$WORK/a.etl"
check host-a a-raw "$WORK/a.etl"
check host-b from-stdin "$WORK/b.etl"
check host-z a "$WORK/a.etl"
check host-z b "$WORK/b.etl"
for i in 1 2 3 4; do check "par-$i" b "$WORK/b.etl"; done
[ "$(grep -c '^{"source"' "$WORK/stats.jsonl")" -eq 9 ] || fail "expected 9 session statistics lines"
# The collector's own line last: every connection it accepted completed its session.
coll=$(tail -n 1 "$WORK/stats.jsonl")
field() { echo "$coll" | grep -o "\"$1\":[0-9]*" | cut -d: -f2; }
[ -n "$(field accepted)" ] || fail "no collector statistics line: $coll"
[ "$(field accepted)" -ge 8 ] && [ "$(field completed)" -eq "$(field accepted)" ] &&
    [ "$(field refused)" -eq 0 ] && [ "$(field invalid)" -eq 0 ] ||
    fail "collector statistics: $coll"

# Every corpus file the reader takes whole, when the shared corpus is present, through ONE
# collector, four sources at a time: what a trace teaches the decoder (embedded schemas,
# EventSource manifests) stays with that trace's session, so each saved file and JSON stream
# must still equal `etwire dump` of that file alone.
if [ -d "$SHARED/corpus" ]; then
    start_collector corpus --out "$WORK/out" --json "$WORK/json" --reorder unbounded \
        --window 4096 --max-memory 2G
    n=0
    files=()
    senders=()
    for f in $(find "$SHARED/corpus" -name '*.etl' | grep -v /invalid/ | sort); do
        "$ETWIRE" dump "$f" >/dev/null 2>&1 || continue # only files the reader takes whole
        n=$((n + 1))
        files[$n]=$f
        timeout 120 "$ETWIRE" send --to "127.0.0.1:$PORT" --plain --source "corpus-$((n % 4))" \
            --session "c$n" "$f" 2>>"$WORK/send.log" &
        senders+=($!)
        PIDS+=($!) # killed on exit if still running
        if [ $((n % 4)) -eq 0 ]; then
            for p in "${senders[@]}"; do wait "$p" || fail "corpus send"; done
            senders=()
        fi
    done
    for p in "${senders[@]}"; do wait "$p" || fail "corpus send"; done
    stop_collector
    for i in $(seq 1 $n); do check "corpus-$((i % 4))" "c$i" "${files[$i]}"; done
    echo "ok: $n corpus files through one collector"
fi
echo "relay round trip: ok"
need_corpus # the generated sessions passed; without the corpus its part is reported skipped
