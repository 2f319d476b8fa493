#!/usr/bin/env bash
# `cmake --install` gives headers, libraries, a pkg-config file and the CLI; a consumer written
# the Windows way (examples/consumer.c) builds against them with pkg-config and reads a trace.
set -uo pipefail
etwire=$1
build=$(dirname "$etwire")
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" > /dev/null || fail "cmake --install"
for f in include/etwire/etwire.h include/etwire/evntrace.h include/etwire/evntcons.h \
         include/etwire/tdh.h bin/etwire; do
    [ -e "$tmp/prefix/$f" ] || fail "not installed: $f"
done
pc=$(find "$tmp/prefix" -name etwire.pc | head -1)
[ -n "$pc" ] || fail "no etwire.pc"
export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --cflags --libs etwire) || fail "pkg-config"
# A sanitizer build installs an instrumented library: build the consumer the same way.
san=""
lib=$(find "$tmp/prefix" -name 'libetwire.so' | head -1)
# (ldd's output is kept first: with pipefail, `ldd | grep -q` fails whenever grep's early exit
# makes ldd die of SIGPIPE.)
deps=$(ldd "$lib") || fail "ldd $lib"
case "$deps" in *libasan*) san="-fsanitize=address,undefined" ;; esac
case "$deps" in *libtsan*) san="-fsanitize=thread" ;; esac
${ETWIRE_TEST_CC:-cc} ${ETWIRE_TEST_CFLAGS:-} -std=c11 -Wall -Wextra -Werror $san -o "$tmp/consumer" "$src/examples/consumer.c" $flags \
    -Wl,-rpath,"$tmp/prefix/lib" || fail "consumer does not build"
"$etwire" generate --seed 5 --events 1000 -o "$tmp/t.etl" 2>/dev/null || fail "generate"
"$tmp/consumer" "$tmp/t.etl" > "$tmp/out" || fail "consumer run: $(cat "$tmp/out")"
grep -q "^1003 events in" "$tmp/out" || fail "consumer output: $(cat "$tmp/out")"
echo "install + Windows-style consumer: passed"
