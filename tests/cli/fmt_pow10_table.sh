#!/usr/bin/env bash
# The powers-of-ten table fmt_float.c scales by (src/base/fmt_pow10.h) is what its generator
# derives: regenerated and compared byte for byte (skipped without python3).
set -uo pipefail
. "$(dirname "$0")/common.bash"
root=$(cd "$(dirname "$0")/../.." && pwd)
need_cmd python3
python3 "$root/tools/fmt-pow10/gen_fmt_pow10.py" | cmp -s - "$root/src/base/fmt_pow10.h" ||
    fail "src/base/fmt_pow10.h differs from tools/fmt-pow10/gen_fmt_pow10.py's output"
