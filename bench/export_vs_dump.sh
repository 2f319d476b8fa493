#!/usr/bin/env bash
# etwire export (timeline, pcapng) against etwire dump -f json over the same trace, side by side
# in one run: 5 alternating rounds, output to /dev/null, median wall time of each and the ratio
# to dump. Usage: bench/export_vs_dump.sh ETWIRE TRACE...
set -euo pipefail
etwire=$1
shift
now() { date +%s.%N; }
declare -A times
for round in 1 2 3 4 5; do
    for what in dump timeline pcapng; do
        t0=$(now)
        case $what in
        dump) "$etwire" dump -f json "$@" > /dev/null ;;
        *) "$etwire" export "$what" "$@" -o /dev/null 2> /dev/null ;;
        esac
        times[$what]+="$(awk -v a="$(now)" -v b="$t0" 'BEGIN {print a - b}') "
    done
done
median() { tr ' ' '\n' | grep . | sort -g | sed -n 3p; }
d=$(echo "${times[dump]}" | median)
for what in dump timeline pcapng; do
    m=$(echo "${times[$what]}" | median)
    printf "%-9s median %.3f s  (%.2fx dump -f json's time)\n" "$what" "$m" "$(awk -v a="$m" -v b="$d" 'BEGIN {print a / b}')"
done
