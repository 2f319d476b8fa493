#!/bin/bash
# TLS 1.3 with mutual authentication on loopback, with throwaway certificates made here by the
# openssl CLI: the certificate names the source and the collector accepts only its allow-list.
# Checks a good session, then refusals: a source name that differs from the certificate, a
# certificate not on the allow-list, one from another CA, none at all, a collector whose
# certificate does not carry the expected name, and plain TCP against TLS.
# Usage: relay_tls.sh ETWIRE SHARED_DIR (exit 77 without OpenSSL support or the openssl CLI)
. "$(dirname "$0")/relay_lib.bash"
need_cmd openssl
need_cmd inotifywait "Debian inotify-tools"
if "$ETWIRE" collect --listen 127.0.0.1:0 --tls-cert x --tls-key x --tls-ca x --allow a 2>&1 |
    grep -q "without OpenSSL"; then
    skip "etwire built without OpenSSL"
fi

C="$WORK/certs"
mkdir -p "$C"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { # ca NAME
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
leaf ca host-a "DNS:host-a"
leaf ca host-b "DNS:host-b"
leaf rogue host-a-rogue "DNS:host-a"
[ -s "$C/host-a-rogue.pem" ] || fail "could not make test certificates"

make_trace t --seed 41 --events 8000 --processors 2
LISTEN=127.0.0.1:0
ready_fifo tls
"$ETWIRE" collect --listen "$LISTEN" --tls-cert "$C/collector.pem" --tls-key "$C/collector.key" \
    --tls-ca "$C/ca.pem" --allow host-a --out "$WORK/out" --port-file "$WORK/tls.port" --zstd \
    --ready-fd 3 3>"$WORK/tls.ready" 2>"$WORK/tls.log" &
COLLECTOR_PID=$!
PIDS+=("$COLLECTOR_PID")
wait_ready tls
[ "$(cat "$WORK/tls.port")" = "$PORT" ] || fail "the port file and the ready line disagree"

send() { # send CERT [args...]
    local cert=$1; shift
    timeout 30 "$ETWIRE" send --to "127.0.0.1:$PORT" --tls-cert "$C/$cert.pem" --tls-key "$C/$cert.key" \
        --tls-ca "$C/ca.pem" --retry 2 "$@" "$WORK/t.etl"
}
send host-a --source host-a --zstd -v 2>"$WORK/good.log" || fail "the good TLS session failed"
cmp -s "$WORK/t.etl" "$(ls "$WORK"/out/host-a/t-*.etl)" || fail "saved .etl differs"
grep -q "on the wire" "$WORK/good.log" || fail "no sender summary"

send host-a --source host-b 2>"$WORK/r1.log" && fail "a source name unlike the certificate was accepted"
grep -q "does not match certificate" "$WORK/tls.log" || fail "no log line for the name mismatch"
send host-b --source host-b 2>"$WORK/r2.log" && fail "a source off the allow-list was accepted"
grep -q "not on the allow-list" "$WORK/tls.log" || fail "no log line for the allow-list"
send host-a-rogue --source host-a 2>"$WORK/r3.log" && fail "a certificate from another CA was accepted"
timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 -CAfile "$C/ca.pem" </dev/null \
    >"$WORK/nocert.log" 2>&1
send host-a --source host-a --tls-server-name collector.example 2>"$WORK/r4.log" &&
    fail "the sender accepted a collector certificate without the expected name"
timeout 30 "$ETWIRE" send --to "127.0.0.1:$PORT" --plain --source host-a --retry 2 "$WORK/t.etl" \
    2>"$WORK/r5.log" && fail "plain TCP was accepted by a TLS collector"
# The collector logs a refusal after the refused peer may have exited: wait for its log lines.
refusals_logged() {
    [ "$(grep -c 'refused:' "$WORK/tls.log")" -ge 3 ] &&
        grep -q "unable to get local issuer certificate" "$WORK/tls.log" &&
        grep -q "peer did not return a certificate" "$WORK/tls.log"
}
until_changed 60 "$WORK" refusals_logged
[ "$(grep -c 'refused:' "$WORK/tls.log")" -ge 3 ] || fail "expected handshake refusals in the log"
# Certificate failures say why, on both sides, and a refused sender says so before exiting 1.
grep -q "certificate verify failed: unable to get local issuer certificate" "$WORK/tls.log" ||
    fail "the collector did not say why the rogue certificate failed"
grep -q "peer did not return a certificate" "$WORK/tls.log" || fail "the collector did not say the client sent no certificate"
grep -q "alert unknown ca" "$WORK/r3.log" || fail "the rogue sender did not say why: $(cat "$WORK/r3.log")"
grep -q "certificate verify failed: hostname mismatch" "$WORK/r4.log" ||
    fail "the sender did not say why the collector's certificate failed: $(cat "$WORK/r4.log")"
[ "$(ls "$WORK/out")" = "host-a" ] || fail "a refused source left output"

stop_collector

# A TLS sender refused for want of a slot (one connection, held by a silent stranger) neither
# dies of SIGPIPE (exit 141) nor exits silently: it retries for --retry, then says why.
ready_fifo tls2
"$ETWIRE" collect --listen "$LISTEN" --tls-cert "$C/collector.pem" --tls-key "$C/collector.key" \
    --tls-ca "$C/ca.pem" --allow host-a --out "$WORK/out2" --ready-fd 3 \
    --max-connections 1 --handshake-deadline 30 3>"$WORK/tls2.ready" 2>"$WORK/tls2.log" &
COLLECTOR_PID=$!
PIDS+=("$COLLECTOR_PID")
wait_ready tls2
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
send host-a --source host-a 2>"$WORK/r6.log"
rc=$?
exec 5>&-
[ "$rc" = 1 ] || fail "the refused TLS sender exited with $rc (141 = SIGPIPE): $(cat "$WORK/r6.log")"
grep -q "TLS handshake\|closed the connection" "$WORK/r6.log" || fail "the refused TLS sender did not say why"
grep -q "refused: 1 connections already" "$WORK/tls2.log" || fail "the collector did not log the refusal"
stop_collector
echo "relay TLS: ok ($(grep -o '[0-9]* bytes ([0-9]* on the wire)' "$WORK/good.log"))"
