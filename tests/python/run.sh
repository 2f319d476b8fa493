#!/usr/bin/env bash
# Runs the Python package's tests with Debian's python3 against the library just built:
# run.sh LIBETWIRE ETWIRE_CLI PYTHON_SOURCE_DIR SHARED_DIR. A sanitizer build's library needs its
# runtime loaded first, so it is preloaded (and leak checking, which would report the
# interpreter's own allocations, is turned off).
set -uo pipefail
lib=$1 cli=$2 pysrc=$3 shared=$4
py=/usr/bin/python3
[ -x "$py" ] || { echo "SKIP: Debian's python3 absent"; exit 77; }
# A 32-bit build's library cannot load into a 64-bit interpreter (ELF class: byte 5).
elf_class() { od -An -tu1 -j4 -N1 "$1" | tr -d ' '; }
[ "$(elf_class "$lib")" = "$(elf_class "$(readlink -f "$py")")" ] ||
    { echo "SKIP: $lib and $py differ in word size"; exit 77; }
deps=$(ldd "$lib") || { echo "FAIL: ldd $lib"; exit 1; }
case "$deps" in
*libasan*)
    export LD_PRELOAD=$(gcc -print-file-name=libasan.so)
    export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 ;;
*libtsan*) echo "SKIP: ThreadSanitizer cannot be preloaded into python3"; exit 77 ;;
esac
ETWIRE_LIBRARY=$lib ETWIRE_CLI=$cli ETWIRE_SHARED=$shared PYTHONPATH=$pysrc PYTHONDONTWRITEBYTECODE=1 \
    exec "$py" "$(dirname "$0")/test_etwire.py"
