#!/usr/bin/env bash
# etwire export pcapng: tshark opens every output; on the corpus pktmon capture it finds one
# packet per packet event, each with exactly the bytes and original length the event carries,
# the event's time, and the process/thread comment; a trace with no packets gives an empty,
# valid capture.
set -uo pipefail
etwire=$1
shared=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v tshark > /dev/null || { echo "SKIP: tshark not installed"; exit 77; }
trace=$shared/corpus/pktmon/demikernel-PktMon-compressed.etl
[ -f "$trace" ] || { echo "SKIP: $trace absent"; exit 77; }
tshark() { command tshark "$@" 2>/dev/null; }

"$etwire" export pcapng "$trace" -o "$tmp/p.pcapng" 2> "$tmp/err" || fail "export: $(cat "$tmp/err")"
grep -q "packets" "$tmp/err" || fail "no summary on stderr"

# The events, independently: the capture embeds the PktMon schema, so dump decodes them with
# TDH (Payload, OriginalPayloadSize) rather than the exporter's fixed layout.
"$etwire" dump -f json "$trace" |
    jq -c 'select(.provider_guid == "4d4f80d9-c8bd-4d73-bb5b-19c90402c5ac" and (.id == 160 or .id == 170))' \
    > "$tmp/events"
n=$(wc -l < "$tmp/events")
[ "$n" -gt 100 ] || fail "expected the corpus capture's packet events, got $n"
jq -e -s 'all(.[]; .decoded and (.fields.Payload | startswith("0x")))' "$tmp/events" > /dev/null ||
    fail "the capture's packet events no longer decode"
jq -r '.fields.Payload | ltrimstr("0x")' "$tmp/events" > "$tmp/want_bytes"
jq -r '.fields.OriginalPayloadSize' "$tmp/events" > "$tmp/want_len"

tshark -r "$tmp/p.pcapng" -T json -x > "$tmp/p.json" || fail "tshark cannot read the output"
got=$(jq length "$tmp/p.json")
[ "$got" -eq "$n" ] || fail "$got packets for $n packet events"
jq -r '.[]._source.layers.frame_raw[0]' "$tmp/p.json" > "$tmp/got_bytes"
cmp -s "$tmp/want_bytes" "$tmp/got_bytes" || fail "packet bytes differ from the events' bytes"
tshark -r "$tmp/p.pcapng" -T fields -e frame.len > "$tmp/got_len"
cmp -s "$tmp/want_len" "$tmp/got_len" || fail "original lengths differ"
# Times: the events' times, to the microsecond (tshark prints epoch seconds).
first=$(head -1 "$tmp/events" | jq -r .time)
want_epoch=$(date -u -d "${first%.*}Z" +%s)
got_epoch=$(tshark -r "$tmp/p.pcapng" -c 1 -T fields -e frame.time_epoch)
[ "${got_epoch%.*}" = "$want_epoch" ] || fail "first packet time $got_epoch, event at $first"
frac=${first#*.}; frac=${frac%Z}
[ "${got_epoch#*.}" = "${frac}00" ] || fail "first packet fraction $got_epoch vs $first"
tshark -r "$tmp/p.pcapng" -T fields -e frame.comment > "$tmp/comments"
[ "$(grep -c '^pid [0-9]* .*tid [0-9]*; pktmon group' "$tmp/comments")" -eq "$n" ] ||
    fail "a packet without its process/thread comment"
# Directions from the pktmon direction tag: a ping and its reply, so both.
tshark -r "$tmp/p.pcapng" -T fields -e frame.interface_id -e frame.packet_flags_direction > "$tmp/dirs"
grep -q '0x0*1$' "$tmp/dirs" && grep -q '0x0*2$' "$tmp/dirs" || fail "directions: $(sort -u "$tmp/dirs" | head -3)"
# Interface names: pktmon names its components (event 20) when the capture stops, after every
# packet; each packet's interface carries the name of the component its comment names, as the
# component events say it (the description where pktmon's name is the placeholder "NULL").
"$etwire" dump -f json "$trace" |
    jq -r 'select(.provider_guid == "4d4f80d9-c8bd-4d73-bb5b-19c90402c5ac" and .id == 20) |
           "\(.fields.Id)\t\(if .fields.Name == "NULL" then .fields.Description else .fields.Name end)"' |
    LC_ALL=C sort -u -k1,1 > "$tmp/components"
[ "$(wc -l < "$tmp/components")" -gt 3 ] || fail "the capture's component events no longer decode"
last_packet=$(tail -1 "$tmp/events" | jq -r .time)
first_component=$("$etwire" dump -f json "$trace" | jq -r 'select(.id == 20) | .time' | head -1)
[[ "$first_component" > "$last_packet" ]] || fail "the corpus capture names components before its packets now"
names_match() { # $1: pcapng
    tshark -r "$1" -T fields -E separator=/t -e frame.comment -e frame.interface_name |
        sed -E 's/.* component ([0-9]+) .*\t/\1\t/' | LC_ALL=C sort -u -k1,1 > "$tmp/got_names"
    [ "$(wc -l < "$tmp/got_names")" -ge 2 ] || fail "interfaces: $(cat "$tmp/got_names")"
    LC_ALL=C join -t "$(printf '\t')" "$tmp/got_names" "$tmp/components" | awk -F '\t' '$2 != $3 {bad = 1} END {exit bad}' ||
        fail "interface names differ from the component events: $(cat "$tmp/got_names")"
    [ "$(LC_ALL=C join -t "$(printf '\t')" "$tmp/got_names" "$tmp/components" | wc -l)" -eq "$(wc -l < "$tmp/got_names")" ] ||
        fail "an interface without its component's name: $(cat "$tmp/got_names")"
}
names_match "$tmp/p.pcapng"
# ... also when the filters and the time window leave the component events out.
"$etwire" export pcapng "$trace" --event 160 --end "$last_packet" -o "$tmp/f.pcapng" 2> "$tmp/err" ||
    fail "filtered export: $(cat "$tmp/err")"
[ "$(tshark -r "$tmp/f.pcapng" | wc -l)" -eq "$(jq -s 'map(select(.id == 160)) | length' "$tmp/events")" ] ||
    fail "filtered export: packet count"
names_match "$tmp/f.pcapng"

# Interfaces: Ethernet link type for pktmon packet type 1.
capinfos "$tmp/p.pcapng" 2>/dev/null | grep -q "Encapsulation = Ethernet" || fail "interface link type"

# No packet events: a valid capture with no packets.
"$etwire" generate --seed 1 --events 200 -o "$tmp/g.etl" 2> /dev/null || fail "generate"
"$etwire" export pcapng "$tmp/g.etl" -o "$tmp/empty.pcapng" 2> /dev/null || fail "export of a trace without packets"
[ "$(tshark -r "$tmp/empty.pcapng" | wc -l)" -eq 0 ] || fail "packets from nowhere"
command tshark -r "$tmp/empty.pcapng" > /dev/null 2>&1 || fail "empty capture unreadable"
"$etwire" export pcapng "$trace" 2> /dev/null && fail "export without -o accepted"
"$etwire" export nosuchformat "$trace" -o "$tmp/x" 2> /dev/null && fail "unknown format accepted"
echo "export pcapng: $n packets checked"
