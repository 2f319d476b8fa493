#!/usr/bin/env bash
# Runs the Windows-style sample programs on corpus traces (when ../shared/corpus is there) and
# on a generated trace. Each program checks its own results (its last line ends in ": ok"); the
# event count it reports must also equal an independent count of the file's records.
# Usage: run_samples.sh SAMPLE_DIR ETL_RECORD_COUNT ETWIRE_CLI SHARED_DIR
set -uo pipefail
bin=$1 count=$2 etwire=$3 shared=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0 runs=0

check() { # program trace [args...]
    local program=$1 trace=$2
    shift 2
    local out want got
    out=$("$bin/$program" "$trace" "$@" 2>"$tmp/stderr")
    local rc=$?
    want=$("$count" "$trace")
    got=$(printf '%s\n' "$out" | tail -1 | sed -n 's/^\([0-9]*\) events.*/\1/p')
    runs=$((runs + 1))
    if [ $rc -ne 0 ] || [ "$got" != "$want" ] || ! printf '%s\n' "$out" | tail -1 | grep -q ': ok$'; then
        echo "FAIL: $program $(basename "$trace"): exit $rc, $got events, $want records"
        printf '%s\n' "$out" | tail -3
        head -5 "$tmp/stderr"
        failures=$((failures + 1))
    else
        echo "ok: $program $(basename "$trace"): $(printf '%s\n' "$out" | tail -1)"
    fi
}

# Events TDH decodes today, at least, per trace (a regression guard; these rise as etwire learns
# the schemas merged traces embed - raise them when it does).
declare -A decoded_floor=(
    [primitive-types.etl]=7 [gcevents.etl]=69 [net.4.5.2.x86.etl]=167776
    [SelfDescribingSingleEvent.etl]=23 [process_data_32_v1.etl]=3 [AMSITrace.etl]=21
    [msbuild-PerfViewData-ptr32-compressed.etl]=5871 [powershell.etl]=114 [out-relogged.etl]=110
    [HTTP_Server.etl]=2042)

check_decoded() { # trace
    local name floor decoded
    name=$(basename "$1")
    floor=${decoded_floor[$name]:-0}
    decoded=$("$bin/tdh_consumer" "$1" 0 2>/dev/null | tail -1 | sed -n 's/^[0-9]* events: \([0-9]*\) decoded.*/\1/p')
    if [ -z "$decoded" ] || [ "$decoded" -lt "$floor" ]; then
        echo "FAIL: tdh_consumer $name: ${decoded:-no} events decoded, at least $floor expected"
        failures=$((failures + 1))
    fi
}

# TdhEnumerateProviders must list the provider of every event TDH decoded (asked in the event
# callback, where the schemas a trace embeds and its TraceLogging providers are listed too).
check_providers() { # [trace]
    local out rc
    out=$("$bin/enum_providers" "$@" 2>&1)
    rc=$?
    runs=$((runs + 1))
    if [ $rc -ne 0 ] || ! printf '%s\n' "$out" | tail -1 | grep -q ': ok$'; then
        echo "FAIL: enum_providers ${1:-}: $(printf '%s\n' "$out" | tail -1)"
        failures=$((failures + 1))
    else
        echo "ok: enum_providers $(basename "${1:-(no trace)}"): $(printf '%s\n' "$out" | tail -1)"
    fi
}

run_all() {
    check tdh_consumer "$1" 0
    check_decoded "$1"
    check_providers "$1"
    check classic_consumer "$1"
    check stream_consumer "$1" "$tmp/spool"
}

# (The generator's payloads are random bytes, not what the kernel schemas describe, so the TDH
# sample - which fails on any payload TDH cannot format - reads real traces only.)
"$etwire" generate --seed 9 --events 20000 -o "$tmp/generated.etl" 2>/dev/null || { echo "FAIL: generate"; exit 1; }
check_providers
check classic_consumer "$tmp/generated.etl"
check stream_consumer "$tmp/generated.etl" "$tmp/spool"

corpus=$shared/corpus
if [ -d "$corpus" ]; then
    # 64- and 32-bit producers; TraceLogging, manifest, MOF and kernel events; compressed,
    # relogged and merged files with embedded schemas.
    for t in traceevent/primitive-types.etl traceevent/gcevents.etl traceevent/net.4.5.2.x86.etl \
             traceevent/SelfDescribingSingleEvent.etl sawbuck-win7-ptr32/process_data_32_v1.etl \
             airbus-etl-parser/AMSITrace.etl perfview-merged/msbuild-PerfViewData-ptr32-compressed.etl \
             krabsetw/powershell.etl uiforetw/out-relogged.etl tx/HTTP_Server.etl; do
        [ -f "$corpus/$t" ] && run_all "$corpus/$t"
    done
    # Two files in one ProcessTrace call (the merge of a 64- and a 32-bit producer's traces).
    a=$corpus/traceevent/net.4.5.2.x86.etl b=$corpus/perfview-merged/msbuild-PerfViewData-ptr32-compressed.etl
    [ -f "$a" ] && [ -f "$b" ] && check classic_consumer "$a" "$b"
else
    echo "../shared/corpus is absent: generated trace only"
fi
echo "$runs sample runs, $failures failed"
[ $failures -eq 0 ]
