#!/usr/bin/env bash
# Issue 4's coverage figure: in the corpus files whose schemas the trace itself carries (kernel
# classes, TraceLogging, schemas embedded by merges, EventSource manifests), at least 95% of the
# events decode to named fields, file by file. In the one trace that mixes such events with .NET
# runtime events (whose manifests live in TraceEvent, not in the trace), the rule applies to
# everything but those providers.
set -uo pipefail
etwire=$1
shared=$2
fail() { echo "FAIL: $*"; exit 1; }
[ -d "$shared/corpus" ] || { echo "corpus absent: skipped"; exit 77; }

carried=(
    airbus-etl-parser/AMSITrace.etl airbus-etl-parser/ShutdownPerfDiagLogger.etl
    airbus-etl-parser/lxcore_kernel.etl misc/hw3d-trace.etl
    perfview-merged/monogame-PerfViewData-compressed.etl
    perfview-merged/msbuild-PerfViewData-ptr32-compressed.etl pktmon/demikernel-PktMon-compressed.etl
    traceevent/SelfDescribingSingleEvent.etl traceevent/diaghub/diaghub.etl
    traceevent/diaghub/diaghub.kernel.1.etl traceevent/net.4.5.2.x86.etl
    traceevent/primitive-types.etl tx/BondEtwSample.etl uiforetw/out-relogged.etl
)
for f in "${carried[@]}" $(cd "$shared/corpus" && ls sawbuck-win7-ptr32/*.etl); do
    line=$("$etwire" stats --undecoded "$shared/corpus/$f" | grep '^decoded:') || fail "$f: no decoded line"
    set -- $line # decoded: X of Y events (P%)
    [ "$4" -gt 0 ] || fail "$f: no events"
    [ $(($2 * 100)) -ge $(($4 * 95)) ] || fail "$f: only $2 of $4 events decoded"
    printf '%-60s %s of %s\n' "$f" "$2" "$4"
done

# Everything but the .NET runtime providers (DotNETRuntime, -Private, -Rundown).
f=traceevent/net.4.5.x86-PerfViewData.etl
read -r n ok < <("$etwire" dump -f json "$shared/corpus/$f" |
    jq -r 'select(.provider_guid != "e13c0d23-ccbc-4e12-931b-d9cc2eee27e4" and
                  .provider_guid != "763fd754-7086-4dfe-95eb-c01a46faf4ca" and
                  .provider_guid != "a669021c-c450-4609-a035-5af59af4df18") | .decoded' |
    awk '{n++; if ($1 == "true") ok++} END {print n, ok + 0}')
[ "$n" -gt 50000 ] || fail "$f: only $n events outside the .NET providers"
[ $((ok * 100)) -ge $((n * 95)) ] || fail "$f: only $ok of $n non-.NET events decoded"
printf '%-60s %s of %s (without the .NET runtime providers)\n' "$f" "$ok" "$n"
echo "decode coverage: every schema-carrying file at or above 95%"
