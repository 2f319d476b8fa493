#!/usr/bin/env bash
# `cmake --install` gives headers, libraries, a pkg-config file and the CLI; a consumer written
# the Windows way (examples/consumer.c) builds against them with pkg-config and reads a trace.
set -uo pipefail
. "$(dirname "$0")/common.bash"
build=$(dirname "$ETWIRE")
src=$(cd "$(dirname "$0")/../.." && pwd)

cmake --install "$build" --prefix "$WORK/prefix" > /dev/null || fail "cmake --install"
for f in include/etwire/etwire.h include/etwire/evntrace.h include/etwire/evntcons.h \
         include/etwire/tdh.h bin/etwire; do
    [ -e "$WORK/prefix/$f" ] || fail "not installed: $f"
done
pc=$(find "$WORK/prefix" -name etwire.pc | head -1)
[ -n "$pc" ] || fail "no etwire.pc"
export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --cflags --libs etwire) || fail "pkg-config"
# A sanitizer build installs an instrumented library: build the consumer the same way.
san=""
lib=$(find "$WORK/prefix" -name 'libetwire.so' | head -1)
# (ldd's output is kept first: with pipefail, `ldd | grep -q` fails whenever grep's early exit
# makes ldd die of SIGPIPE.)
deps=$(ldd "$lib") || fail "ldd $lib"
case "$deps" in *libasan*) san="-fsanitize=address,undefined" ;; esac
case "$deps" in *libtsan*) san="-fsanitize=thread" ;; esac
${ETWIRE_TEST_CC:-cc} ${ETWIRE_TEST_CFLAGS:-} -std=c11 -Wall -Wextra -Werror $san -o "$WORK/consumer" "$src/examples/consumer.c" $flags \
    -Wl,-rpath,"$WORK/prefix/lib" || fail "consumer does not build"
"$ETWIRE" generate --seed 5 --events 1000 -o "$WORK/t.etl" 2>/dev/null || fail "generate"
"$WORK/consumer" "$WORK/t.etl" > "$WORK/out" || fail "consumer run: $(cat "$WORK/out")"
grep -q "^1003 events in" "$WORK/out" || fail "consumer output: $(cat "$WORK/out")"
echo "install + Windows-style consumer: passed"
