#!/usr/bin/env bash
# What `cmake --install` gives besides headers and pkg-config: a CMake package a consumer finds
# with find_package(etwire) (shared and static targets), man pages for etwire and each command
# that render without warnings, the Python package importable from the installed tree without
# being told where the library is, and `etwire --version` saying the project's version.
set -uo pipefail
. "$(dirname "$0")/common.bash"
build=$(dirname "$ETWIRE")
src=$(cd "$(dirname "$0")/../.." && pwd)

cmake --install "$build" --prefix "$WORK/prefix" > /dev/null || fail "cmake --install"
p=$WORK/prefix
"$ETWIRE" generate --seed 5 --events 1000 -o "$WORK/t.etl" 2> /dev/null || fail "generate"

# --version: the version the CMake package declares.
cfgver=$(find "$p" -name etwireConfigVersion.cmake | head -1)
[ -n "$cfgver" ] || fail "no etwireConfigVersion.cmake"
want=$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")/\1/p' "$cfgver")
[ "$("$p/bin/etwire" --version)" = "etwire $want" ] || fail "--version: $("$p/bin/etwire" --version), package $want"

# Man pages: etwire(1) and one per command the CLI lists.
for cmd in $("$ETWIRE" --help | awk '/^commands:/ {on=1; next} on && !NF {exit} on {print $1}'); do
    [ -f "$p/share/man/man1/etwire-$cmd.1" ] || fail "no man page for $cmd"
done
for page in "$p"/share/man/man1/etwire*.1; do
    warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
    [ -z "$warnings" ] || fail "$page: $warnings"
done
[ -f "$p/share/man/man1/etwire.1" ] || fail "no etwire(1)"

# A sanitizer build installs an instrumented library: consumers are built the same way.
lib=$(find "$p" -name 'libetwire.so' | head -1)
deps=$(ldd "$lib") || fail "ldd $lib"
san=""
case "$deps" in *libasan*) san="-fsanitize=address,undefined" ;; *libtsan*) san="-fsanitize=thread" ;; esac

# find_package(etwire): both targets.
mkdir -p "$WORK/consumer"
cat > "$WORK/consumer/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(etwire 0.1 REQUIRED)
add_executable(shared_consumer $src/examples/consumer.c)
target_link_libraries(shared_consumer PRIVATE etwire::etwire)
add_executable(static_consumer $src/examples/consumer.c)
target_link_libraries(static_consumer PRIVATE etwire::etwire_static)
CM
# The build's own compiler and flags (-m32 for the i386 build, whose libraries pkg-config
# then finds in the i386 directory).
cflags="${ETWIRE_TEST_CFLAGS:-} $san"
case "$cflags" in *-m32*) export PKG_CONFIG_LIBDIR=/usr/lib/i386-linux-gnu/pkgconfig:/usr/share/pkgconfig ;; esac
cmake -S "$WORK/consumer" -B "$WORK/consumer/build" -DCMAKE_PREFIX_PATH="$p" -DCMAKE_C_COMPILER="${ETWIRE_TEST_CC:-cc}" \
      -DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="$cflags" -DCMAKE_BUILD_RPATH="$(dirname "$lib")" \
      > "$WORK/cmake.log" 2>&1 ||
    fail "find_package(etwire): $(tail -5 "$WORK/cmake.log")"
cmake --build "$WORK/consumer/build" > "$WORK/build.log" 2>&1 || fail "consumer build: $(tail -5 "$WORK/build.log")"
for c in shared_consumer static_consumer; do
    "$WORK/consumer/build/$c" "$WORK/t.etl" > "$WORK/out" || fail "$c run: $(cat "$WORK/out")"
    grep -q "^1003 events in" "$WORK/out" || fail "$c output: $(cat "$WORK/out")"
done

# The Python package, from the installed tree only.
py=/usr/bin/python3
elf_class() { od -An -tu1 -j4 -N1 "$1" | tr -d ' '; }
if [ -x "$py" ] && [ "$san" != "-fsanitize=thread" ] && [ "$(elf_class "$lib")" = "$(elf_class "$(readlink -f "$py")")" ]; then
    pydir=$(dirname "$(find "$p" -path '*/etwire/__init__.py' | head -1)")
    [ -f "$pydir/_paths.py" ] || fail "python package without _paths.py"
    preload=""
    [ -n "$san" ] && preload=$(gcc -print-file-name=libasan.so)
    n=$(cd "$WORK" && env -u ETWIRE_LIBRARY LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0 \
        PYTHONPATH="$(dirname "$pydir")" PYTHONDONTWRITEBYTECODE=1 \
        "$py" -c 'import etwire, sys; print(etwire.__version__, sum(1 for _ in etwire.open(sys.argv[1])))' \
        "$WORK/t.etl") || fail "installed python package"
    [ "$n" = "$want 1003" ] || fail "python package: version and events '$n', want '$want 1003'"
fi
echo "install extras: CMake package, man pages, python package, --version: passed"
