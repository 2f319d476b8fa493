#!/usr/bin/env bash
# `cmake --install` gives libetwire-relay, include/etwire/relay.h and etwire-relay.pc; a program
# embedding a collector and a sender (examples/relay_embed.c) builds against them with
# pkg-config and carries a trace through; libetwire itself needs no OpenSSL nor librdkafka.
set -uo pipefail
. "$(dirname "$0")/common.bash"
build=$(dirname "$ETWIRE")
src=$(cd "$(dirname "$0")/../.." && pwd)

cmake --install "$build" --prefix "$WORK/prefix" > /dev/null || fail "cmake --install"
[ -e "$WORK/prefix/include/etwire/relay.h" ] || fail "not installed: include/etwire/relay.h"
pc=$(find "$WORK/prefix" -name etwire-relay.pc | head -1)
[ -n "$pc" ] || fail "no etwire-relay.pc"
export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --cflags --libs etwire-relay) || fail "pkg-config etwire-relay"
lib=$(find "$WORK/prefix" -name 'libetwire.so' | head -1)
relay=$(find "$WORK/prefix" -name 'libetwire-relay.so' | head -1)
[ -n "$relay" ] || fail "no libetwire-relay.so"
deps=$(ldd "$lib") || fail "ldd $lib"
case "$deps" in *libssl*|*libcrypto*|*rdkafka*) fail "libetwire links OpenSSL or librdkafka: $deps" ;; esac
san=""
case "$deps" in *libasan*) san="-fsanitize=address,undefined" ;; esac
case "$deps" in *libtsan*) san="-fsanitize=thread" ;; esac
${ETWIRE_TEST_CC:-cc} ${ETWIRE_TEST_CFLAGS:-} -std=c11 -Wall -Wextra -Werror $san -o "$WORK/relay_embed" "$src/examples/relay_embed.c" $flags -lpthread \
    -Wl,-rpath,"$WORK/prefix/lib" || fail "examples/relay_embed.c does not build"
"$ETWIRE" generate --seed 5 --events 1000 -o "$WORK/t.etl" 2>/dev/null || fail "generate"
"$WORK/relay_embed" "$WORK/t.etl" > "$WORK/out" 2>"$WORK/err" || fail "relay_embed run: $(cat "$WORK/out" "$WORK/err")"
grep -q "closed: 1003 events" "$WORK/out" || fail "relay_embed output: $(cat "$WORK/out")"
echo "install + embedded collector and sender: passed"
