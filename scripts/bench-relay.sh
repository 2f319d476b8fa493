#!/usr/bin/env bash
# Collector and sender throughput on loopback, whole processes: one generated trace (~100 MB,
# 64 KiB buffers) sent by `etwire send` (buffers straight from the file index) to `etwire
# collect` (plain TCP on 127.0.0.1) by 1 and 8 concurrent senders, saving .etl only, then .etl
# + decoded JSON lines; a plain read of the file (`cat FILE > /dev/null`, page cache) and the
# file pipeline (`etwire dump -f json`) in the same run for scale.
#
# With --before DIR, every case also runs with the build in DIR (main's, say), runs of the two
# interleaved, and the table gives the ratio of their medians: side by side in one run, so that
# the load of other processes stretches both alike.
#
# Per case: median MB/s of buffers over RUNS runs, the ratio to the plain read, and where the
# CPU went (medians): the collector's (user+sys seconds per wall second: 2.0 = both cores of
# this machine) with the MB it handled per CPU-second (robust against other load, which
# stretches wall times), the senders' together, and the machine's share (collector + senders
# over the cores: 1.00 = every core busy). On a 2-core machine the senders need CPU too, so
# "8 senders use both cores" shows as a machine share near 1.00, the collector's part spread
# over its threads. The JSON cases split the collector's CPU by thread (from its --stats
# lines): receiving (etw-conn: socket, .etl), processing (etw-session: merge, decode, JSON)
# and the rest (etw-write JSON writers, the main thread); and they give what one session's
# processing thread does with a core to itself (its MB per CPU-second): the ceiling of one
# sender with JSON on an idle machine, where the other threads share the other core.
# The senders' CPU is also given per GB they sent (user + system, getrusage: the reading of the
# file and the socket's copy; median over the runs): the figure for `send` itself.
# The senders run at nice 10 (--nice N to change) so that on a small machine they do not
# starve the collector they are measuring. The collector's .etl and JSON files go to a tmpfs
# (/dev/shm when it has room; --out DIR to choose), so that the disk's writeback, shared with
# every other process, does not set the pace: 8 senders with JSON write about 3 GB per run.
# The load average before and after is printed: compare ratios, not absolute figures.
# The aims (issue #11): .etl >= 1000 MB/s and .etl+JSON >= 300 MB/s with one sender; 8
# senders use both cores.
# With --syscalls, each variant's collector is also traced once (strace -f -c, attached once it
# listens) while one sender sends, and its system calls per buffer are printed: the load of
# other processes changes timings but hardly these counts.
# With --only TEXT, only the cases whose name contains TEXT run (say --only .etl, or --only
# "1 sender").
# Usage: scripts/bench-relay.sh [--before DIR] [--runs N] [--nice N] [--out DIR] [--syscalls] [--only TEXT] [BUILD-DIR]
set -euo pipefail
build=build before="" runs=3 nice_senders=10 outbase="" syscalls=0 only=""
while [ $# -gt 0 ]; do
    case $1 in
    --before) before=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --nice) nice_senders=$2; shift 2 ;;
    --out) outbase=$2; shift 2 ;;
    --syscalls) syscalls=1; shift ;;
    --only) only=$2; shift 2 ;;
    -h|--help) sed -n '2,/^# Usage/p' "$0"; exit 0 ;;
    *) build=$1; shift ;;
    esac
done
for b in "$build" ${before:+"$before"}; do
    [ -x "$b/etwire" ] || { echo "no $b/etwire: build first (cmake -S . -B build && cmake --build build)"; exit 1; }
done
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package time)"; exit 1; }
tmp=$(mktemp -d)
if [ -z "$outbase" ] && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] &&
    [ "$(df -k --output=avail /dev/shm | tail -1)" -gt $((4 << 20)) ]; then
    outbase=/dev/shm
fi
files=$(mktemp -d "${outbase:-${TMPDIR:-/tmp}}/bench-relay.XXXXXX")
collector=""
trap '[ -n "$collector" ] && kill "$collector" 2>/dev/null; rm -rf "$tmp" "$files"' EXIT
variants=(now)
declare -A bin=([now]="$build/etwire")
if [ -n "$before" ]; then
    variants=(before now)
    bin[before]="$before/etwire"
fi

"${bin[now]}" generate --seed 42 --events 400000 -o "$tmp/t.etl" 2>/dev/null
bytes=$(stat -c %s "$tmp/t.etl")
cores=$(nproc)
echo "machine: $cores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "trace: $bytes bytes (generated, 64 KiB buffers); $runs runs each, medians; senders at nice $nice_senders"
echo "collector output: $files ($(stat -f -c %T "$files"))"
for v in "${variants[@]}"; do echo "$v: ${bin[$v]}"; done
now() { date +%s.%N; }
# cpu_time OUT CMD...: runs CMD, writes its user and system CPU seconds to OUT, to the
# millisecond (bash's own `time`: a 100 MB send takes some 40 ms of CPU, /usr/bin/time's
# hundredths would be a quarter of it). Not through python3: its 20-40 ms start-up fell inside
# the timed send and halved the MB/s measured.
cpu_time=(bash -c 'out=$1; shift; TIMEFORMAT="%3U %3S"; { time "$@" >/dev/null 2>&3; } 3>&2 2>"$out"' cpu_time)
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
calc() { awk "BEGIN { print $* }"; }
ticks=$(getconf CLK_TCK)

timed() { # timed CMD...: median wall seconds of RUNS runs
    for _ in $(seq "$runs"); do
        local t0 t1
        t0=$(now); "$@" >/dev/null; t1=$(now)
        calc "$t1 - $t0"
    done | median
}
cat "$tmp/t.etl" >/dev/null # into the page cache
read_s=$(timed cat "$tmp/t.etl")
dump_s=$(timed "${bin[now]}" dump -f json "$tmp/t.etl")
mbs() { calc "$1 / $2 / 1e6"; }
printf "%-44s %8.1f MB/s  %6.2fx a plain read\n" "plain read (cat)" "$(mbs "$bytes" "$read_s")" 1
printf "%-44s %8.1f MB/s  %6.2fx a plain read\n" "file: etwire dump -f json" "$(mbs "$bytes" "$dump_s")" \
    "$(calc "$dump_s / $read_s")"

# once VARIANT SENDERS COLLECT-OPTIONS...: one run; prints
# "seconds collector-cpu senders-cpu receive-ms process-ms" (CPU in seconds per wall second).
once() {
    local v=$1 n=$2 e=${bin[$1]}
    shift 2
    rm -rf "$files/out" "$files/json" "$tmp/port" "$tmp/stats" "$tmp/ready"
    local ready=()
    if "$e" collect --help | grep -q -- --ready-fd; then
        mkfifo "$tmp/ready"
        ready=(--ready-fd 3)
    fi
    if [ ${#ready[@]} -gt 0 ]; then
        "$e" collect --listen 127.0.0.1:0 --plain --out "$files/out" --reorder unbounded "${ready[@]}" \
            "$@" 3>"$tmp/ready" 2>"$tmp/collect.log" &
        collector=$!
        read -r -t 20 port <"$tmp/ready" || { echo "collector did not start" >&2; exit 1; }
    else # a build from before --ready-fd: its port file, polled
        "$e" collect --listen 127.0.0.1:0 --plain --out "$files/out" --reorder unbounded \
            --port-file "$tmp/port" "$@" 2>"$tmp/collect.log" &
        collector=$!
        for _ in $(seq 400); do [ -s "$tmp/port" ] && break; sleep 0.05; done
        port=$(cat "$tmp/port")
    fi
    local pids=() t0 t1 cpu0 cpu1
    cpu0=$(awk '{ print $14 + $15 }' "/proc/$collector/stat")
    t0=$(now)
    for i in $(seq "$n"); do
        nice -n "$nice_senders" "${cpu_time[@]}" "$tmp/send$i.cpu" \
            "$e" send --to "127.0.0.1:$port" --plain --source "s$i" "$tmp/t.etl" 2>"$tmp/send$i.log" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    t1=$(now) # every session is acknowledged: saved (and with JSON, decoded) whole
    cpu1=$(awk '{ print $14 + $15 }' "/proc/$collector/stat")
    kill -TERM "$collector"
    wait "$collector" || true
    collector=""
    local secs senders rx=0 proc=0
    secs=$(calc "$t1 - $t0")
    senders=$(cat "$tmp"/send*.cpu | awk '{ s += $1 + $2 } END { print s }')
    if [ -s "$tmp/stats" ] && grep -q cpu_receive_ms "$tmp/stats"; then
        rx=$(grep -o '"cpu_receive_ms":[0-9]*' "$tmp/stats" | cut -d: -f2 | awk '{ s += $1 } END { print s }')
        proc=$(grep -o '"cpu_process_ms":[0-9]*' "$tmp/stats" | cut -d: -f2 | awk '{ s += $1 } END { print s }')
    fi
    rm -f "$tmp"/send*.cpu
    echo "$secs $(calc "($cpu1 - $cpu0) / $ticks / $secs") $(calc "$senders / $secs") $rx $proc $senders"
}

run() { # run NAME SENDERS COLLECT-OPTIONS...
    local name=$1 n=$2
    shift 2
    [[ "$name" == *"$only"* ]] || return 0
    for v in "${variants[@]}"; do : >"$tmp/runs.$v"; done
    for _ in $(seq "$runs"); do
        for v in "${variants[@]}"; do once "$v" "$n" "$@" >>"$tmp/runs.$v"; done
    done
    local total=$((bytes * n)) base=""
    for v in "${variants[@]}"; do
        local secs ccpu scpu spergb rx proc split="" ratio=""
        secs=$(cut -d' ' -f1 "$tmp/runs.$v" | median)
        ccpu=$(cut -d' ' -f2 "$tmp/runs.$v" | median)
        scpu=$(cut -d' ' -f3 "$tmp/runs.$v" | median)
        spergb=$(cut -d' ' -f6 "$tmp/runs.$v" | median)
        spergb=$(calc "$spergb / ($total / 1e9)")
        rx=$(cut -d' ' -f4 "$tmp/runs.$v" | median)
        proc=$(cut -d' ' -f5 "$tmp/runs.$v" | median)
        if [ "$proc" != 0 ]; then # CPU-seconds per wall second, by thread
            split=$(printf "  (receive %.2f, process %.2f, rest %.2f; a session thread with a core: %.0f MB/s)" \
                "$(calc "$rx / 1000 / $secs")" "$(calc "$proc / 1000 / $secs")" \
                "$(calc "$ccpu - ($rx + $proc) / 1000 / $secs")" "$(calc "$total / ($proc / 1000) / 1e6")")
        fi
        [ -n "$base" ] && ratio=$(printf "  %.2fx before" "$(calc "$base / $secs")")
        [ "$v" = before ] && base=$secs
        printf "%-44s %8.1f MB/s  %6.2fx a plain read  CPU: collector %.2f (%.0f MB per CPU-second), senders %.2f (%.3f CPU-s per GB), machine %.2f%s%s\n" \
            "$name${before:+ [$v]}" "$(mbs "$total" "$secs")" "$(calc "($secs / $n) / $read_s")" \
            "$ccpu" "$(calc "$total / 1e6 / ($secs * $ccpu)")" "$scpu" "$spergb" "$(calc "($ccpu + $scpu) / $cores")" \
            "$ratio" "$split"
    done
}
# syscalls VARIANT: one sender, the collector under strace -c; calls per buffer.
syscalls() {
    local v=$1 e=${bin[$1]}
    rm -rf "$files/out" "$tmp/ready" "$tmp/strace"
    mkfifo "$tmp/ready"
    "$e" collect --listen 127.0.0.1:0 --plain --out "$files/out" --reorder unbounded --ready-fd 3 \
        3>"$tmp/ready" 2>"$tmp/collect.log" &
    collector=$!
    read -r -t 20 port <"$tmp/ready" || { echo "collector did not start" >&2; exit 1; }
    strace -f -c -p "$collector" -o "$tmp/strace" 2>"$tmp/strace.log" &
    local st=$!
    for _ in $(seq 100); do grep -q attached "$tmp/strace.log" 2>/dev/null && break; sleep 0.05; done
    "$e" send --to "127.0.0.1:$port" --plain --source s1 "$tmp/t.etl" 2>/dev/null
    kill -INT "$st"
    wait "$st" || true
    kill -TERM "$collector"
    wait "$collector" || true
    collector=""
    local nbuf=$((bytes / 65536))
    awk -v n="$nbuf" -v name="syscalls per buffer, 1 sender .etl [$v]" '
        $NF == "total" { total = $4 } NF >= 5 && $NF != "total" && $4 ~ /^[0-9]+$/ { c[$NF] = $4 }
        END { printf "%-44s total %.2f:", name, total / n
              for (s in c) if (c[s] / n >= 0.01) printf " %s %.2f", s, c[s] / n; print "" }' "$tmp/strace"
}
if [ "$syscalls" = 1 ]; then
    command -v strace >/dev/null || { echo "--syscalls needs strace"; exit 1; }
    for v in "${variants[@]}"; do syscalls "$v"; done
fi
run "send->collect .etl, 1 sender" 1
run "send->collect .etl, 8 senders" 8
run "send->collect .etl+JSON, 1 sender" 1 --json "$files/json" --stats "$tmp/stats"
run "send->collect .etl+JSON, 8 senders" 8 --json "$files/json" --stats "$tmp/stats"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
