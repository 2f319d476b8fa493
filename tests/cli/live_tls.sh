#!/bin/bash
# Remote live subscribers: `collect --live-remote` serves them over TLS with the collector's
# certificate and CA, and `--live-allow` says which subscriber (its certificate name) may see
# which source. A subscriber allowed the source gets the session's events (`dump --live` with
# ETWIRE_LIVE=tls:HOST:PORT and its certificate in ETWIRE_LIVE_TLS_*); one not allowed that
# source is refused with ERROR_ACCESS_DENIED and does not see it listed; a certificate from
# another CA is refused at the handshake. Listings go through while another subscriber streams
# and while a peer that never handshakes holds a connection; every command has a deadline
# (timeout), and each exits cleanly (LeakSanitizer finds nothing left by its TLS bridges).
# Usage: live_tls.sh ETWIRE SHARED_DIR (exit 77 without the openssl CLI or python3)
# ETWIRE_TEST_THREADS: TLS bridges and subscribers run on their own threads.
. "$(dirname "$0")/relay_lib.bash"
. "$(dirname "$0")/live_lib.bash"
need_cmd openssl
need_cmd python3 "to pick a free port"

C="$WORK/certs"
mkdir -p "$C"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() {
    key "$C/$1.key"
    openssl req -x509 -new -key "$C/$1.key" -out "$C/$1.pem" -days 1 -subj "/CN=$1" 2>/dev/null
}
leaf() { # leaf CA NAME SAN
    key "$C/$2.key"
    openssl req -new -key "$C/$2.key" -out "$C/$2.csr" -subj "/CN=$2" 2>/dev/null
    printf 'subjectAltName=%s\n' "$3" >"$C/$2.ext"
    openssl x509 -req -in "$C/$2.csr" -CA "$C/$1.pem" -CAkey "$C/$1.key" -CAcreateserial \
        -out "$C/$2.pem" -days 1 -extfile "$C/$2.ext" 2>/dev/null
}
ca ca
ca rogue
leaf ca collector "IP:127.0.0.1,DNS:localhost"
leaf ca edge-1 "DNS:edge-1"
leaf ca mon-a "DNS:mon-a"
leaf ca mon-b "DNS:mon-b"
leaf rogue mon-rogue "DNS:mon-a"
[ -s "$C/mon-rogue.pem" ] || fail "could not make test certificates"
LPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

make_trace t --seed 43 --events 30000 --processors 2
"$ETWIRE" dump "$WORK/t.etl" >"$WORK/full.txt"
mkdir -p "$WORK/out"
# The collector says it listens with a line on --ready-fd (relay_lib.bash's wait_ready).
ready_fifo tls
"$ETWIRE" collect --listen 127.0.0.1:0 --tls-cert "$C/collector.pem" --tls-key "$C/collector.key" \
    --tls-ca "$C/ca.pem" --allow edge-1 --ready-fd 3 --out "$WORK/out" --live "unix:$WORK/live.sock" \
    --live-remote "127.0.0.1:$LPORT" --live-allow mon-a=edge-1 --live-allow mon-b=other \
    3>"$WORK/tls.ready" 2>"$WORK/collector.log" &
COLLECTOR_PID=$!
PIDS+=("$COLLECTOR_PID")
wait_ready tls 60
[ -n "$PORT" ] || fail "collector did not start"

as() { # as CERT COMMAND...: a remote subscriber with that certificate
    local cert=$1; shift
    ETWIRE_LIVE=tls:127.0.0.1:$LPORT ETWIRE_LIVE_TLS_CERT=$C/$cert.pem ETWIRE_LIVE_TLS_KEY=$C/$cert.key \
        ETWIRE_LIVE_TLS_CA=$C/ca.pem timeout 60 "$ETWIRE" "$@"
}

span=$("$ETWIRE" stats "$WORK/t.etl" | sed -n 's/^time span:.*(\([0-9.]*\) s)$/\1/p')
RATE=$(awk -v s="${span:-1}" 'BEGIN { printf "%.6f", s / 8 }') # about 8 s (slow under TSan)
timeout 60 "$ETWIRE" send --to "127.0.0.1:$PORT" --tls-cert "$C/edge-1.pem" --tls-key "$C/edge-1.key" \
    --tls-ca "$C/ca.pem" --source edge-1 --session live --rate="$RATE" "$WORK/t.etl" 2>"$WORK/send.log" &
SENDER=$!
PIDS+=($SENDER)
# Looked at again whenever the collector writes the session (it publishes each buffer first).
listed_remotely() { as mon-a sessions 2>/dev/null | grep -q '^edge-1/live '; }
until_changed 60 "$WORK/out" listed_remotely || fail "edge-1/live never listed for mon-a"
as mon-a dump --live edge-1/live >"$WORK/a.txt" 2>"$WORK/a.log" &
A=$!
PIDS+=($A)
# A peer that connects and never starts its handshake: listings must not wait behind it.
exec 3<>"/dev/tcp/127.0.0.1/$LPORT" || fail "cannot connect to the live TLS listener"
as mon-a sessions >"$WORK/a.sessions" 2>"$WORK/a.err" || fail "mon-a sessions: $(cat "$WORK/a.err")"
grep -q '^edge-1/live ' "$WORK/a.sessions" || fail "mon-a does not see edge-1/live"
as mon-b sessions >"$WORK/b.sessions" 2>&1 || fail "mon-b sessions"
grep -q 'edge-1/live' "$WORK/b.sessions" && fail "mon-b sees a source it is not allowed"
exec 3<&-

as mon-b dump --live edge-1/live >/dev/null 2>"$WORK/b.log" && fail "mon-b attached to edge-1"
grep -q ERROR_ACCESS_DENIED "$WORK/b.log" || fail "mon-b refusal: $(cat "$WORK/b.log")"
as mon-rogue dump --live edge-1/live >/dev/null 2>"$WORK/rogue.log" && fail "a rogue certificate attached"
echo "rogue: $(cat "$WORK/rogue.log")"

wait "$SENDER" || fail "sender failed: $(cat "$WORK/send.log")"
wait "$A" || fail "mon-a dump --live exited $?: $(cat "$WORK/a.log")"
[ -s "$WORK/a.txt" ] || fail "mon-a got no events"
[ "$(tail -1 "$WORK/a.txt")" = "$(tail -1 "$WORK/full.txt")" ] || fail "mon-a does not end with the last event"
[ -z "$(comm -23 <(sort "$WORK/a.txt") <(sort "$WORK/full.txt") | head -1)" ] || fail "mon-a: events not in the trace"
echo "ok mon-a over TLS: $(wc -l <"$WORK/a.txt") of $(wc -l <"$WORK/full.txt") events"
stop_collector
