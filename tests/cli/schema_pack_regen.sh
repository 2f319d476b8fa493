#!/usr/bin/env bash
# The committed built-in schema pack is what the generator in this repository makes from the
# reference manifests: regenerate it from ../shared/reference and compare byte for byte. Also
# checks that every reference manifest loads (the generator exits non-zero when one does not).
set -uo pipefail
. "$(dirname "$0")/common.bash"
repo=$(cd "$(dirname "$0")/../.." && pwd)
gen=$(dirname "$ETWIRE")/tools/gen_schema_pack
tarball=$SHARED/reference/windows-provider-manifests.tar.xz
[ -f "$tarball" ] || skip "reference manifests absent"
[ -x "$gen" ] || skip "gen_schema_pack not built (needs expat)"
tar -xJf "$tarball" -C "$WORK" || { echo "FAIL: cannot unpack $tarball"; exit 1; }
n=$(find "$WORK" -name '*.xml' | wc -l)
[ "$n" -eq 2007 ] || { echo "FAIL: $n manifests in the tarball, expected 2007"; exit 1; }
"$gen" -o "$WORK/pack" --names "$repo/tools/schema-pack/provider-names.tsv" \
    "$WORK/Manifests-Win10-10240" "$WORK/Manifests-Win10-17134" "$WORK/Manifests-Win10-18990" 2>"$WORK/log"
rc=$?
cat "$WORK/log"
[ $rc -eq 0 ] || { echo "FAIL: gen_schema_pack exited $rc (a manifest did not load)"; exit 1; }
skipped=$(grep -c 'skipped: .*not an instrumentation manifest' "$WORK/log")
[ "$skipped" -eq 2 ] || { echo "FAIL: $skipped files skipped, expected the 2 .NET documentation files"; exit 1; }
size=$(stat -c %s "$WORK/pack")
[ "$size" -lt $((6 * 1024 * 1024)) ] || { echo "FAIL: pack is $size bytes (limit 6 MiB)"; exit 1; }
cmp "$WORK/pack" "$repo/data/windows-providers.etwpack" ||
    { echo "FAIL: regenerated pack differs from data/windows-providers.etwpack (rerun the generator)"; exit 1; }
echo "schema pack: $size bytes, identical to the committed one"
