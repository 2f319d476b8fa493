#!/usr/bin/env bash
# The main job on a bundled default: build etwire, generate a seeded synthetic trace (every
# header kind, 8 processors, cross-processor lag), then summarise it and print its first events.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build
./build/etwire generate --seed 1 --events 200000 --processors 8 -o build/demo.etl
./build/etwire stats build/demo.etl
./build/etwire dump build/demo.etl | head -n 20
