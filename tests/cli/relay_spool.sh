#!/bin/bash
# The sender's spool (etwire send --spool, docs/wire-protocol.md §10.1), on loopback with a
# corpus .etl piped into standard input:
#  1. the sender is killed (SIGKILL) while the collector still lacks most buffers; a restart
#     with only --spool DIR finishes the session under the same instance: the saved .etl is
#     byte-identical to the input and the JSON lines hold every event exactly once;
#  2. --spool-max bounds the spool on disk (acknowledged segments are deleted) and the spool is
#     gone once the END is acknowledged;
#  3. a spool whose last record the crash cut short is recovered up to its last complete record;
#  4. a corrupt spool is refused with an error naming the file and the offset, and kept;
#  5. read-ahead: the input is read into the spool at disk speed, not at the collector's pace;
#  6. a spool holding only an empty segment is deleted, and says so without -v.
# Usage: relay_spool.sh ETWIRE SHARED_DIR
. "$(dirname "$0")/relay_lib.bash"

need_corpus airbus-etl-parser/ShutdownPerfDiagLogger.etl
need_cmd inotifywait "Debian inotify-tools"
SRC="$SHARED/corpus/airbus-etl-parser/ShutdownPerfDiagLogger.etl"
cp "$SRC" "$WORK/c.etl"
SIZE=$(stat -c %s "$WORK/c.etl")
BUFSIZE=$(od -An -tu4 -N4 "$WORK/c.etl" | tr -d ' ')
# A slow collector (512 KB/s per connection) leaves time to kill the sender mid-stream.
COLLECT_ARGS=(--out "$WORK/out" --json "$WORK/json" --max-rate 512K)

saved() { ls "$WORK"/out/src/stdin-????????????????.etl 2>/dev/null | head -1; }
saved_size() { local f; f=$(saved); [ -n "$f" ] && stat -c %s "$f" || echo 0; }
spool_bytes() { local b; b=$(du -sb "$1" 2>/dev/null | cut -f1); echo "${b:-0}"; }
wait_until() { # wait_until SECONDS CMD...: CMD again at each change below $WORK
    local secs=$1; shift
    until_changed "$secs" "$WORK" "$@"
}
json_same() { # json_same ETL: the collector's JSON lines are ETL's events, each once
    "$ETWIRE" dump --format json "$1" | sort >"$WORK/want.jsonl"
    sort "$WORK"/json/src/stdin-*.jsonl >"$WORK/got.jsonl"
    cmp -s "$WORK/want.jsonl" "$WORK/got.jsonl" ||
        fail "JSON events differ ($(comm -23 "$WORK/want.jsonl" "$WORK/got.jsonl" | wc -l) missing," \
            "$(comm -13 "$WORK/want.jsonl" "$WORK/got.jsonl" | wc -l) extra)"
}
# watchdog SECONDS PID: the deadline of a sender that runs in the background (no pipe held
# open); its sleep is the deadline only, killed with the test's other children.
watchdog() { (sleep "$1"; kill -9 "$2") >/dev/null 2>&1 & PIDS+=($!); } # deadline
# spool_peak DIR OUT: records in OUT the largest size DIR reaches, measured at each change below
# it (inotify), never on a timer; stop_peak ends it once the writer is done.
spool_peak() {
    local fifo="$WORK/.peak.fifo" line="" events
    mkfifo "$fifo" || fail "mkfifo"
    inotifywait -m -r -e create -e modify -e moved_to -e close_write --format x "$1" >"$fifo" 2>&1 &
    PEAK_WATCHER=$!
    PIDS+=("$PEAK_WATCHER")
    exec {events}<"$fifo"
    rm -f "$fifo"
    until [ "$line" = "Watches established." ]; do
        read -r -t 20 -u "$events" line || fail "inotifywait did not start"
    done
    (
        max=0
        echo 0 >"$2"
        while read -r -u "$events" _; do
            while read -r -t 0 -u "$events" && read -r -u "$events" _; do :; done # one burst, one look
            b=$(spool_bytes "$1")
            [ "$b" -gt "$max" ] && { max=$b; echo "$max" >"$2"; }
        done
    ) &
    PEAKER=$!
    PIDS+=("$PEAKER")
    exec {events}<&-
}
stop_peak() { kill "$PEAK_WATCHER" 2>/dev/null; wait "$PEAKER" 2>/dev/null; }
spool_has() { [ "$(spool_bytes "$1")" -ge "$2" ]; }
saved_has() { [ "$(saved_size)" -ge "$1" ]; }

# 1. SIGKILL while unacknowledged buffers are only in the spool, then restart without input.
start_collector one "${COLLECT_ARGS[@]}"
cat "$WORK/c.etl" | "$ETWIRE" send --to "127.0.0.1:$PORT" --plain --source src --window 4 \
    --spool "$WORK/spool" -v - 2>"$WORK/send1.log" &
SENDER=$!
PIDS+=("$SENDER")
watchdog 60 "$SENDER"
# The whole input is spooled long before the slow collector has it.
wait_until 60 spool_has "$WORK/spool" "$SIZE" || fail "the input never reached the spool"
wait_until 60 saved_has $((SIZE / 5)) || fail "the collector never received data"
kill -9 "$SENDER"
wait "$SENDER" 2>/dev/null
CUT=$(saved_size)
[ "$CUT" -lt "$SIZE" ] || fail "the transfer ended before the sender was killed"
ls "$WORK"/spool/src+stdin+*/*.seg >/dev/null 2>&1 || fail "no spool segment left after the kill"
timeout 90 "$ETWIRE" send --to "127.0.0.1:$PORT" --plain --window 4 --spool "$WORK/spool" --retry 30 -v \
    2>"$WORK/send2.log" || fail "the restarted sender failed"
grep -q "resuming spooled instance .* and END" "$WORK/send2.log" || fail "the spooled session was not resumed"
INSTANCE=$(grep -o 'resuming spooled instance [0-9a-f]*' "$WORK/send2.log" | awk '{print $4}')
[ -n "$(ls -A "$WORK/spool")" ] && fail "the spool was not deleted after the final ACK"
stop_collector
[ "$(saved)" = "$WORK/out/src/stdin-$INSTANCE.etl" ] || fail "the restart did not keep the instance"
cmp -s "$WORK/c.etl" "$(saved)" || fail "after a sender SIGKILL the saved .etl differs from the input"
json_same "$WORK/c.etl"
echo "ok sender SIGKILL at $CUT of $SIZE bytes, restarted from the spool alone: $(wc -l <"$WORK/got.jsonl") events each once"

# 2. The disk bound: a 14 MiB trace read far ahead of a 2 MB/s collector, with the spool limited
#    to 8 MiB (two 4 MiB segments): the spool stays within the limit plus one segment, which
#    only works if acknowledged segments are deleted.
rm -rf "$WORK/out" "$WORK/json"
"$ETWIRE" generate --seed 21 --events 60000 --processors 4 -o "$WORK/big.etl" >/dev/null 2>&1 || fail "generate failed"
BIG=$(stat -c %s "$WORK/big.etl")
start_collector two --out "$WORK/out" --max-rate 2M
mkdir -p "$WORK/spool"
spool_peak "$WORK/spool" "$WORK/peak"
cat "$WORK/big.etl" | timeout 90 "$ETWIRE" send --to "127.0.0.1:$PORT" \
    --plain --source src --spool "$WORK/spool" --spool-max 8M --window 8 - 2>"$WORK/send3.log" &
SENDER=$!
PIDS+=("$SENDER")
wait "$SENDER" || fail "the bounded spool's sender failed"
stop_peak
MAXSPOOL=$(cat "$WORK/peak")
stop_collector
[ "$MAXSPOOL" -le $(((8 + 4) * 1048576 + 65536)) ] || fail "spool grew to $MAXSPOOL bytes over its bound"
[ "$MAXSPOOL" -gt $((6 * 1048576)) ] || fail "the spool never held a backlog ($MAXSPOOL bytes)"
[ -z "$(ls -A "$WORK/spool")" ] || fail "the spool was not deleted after the final ACK"
cmp -s "$WORK/big.etl" "$(saved)" || fail "bounded spool: saved .etl differs"
echo "ok spool bounded by --spool-max 8M: at most $MAXSPOOL bytes on disk for $BIG bytes sent"

# 3. A torn last record: the sender gets only part of its input (a FIFO kept open), is killed,
#    and the tail of its last segment is cut as a crash in the middle of a write would.
rm -rf "$WORK/out" "$WORK/json" "$WORK/spool"
start_collector three "${COLLECT_ARGS[@]}"
HALF=$((SIZE / 2 + 1000))
mkfifo "$WORK/fifo"
"$ETWIRE" send --to "127.0.0.1:$PORT" --plain --source src --window 4 --spool "$WORK/spool" - \
    <"$WORK/fifo" 2>"$WORK/send4.log" &
SENDER=$!
PIDS+=("$SENDER")
exec 3>"$WORK/fifo"
head -c "$HALF" "$WORK/c.etl" >&3
WHOLE=$((HALF / BUFSIZE))  # complete buffers the sender could read
# At WHOLE * BUFSIZE bytes (24-byte record headers and one segment header included) all but the
# last few hundred bytes of the last complete buffer are in the spool, and no later buffer can
# come: the 1000 bytes cut below tear that record whether or not the kill found it whole.
wait_until 60 spool_has "$WORK/spool" $((WHOLE * BUFSIZE)) || fail "the partial input never reached the spool"
kill -9 "$SENDER"
wait "$SENDER" 2>/dev/null
exec 3>&-
cp -r "$WORK/spool" "$WORK/spool-copy" # for 4.
LAST=$(ls "$WORK"/spool/src+stdin+*/*.seg | tail -1)
truncate -s -1000 "$LAST"
timeout 90 "$ETWIRE" send --to "127.0.0.1:$PORT" --plain --spool "$WORK/spool" --retry 30 -v \
    2>"$WORK/send5.log" || fail "the sender did not recover a spool with a torn tail"
grep -q "cut [0-9]* bytes of a record the crash left incomplete" "$WORK/send5.log" || fail "no torn-tail notice"
grep -q "its input stopped early" "$WORK/send5.log" || fail "the cut session was not ended where its input stopped"
stop_collector
GOT=$(saved_size)
[ "$GOT" -eq $(((WHOLE - 1) * BUFSIZE)) ] || fail "recovered $GOT bytes, want $(((WHOLE - 1) * BUFSIZE)) (all complete buffers but the torn one)"
cmp -s -n "$GOT" "$WORK/c.etl" "$(saved)" || fail "the recovered session is not the input's first buffers"
echo "ok torn spool tail: $((WHOLE - 1)) complete buffers of $WHOLE recovered and delivered"

# 4. Corruption inside a complete record: a clear error naming the file and offset, nothing sent,
#    the spool kept for inspection.
SEG=$(ls "$WORK"/spool-copy/src+stdin+*/*.seg | head -1)
printf '\xa5' | dd of="$SEG" bs=1 seek=$((BUFSIZE + 5000)) conv=notrunc status=none
if "$ETWIRE" send --to "127.0.0.1:1" --plain --spool "$WORK/spool-copy" --retry 1 2>"$WORK/send6.log"; then
    fail "a corrupt spool was accepted"
fi
grep -q "spool $SEG: corrupt at offset [0-9]*: record checksum wrong" "$WORK/send6.log" ||
    fail "no clear error for the corrupt spool: $(cat "$WORK/send6.log")"
[ -f "$SEG" ] || fail "the corrupt spool was deleted"
echo "ok corrupt spool refused: $(head -1 "$WORK/send6.log")"
# 5. Read-ahead: a 14 MiB input against a 2 MB/s collector is read whole (its writer exits)
#    while the collector holds less than half of it.
rm -rf "$WORK/out" "$WORK/spool"
start_collector five --out "$WORK/out" --max-rate 2M
mkfifo "$WORK/fifo5"
timeout 90 "$ETWIRE" send --to "127.0.0.1:$PORT" --plain --source src --spool "$WORK/spool" --window 8 - \
    <"$WORK/fifo5" 2>"$WORK/send7.log" &
SENDER=$!
PIDS+=("$SENDER")
cat "$WORK/big.etl" >"$WORK/fifo5" # returns once the sender has read all but a pipe's worth
AHEAD=$(saved_size)
[ "$AHEAD" -lt $((BIG / 2)) ] || fail "read-ahead: the collector already had $AHEAD of $BIG bytes when the input was read"
wait "$SENDER" || fail "the read-ahead sender failed"
stop_collector
cmp -s "$WORK/big.etl" "$(saved)" || fail "read-ahead: saved .etl differs"
echo "ok read-ahead: input read whole while the collector held $AHEAD of $BIG bytes"

# 6. An empty segment alone: deleted, with a message (no -v).
mkdir -p "$WORK/spool6/src+e+00000000000000aa"
: >"$WORK/spool6/src+e+00000000000000aa/00000000000000000000.seg"
"$ETWIRE" send --to "127.0.0.1:1" --plain --spool "$WORK/spool6" --retry 1 2>"$WORK/send8.log"
grep -q "holds no buffer .*deleted" "$WORK/send8.log" || fail "an empty spool went silently: $(cat "$WORK/send8.log")"
[ -e "$WORK/spool6/src+e+00000000000000aa" ] && fail "the empty spool was not deleted"
echo "ok empty spool deleted: $(head -1 "$WORK/send8.log")"
echo "relay spool: ok"
