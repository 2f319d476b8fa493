#!/usr/bin/env bash
# Issue 10's coverage figure: with no user manifest (the built-in schemas and what each trace
# carries), every corpus trace decodes at least 99% of its events and all of them together at
# least 98%. Events of the exceptions below are left out of a file's figure (never out of the
# overall one), each for the reason given. Also checks that without the built-in schemas the
# same corpus decodes less (so the figure is the pack's doing).
set -uo pipefail
. "$(dirname "$0")/common.bash"
need_corpus

# provider GUID, event ids (* = all), reason
exceptions=(
    "763fd754-7086-4dfe-95eb-c01a46faf4ca * the .NET runtime's Private provider: in no reference manifest (only its name is built in)"
    "e13c0d23-ccbc-4e12-931b-d9cc2eee27e4 208,209 DotNETRuntime events of .NET 5+ (GC FitBucketInfo/LOHCompact): newer than every reference manifest"
    "a7975c8f-ac13-49f1-87da-5a984a4ab417 80,81,82,83,129,134,143,166,169 WinRM events of a Windows 8 pre-release: in none of the three builds' manifests"
    "a7975c8f-ac13-49f1-87da-5a984a4ab417 192 WinRM 192 logged with an empty payload though its manifest gives it fields"
    "9e5f9046-43c6-4f62-ba13-7b19896253ff * the Visual Studio diagnostics hub's injected provider: in no reference"
    "588cd2e4-a5b0-492d-a59b-f6dd3e7681c6 * a Windows 7 provider of the diagnostics platform: in no reference"
    "231cf54b-22a0-49e4-a59a-47052a30ffed 103 UIforETW's own provider (its manifest ships with UIforETW): in no reference"
)

excused() { # $1 = the stats line's GUID, $2 = event id
    local e g ids
    for e in "${exceptions[@]}"; do
        read -r g ids _ <<<"$e"
        [ "$g" = "$1" ] || continue
        [ "$ids" = "*" ] && return 0
        [[ ",$ids," == *",$2,"* ]] && return 0
    done
    return 1
}

total=0 decoded=0 plain_decoded=0
while read -r f; do
    out=$("$ETWIRE" stats --undecoded --top 0 "$SHARED/corpus/$f") || true
    line=$(grep '^decoded:' <<<"$out") || fail "$f: no decoded line"
    set -- $line # decoded: X of Y events (P%)
    d=$2 t=$4
    [ "$t" -gt 0 ] || fail "$f: no events"
    left_out=0
    while read -r n rest; do
        guid=$(sed -n 's/.*{\([0-9a-f-]*\)} id=.*/\1/p' <<<"$rest")
        id=$(sed -n 's/.*} id=\([0-9]*\) .*/\1/p' <<<"$rest")
        und=$(grep -o 'undecoded=[0-9]*' <<<"$rest" | cut -d= -f2)
        if excused "$guid" "$id"; then
            left_out=$((left_out + und))
        fi
    done < <(grep 'undecoded=' <<<"$out")
    counted=$((t - left_out))
    if [ "$counted" -gt 0 ]; then
        [ $((d * 100)) -ge $((counted * 99)) ] || fail "$f: only $d of $counted events decoded ($left_out left out)"
    fi
    plain=$(ETWIRE_BUILTIN_SCHEMAS=0 "$ETWIRE" stats --undecoded "$SHARED/corpus/$f" | grep '^decoded:' | awk '{print $2}')
    total=$((total + t)) decoded=$((decoded + d)) plain_decoded=$((plain_decoded + plain))
    printf '%-62s %7s of %7s (%s left out)  without built-in schemas: %s\n' "$f" "$d" "$t" "$left_out" "$plain"
done < <(cd "$SHARED/corpus" && find . -name '*.etl' -not -path './invalid/*' | sed 's|^\./||' | sort)

[ "$total" -gt 400000 ] || fail "only $total events in the corpus"
[ $((decoded * 100)) -ge $((total * 98)) ] || fail "overall only $decoded of $total events decoded"
[ $((plain_decoded * 100)) -lt $((decoded * 90)) ] || fail "the built-in schemas made no difference ($plain_decoded)"
echo "decode coverage: $decoded of $total events ($(awk -v d=$decoded -v t=$total 'BEGIN{printf "%.2f", 100*d/t}')%);" \
     "without the built-in schemas $plain_decoded; every file at or above 99% with the exceptions listed"
