#!/usr/bin/env bash
# The CLI is two programs (programs/CMakeLists.txt): etwire needs no OpenSSL, librdkafka or
# zstd; etwire-relay, which etwire runs for send, collect and live sessions over TLS, links
# the system's shared ones (their security updates apply). Checked in the build tree and in
# an installed tree (etwire-relay in libexec/etwire), with the relay program missing too.
set -uo pipefail
. "$(dirname "$0")/common.bash"
need_cmd readelf
build=$(dirname "$ETWIRE")
relay=$build/etwire-relay
[ -x "$relay" ] || fail "no etwire-relay next to $ETWIRE"

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
lean=$(needed "$ETWIRE") || fail "readelf $ETWIRE"
case "$lean" in *libssl*|*libcrypto*|*rdkafka*|*zstd*) fail "etwire needs: $(echo $lean)" ;; esac
full=$(needed "$relay") || fail "readelf $relay"
for lib in libssl libcrypto librdkafka libzstd; do
    case "$full" in *"$lib".so*) ;; *) fail "etwire-relay does not link the shared $lib: $(echo $full)" ;; esac
done

# Every relay command answers through etwire exactly as etwire-relay does (argv unchanged).
for cmd in send collect; do
    "$relay" "$cmd" --help > "$WORK/want" || fail "etwire-relay $cmd --help"
    "$ETWIRE" "$cmd" --help > "$WORK/got" || fail "etwire $cmd --help"
    cmp -s "$WORK/want" "$WORK/got" || fail "etwire $cmd --help differs from etwire-relay's"
done
"$ETWIRE" send > /dev/null 2>&1
[ $? -eq 2 ] || fail "etwire send without arguments: exit code not etwire-relay's usage error (2)"

# A live session over TLS goes to etwire-relay, whose TLS set-up reads the files named.
out=$(ETWIRE_LIVE=tls:127.0.0.1:1 ETWIRE_LIVE_TLS_CERT=$WORK/none.pem ETWIRE_LIVE_TLS_KEY=$WORK/none.pem \
      ETWIRE_LIVE_TLS_CA=$WORK/none.pem "$ETWIRE" sessions 2>&1)
[ $? -ne 0 ] || fail "sessions with missing TLS files succeeded"
case "$out" in *"live TLS (ETWIRE_LIVE_TLS_*)"*) ;; *) fail "sessions over TLS not run by etwire-relay: $out" ;; esac

# Installed: bin/etwire finds libexec/etwire/etwire-relay, also after the tree is moved.
cmake --install "$build" --prefix "$WORK/prefix" > /dev/null || fail "cmake --install"
mv "$WORK/prefix" "$WORK/moved"
[ -x "$(find "$WORK/moved" -path '*/libexec/etwire/etwire-relay' | head -1)" ] || fail "etwire-relay not installed in libexec/etwire"
"$WORK/moved/bin/etwire" collect --help > "$WORK/got" || fail "installed etwire collect --help"
"$relay" collect --help > "$WORK/want"
cmp -s "$WORK/want" "$WORK/got" || fail "installed etwire collect --help differs"

# Without etwire-relay: a clear error naming it, exit 127 (unless one is installed system-wide).
mkdir -p "$WORK/alone"
cp "$ETWIRE" "$WORK/alone/etwire"
out=$("$WORK/alone/etwire" collect --help 2>&1)
rc=$?
if [ $rc -ne 0 ] || ! ls /usr/libexec/etwire/etwire-relay /usr/local/libexec/etwire/etwire-relay > /dev/null 2>&1; then
    [ $rc -eq 127 ] || fail "etwire without etwire-relay: exit $rc, want 127 ($out)"
    case "$out" in *"etwire-relay, which is not installed"*) ;; *) fail "missing etwire-relay: $out" ;; esac
fi
"$WORK/alone/etwire" generate --seed 3 --events 100 -o "$WORK/t.etl" 2> /dev/null || fail "etwire alone: generate"
"$WORK/alone/etwire" stats "$WORK/t.etl" > /dev/null || fail "etwire alone: stats"
echo "cli split: etwire without TLS/Kafka/zstd, etwire-relay with the shared ones, handoff, install: passed"
