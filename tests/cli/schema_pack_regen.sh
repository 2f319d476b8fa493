#!/usr/bin/env bash
# The committed built-in schema pack is what the generator in this repository makes from the
# reference manifests: regenerate it from ../shared/reference and compare byte for byte. Also
# checks that every reference manifest loads (the generator exits non-zero when one does not).
set -uo pipefail
etwire=$1
shared=$2
repo=$(cd "$(dirname "$0")/../.." && pwd)
gen=$(dirname "$etwire")/tools/gen_schema_pack
tarball=$shared/reference/windows-provider-manifests.tar.xz
[ -f "$tarball" ] || { echo "reference manifests absent: skipped"; exit 77; }
[ -x "$gen" ] || { echo "gen_schema_pack not built (needs expat): skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xJf "$tarball" -C "$tmp" || { echo "FAIL: cannot unpack $tarball"; exit 1; }
n=$(find "$tmp" -name '*.xml' | wc -l)
[ "$n" -eq 2007 ] || { echo "FAIL: $n manifests in the tarball, expected 2007"; exit 1; }
"$gen" -o "$tmp/pack" --names "$repo/tools/schema-pack/provider-names.tsv" \
    "$tmp/Manifests-Win10-10240" "$tmp/Manifests-Win10-17134" "$tmp/Manifests-Win10-18990" 2>"$tmp/log"
rc=$?
cat "$tmp/log"
[ $rc -eq 0 ] || { echo "FAIL: gen_schema_pack exited $rc (a manifest did not load)"; exit 1; }
skipped=$(grep -c 'skipped: .*not an instrumentation manifest' "$tmp/log")
[ "$skipped" -eq 2 ] || { echo "FAIL: $skipped files skipped, expected the 2 .NET documentation files"; exit 1; }
size=$(stat -c %s "$tmp/pack")
[ "$size" -lt $((6 * 1024 * 1024)) ] || { echo "FAIL: pack is $size bytes (limit 6 MiB)"; exit 1; }
cmp "$tmp/pack" "$repo/data/windows-providers.etwpack" ||
    { echo "FAIL: regenerated pack differs from data/windows-providers.etwpack (rerun the generator)"; exit 1; }
echo "schema pack: $size bytes, identical to the committed one"
