#!/usr/bin/env bash
# The whole test suite: unit, corpus, oracle, CLI, Windows-style sample and fuzz-corpus replays
# under AddressSanitizer and UBSan (gcc), then the threaded buffer-stream paths under
# ThreadSanitizer (clang), a warnings-as-errors build with clang (library, CLI, tests and the
# examples/windows programs), and the whole suite again as a 32-bit (i386) build under ASan and
# UBSan. Corpus tests skip when ../shared/corpus is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)

cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DETWIRE_WERROR=ON \
      -DETWIRE_SANITIZE=address,undefined -DETWIRE_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest -j "$jobs" --output-on-failure --timeout 900)

cmake -S . -B build-tsan -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DETWIRE_SANITIZE=thread -DETWIRE_BUILD_BENCH=OFF >/dev/null
cmake --build build-tsan -j "$jobs"
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
(cd build-tsan && ctest -j "$jobs" --output-on-failure --timeout 900 -L threads)

cmake -S . -B build-clang -G Ninja -DCMAKE_C_COMPILER=clang -DETWIRE_WERROR=ON >/dev/null
cmake --build build-clang -j "$jobs"

# 32-bit: -m32 against Debian's multilib compiler support and the :i386 libraries
# (scripts/install-deps.sh), where long and pointers are 32 bits.
PKG_CONFIG_LIBDIR=/usr/lib/i386-linux-gnu/pkgconfig:/usr/share/pkgconfig \
cmake -S . -B build-i386 -G Ninja -DCMAKE_C_FLAGS=-m32 -DCMAKE_BUILD_TYPE=Debug -DETWIRE_WERROR=ON \
      -DETWIRE_SANITIZE=address,undefined -DETWIRE_BUILD_BENCH=OFF >/dev/null
cmake --build build-i386 -j "$jobs"
(cd build-i386 && ctest -j "$jobs" --output-on-failure --timeout 900)
