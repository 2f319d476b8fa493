#!/bin/bash
# Per-source quotas of etwire collect (docs/wire-protocol.md §10.2), on loopback:
#  1. memory: two sessions of one source, against a collector whose streams hold everything
#     (--reorder unbounded) until their memory limit and that decodes to JSON (slower than
#     loopback, so buffers pile up). Without --source-memory the source's bytes
#     in flight reach about twice the per-connection limit; with --source-memory equal to it,
#     the two connections together stay within it (plus a frame each), a third session of the
#     same source is refused (RESOURCES) until one ends, and every session still arrives exact;
#  2. rate: with --source-rate R, a source with two sessions gets R in total, not R each (it
#     needs about twice as long as one session at R), while a second source with one session
#     keeps its own R and finishes well before it.
# The per-source figures come from the collector's --stats lines. Usage: relay_quota.sh ETWIRE SHARED_DIR
# ETWIRE_TEST_THREADS: connection threads share one source's quota, so CI runs this under TSan too.
. "$(dirname "$0")/relay_lib.bash"
need_cmd inotifywait "Debian inotify-tools"

make_trace q --seed 21 --events 60000 --processors 4
SIZE=$(stat -c %s "$WORK/q.etl")
M=$((8 << 20))
stat_of() { # stat_of FILE SOURCE FIELD
    grep "\"source\":\"$2\",\"memory_quota\"" "$1" | grep -o "\"$3\":[0-9]*" | cut -d: -f2
}
send() { # send NAME SOURCE SESSION [OPTION...]
    timeout 120 "$ETWIRE" send --to "127.0.0.1:$PORT" --plain --source "$2" --session "$3" --window 64 \
        --retry 60 "${@:4}" "$WORK/q.etl" 2>"$WORK/$1.log"
}

# 1a. Control: per-connection limits only (a source rate too high to matter turns the
#     per-source statistics on).
start_collector mem0 --out "$WORK/out0" --json "$WORK/json0" --max-memory $M --reorder unbounded --stats "$WORK/stats0" \
    --source-rate 100G
send a1 a s1 & P1=$!
send a2 a s2 & P2=$!
wait $P1 && wait $P2 || fail "control senders failed"
stop_collector
CONTROL=$(stat_of "$WORK/stats0" a bytes_in_flight_peak)
[ -n "$CONTROL" ] || fail "no per-source statistics line"
[ "$CONTROL" -gt "$M" ] || fail "control: source peak $CONTROL not above $M; the test would prove nothing"

# 1b. The same with a source quota of M: each session's reserve is M/2, so two fit, three do not.
#     s1 connects first and alone, so it borrows the whole pool (M - M/2) before s2 takes its
#     reserve: the order that once let the source overshoot by a reserve. s1 and s2 replay the
#     trace's 0.3 s at a twelfth of its pace, so both are still connected when s3 comes, however
#     fast the collector drains them (the collector holds everything, so memory still fills).
start_collector mem1 --out "$WORK/out1" --json "$WORK/json1" --max-memory $M --source-memory $M --reorder unbounded \
    --stats "$WORK/stats1" -v
PIDS3=()
send bs1 a s1 --rate=0.08 & PIDS3+=($!)
wait_log 60 "$WORK/mem1.log" "a/s1 connected" || fail "session s1 did not connect"
send bs2 a s2 --rate=0.08 & PIDS3+=($!)
wait_log 60 "$WORK/mem1.log" "a/s2 connected" || fail "session s2 did not connect"
send bs3 a s3 & PIDS3+=($!)
for p in "${PIDS3[@]}"; do wait "$p" || fail "a sender of the quota run failed"; done
stop_collector
PEAK=$(stat_of "$WORK/stats1" a bytes_in_flight_peak)
CONNS=$(stat_of "$WORK/stats1" a connections_peak)
REFUSED=$(stat_of "$WORK/stats1" a refused)
FRAME=$((65536 + 64))
[ "$PEAK" -le $((M + 2 * FRAME)) ] || fail "source peak $PEAK over its quota $M (+ a frame per connection)"
[ "$CONNS" -eq 2 ] || fail "the source had $CONNS sessions connected at once, its quota allows 2"
[ "$REFUSED" -ge 1 ] || fail "the third session was never refused"
grep -q "RESOURCES.*memory quota" "$WORK/mem1.log" || fail "no RESOURCES refusal logged"
for s in s1 s2 s3; do
    cmp -s "$WORK/q.etl" "$WORK"/out1/a/$s-*.etl || fail "quota run: session $s differs"
done
echo "ok source memory: peak $PEAK bytes with quota $M (control without quota: $CONTROL), $REFUSED refusals"

# 2. Rate: source a (two sessions) and source b (one) at R per source; R is low enough to be
#    the bottleneck even for a sanitizer build's collector.
R=$((2 << 20))
"$ETWIRE" generate --seed 22 --events 20000 --processors 2 -o "$WORK/q.etl" >/dev/null 2>&1 || fail "generate failed"
SIZE=$(stat -c %s "$WORK/q.etl")
start_collector rate --out "$WORK/out2" --source-rate $R --stats "$WORK/stats2"
T0=$(date +%s.%N)
(send ra1 a s1; date +%s.%N >"$WORK/a1.done") & P1=$!
(send ra2 a s2; date +%s.%N >"$WORK/a2.done") & P2=$!
(send rb1 b s1; date +%s.%N >"$WORK/b1.done") & P3=$!
wait $P1 && wait $P2 && wait $P3 || fail "rate senders failed"
stop_collector
for s in s1 s2; do cmp -s "$WORK/q.etl" "$WORK"/out2/a/$s-*.etl || fail "rate run: a/$s differs"; done
cmp -s "$WORK/q.etl" "$WORK"/out2/b/s1-*.etl || fail "rate run: b/s1 differs"
TA=$(echo "$(sort -n "$WORK"/a?.done | tail -1) - $T0" | bc)
TB=$(echo "$(cat "$WORK/b1.done") - $T0" | bc)
ONE=$(echo "$SIZE / $R" | bc -l) # seconds for one session at R
# a shares one R between its two sessions. Its floor is exact, whatever the load (load only
# adds): in t seconds the source reads at most its burst (R/10), R*t, and one read (64 KiB)
# per connection that found budget left (and 1 ms of clock rounding); its two sessions are
# 2*SIZE bytes plus framing.
# b has its own R, so it is not held back to a's pace: it needs ONE plus its start-up and
# scheduling, which 0.8*TA >= 1.6*ONE - 0.13 s leaves over half of ONE for.
MIN_TA=$(echo "(2 * $SIZE - $R / 10 - 2 * 65536) / $R - 0.001" | bc -l)
[ "$(echo "$TA >= $MIN_TA" | bc)" -eq 1 ] || fail "source a took $TA s for two sessions; at R it needs at least $MIN_TA s"
[ "$(echo "$TB < $TA" | bc)" -eq 1 ] || fail "source b ($TB s) did not finish before the throttled source a ($TA s)"
[ "$(echo "$TB < 0.8 * $TA" | bc)" -eq 1 ] || fail "source b took $TB s, held back to source a's pace ($TA s)"
THR=$(stat_of "$WORK/stats2" a throttled_ms)
[ "$THR" -gt 0 ] || fail "source a was never throttled"
echo "ok source rate $R B/s: a (2 sessions) in $TA s, b (1 session) in $TB s, one session alone $(printf %.2f "$ONE") s"
echo "relay quota: ok"
