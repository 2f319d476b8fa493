#!/usr/bin/env bash
# etwire export pcapng: tshark opens every output; on the corpus pktmon capture it finds one
# packet per packet event, each with exactly the bytes and original length the event carries,
# the event's time, and the process/thread comment; a trace with no packets gives an empty,
# valid capture.
set -uo pipefail
. "$(dirname "$0")/common.bash"
need_cmd tshark
need_corpus pktmon/demikernel-PktMon-compressed.etl
trace=$SHARED/corpus/pktmon/demikernel-PktMon-compressed.etl
tshark() { command tshark "$@" 2>/dev/null; }

"$ETWIRE" export pcapng "$trace" -o "$WORK/p.pcapng" 2> "$WORK/err" || fail "export: $(cat "$WORK/err")"
grep -q "packets" "$WORK/err" || fail "no summary on stderr"

# The events, independently: the capture embeds the PktMon schema, so dump decodes them with
# TDH (Payload, OriginalPayloadSize) rather than the exporter's fixed layout.
"$ETWIRE" dump -f json "$trace" |
    jq -c 'select(.provider_guid == "4d4f80d9-c8bd-4d73-bb5b-19c90402c5ac" and (.id == 160 or .id == 170))' \
    > "$WORK/events"
n=$(wc -l < "$WORK/events")
[ "$n" -gt 100 ] || fail "expected the corpus capture's packet events, got $n"
jq -e -s 'all(.[]; .decoded and (.fields.Payload | startswith("0x")))' "$WORK/events" > /dev/null ||
    fail "the capture's packet events no longer decode"
jq -r '.fields.Payload | ltrimstr("0x")' "$WORK/events" > "$WORK/want_bytes"
jq -r '.fields.OriginalPayloadSize' "$WORK/events" > "$WORK/want_len"

tshark -r "$WORK/p.pcapng" -T json -x > "$WORK/p.json" || fail "tshark cannot read the output"
got=$(jq length "$WORK/p.json")
[ "$got" -eq "$n" ] || fail "$got packets for $n packet events"
jq -r '.[]._source.layers.frame_raw[0]' "$WORK/p.json" > "$WORK/got_bytes"
cmp -s "$WORK/want_bytes" "$WORK/got_bytes" || fail "packet bytes differ from the events' bytes"
tshark -r "$WORK/p.pcapng" -T fields -e frame.len > "$WORK/got_len"
cmp -s "$WORK/want_len" "$WORK/got_len" || fail "original lengths differ"
# Times: the events' times, to the microsecond (tshark prints epoch seconds).
first=$(head -1 "$WORK/events" | jq -r .time)
want_epoch=$(date -u -d "${first%.*}Z" +%s)
got_epoch=$(tshark -r "$WORK/p.pcapng" -c 1 -T fields -e frame.time_epoch)
[ "${got_epoch%.*}" = "$want_epoch" ] || fail "first packet time $got_epoch, event at $first"
frac=${first#*.}; frac=${frac%Z}
[ "${got_epoch#*.}" = "${frac}00" ] || fail "first packet fraction $got_epoch vs $first"
tshark -r "$WORK/p.pcapng" -T fields -e frame.comment > "$WORK/comments"
[ "$(grep -c '^pid [0-9]* .*tid [0-9]*; pktmon group' "$WORK/comments")" -eq "$n" ] ||
    fail "a packet without its process/thread comment"
# Directions from the pktmon direction tag: a ping and its reply, so both.
tshark -r "$WORK/p.pcapng" -T fields -e frame.interface_id -e frame.packet_flags_direction > "$WORK/dirs"
grep -q '0x0*1$' "$WORK/dirs" && grep -q '0x0*2$' "$WORK/dirs" || fail "directions: $(sort -u "$WORK/dirs" | head -3)"
# Interface names: pktmon names its components (event 20) when the capture stops, after every
# packet; each packet's interface carries the name of the component its comment names, as the
# component events say it (the description where pktmon's name is the placeholder "NULL").
"$ETWIRE" dump -f json "$trace" |
    jq -r 'select(.provider_guid == "4d4f80d9-c8bd-4d73-bb5b-19c90402c5ac" and .id == 20) |
           "\(.fields.Id)\t\(if .fields.Name == "NULL" then .fields.Description else .fields.Name end)"' |
    LC_ALL=C sort -u -k1,1 > "$WORK/components"
[ "$(wc -l < "$WORK/components")" -gt 3 ] || fail "the capture's component events no longer decode"
last_packet=$(tail -1 "$WORK/events" | jq -r .time)
first_component=$("$ETWIRE" dump -f json "$trace" | jq -r 'select(.id == 20) | .time' | head -1)
[[ "$first_component" > "$last_packet" ]] || fail "the corpus capture names components before its packets now"
names_match() { # $1: pcapng
    tshark -r "$1" -T fields -E separator=/t -e frame.comment -e frame.interface_name |
        sed -E 's/.* component ([0-9]+) .*\t/\1\t/' | LC_ALL=C sort -u -k1,1 > "$WORK/got_names"
    [ "$(wc -l < "$WORK/got_names")" -ge 2 ] || fail "interfaces: $(cat "$WORK/got_names")"
    LC_ALL=C join -t "$(printf '\t')" "$WORK/got_names" "$WORK/components" | awk -F '\t' '$2 != $3 {bad = 1} END {exit bad}' ||
        fail "interface names differ from the component events: $(cat "$WORK/got_names")"
    [ "$(LC_ALL=C join -t "$(printf '\t')" "$WORK/got_names" "$WORK/components" | wc -l)" -eq "$(wc -l < "$WORK/got_names")" ] ||
        fail "an interface without its component's name: $(cat "$WORK/got_names")"
}
names_match "$WORK/p.pcapng"
# ... also when the filters and the time window leave the component events out.
"$ETWIRE" export pcapng "$trace" --event 160 --end "$last_packet" -o "$WORK/f.pcapng" 2> "$WORK/err" ||
    fail "filtered export: $(cat "$WORK/err")"
[ "$(tshark -r "$WORK/f.pcapng" | wc -l)" -eq "$(jq -s 'map(select(.id == 160)) | length' "$WORK/events")" ] ||
    fail "filtered export: packet count"
names_match "$WORK/f.pcapng"

# Interfaces: Ethernet link type for pktmon packet type 1.
capinfos "$WORK/p.pcapng" 2>/dev/null | grep -q "Encapsulation = Ethernet" || fail "interface link type"

# No packet events: a valid capture with no packets.
"$ETWIRE" generate --seed 1 --events 200 -o "$WORK/g.etl" 2> /dev/null || fail "generate"
"$ETWIRE" export pcapng "$WORK/g.etl" -o "$WORK/empty.pcapng" 2> /dev/null || fail "export of a trace without packets"
[ "$(tshark -r "$WORK/empty.pcapng" | wc -l)" -eq 0 ] || fail "packets from nowhere"
command tshark -r "$WORK/empty.pcapng" > /dev/null 2>&1 || fail "empty capture unreadable"
"$ETWIRE" export pcapng "$trace" 2> /dev/null && fail "export without -o accepted"
"$ETWIRE" export nosuchformat "$trace" -o "$WORK/x" 2> /dev/null && fail "unknown format accepted"
echo "export pcapng: $n packets checked"
