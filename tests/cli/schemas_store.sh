#!/usr/bin/env bash
# The schema store end to end: the whole reference manifest set imports with no failure and
# every provider its manifests declare is listed (the GUIDs are read from the XML here, not
# from etwire); a corpus trace of Windows manifest providers decodes through the store (found
# with ETWIRE_SCHEMAS, and with --schemas); a TMF imported into the store decodes a generated
# trace's WPP messages, and --tmf ranks above it; an import of nothing usable fails.
set -uo pipefail
. "$(dirname "$0")/common.bash"
export HOME="$WORK/home" XDG_DATA_HOME= ETWIRE_SCHEMAS= # never the user's own store

# --- WPP through the store (no ../shared needed) ---
"$ETWIRE" generate --seed 9 --events 2000 --kinds MESSAGE,EVENT64 -o "$WORK/g.etl" 2>/dev/null || fail generate
guid=7b2e3c01-1a2b-4f66-a452-457477697221
tmf() { # FORMAT-PREFIX DIR
    mkdir -p "$2"
    { echo "$guid gen // SRC=gen.c MJ= MN="
      for i in $(seq 10 49); do
          printf '#typev gen_c%d %d "%%0%s%d %%10!u!" // FUNC=F\n{\nv, ItemULong -- 10\n}\n' $((1000 + i)) "$i" "$1" "$i"
      done; } > "$2/$guid.tmf"
}
tmf store "$WORK/tmf-store"
tmf user "$WORK/tmf-user"
"$ETWIRE" schemas --schemas "$WORK/s1" import "$WORK/tmf-store" > "$WORK/imp.txt" || fail "TMF import"
grep -q '^imported 1 files (0 schemas, 40 WPP messages)' "$WORK/imp.txt" || fail "TMF import summary: $(cat "$WORK/imp.txt")"
"$ETWIRE" schemas --schemas "$WORK/s1" list > "$WORK/list1.txt" || fail "list"
grep -q "^{$guid}  gen  events=0 versions=0 wpp_messages=40" "$WORK/list1.txt" ||
    fail "WPP GUID not listed: $(cat "$WORK/list1.txt")"
msg() { jq -r -s 'map(select(.provider_guid == "'$guid'" and .decoded)) | .[0].fields.Message'; }
m=$("$ETWIRE" dump -f json --schemas "$WORK/s1" "$WORK/g.etl" | msg)
[[ "$m" == store* ]] || fail "WPP message not decoded through the store: '$m'"
m=$(ETWIRE_SCHEMAS="$WORK/s1" "$ETWIRE" dump -f json --tmf "$WORK/tmf-user" "$WORK/g.etl" | msg)
[[ "$m" == user* ]] || fail "--tmf does not rank above the store: '$m'"

# --- imports at the same time take turns: each one's schemas stay ---
mkdir "$WORK/c1" "$WORK/c2"
sed "s/$guid/11111111-2222-4333-8444-555555555555/" "$WORK/tmf-store/$guid.tmf" > "$WORK/c1/a.tmf"
sed "s/$guid/66666666-7777-4888-8999-aaaaaaaaaaaa/" "$WORK/tmf-store/$guid.tmf" > "$WORK/c2/b.tmf"
"$ETWIRE" schemas --schemas "$WORK/s1" import "$WORK/c1" > /dev/null & p1=$!
"$ETWIRE" schemas --schemas "$WORK/s1" import "$WORK/c2" > /dev/null & p2=$!
wait $p1 && wait $p2 || fail "concurrent imports"
"$ETWIRE" schemas --schemas "$WORK/s1" list > "$WORK/list2.txt" || fail "list after concurrent imports"
[ "$(grep -c 'wpp_messages=40' "$WORK/list2.txt")" -eq 3 ] || fail "concurrent imports lost one: $(cat "$WORK/list2.txt")"

# --- nothing usable: non-zero, each file named ---
mkdir "$WORK/junk" && echo "text" > "$WORK/junk/a.txt" && printf 'MZ' > "$WORK/junk/b.dll" &&
    echo "<broken" > "$WORK/junk/c.man"
mkfifo "$WORK/junk/fifo" "$WORK/fifo" # neither may block the import
"$ETWIRE" schemas --schemas "$WORK/s2" import "$WORK/junk" "$WORK/fifo" > /dev/null 2> "$WORK/err.txt" &&
    fail "import of nothing succeeded"
grep -q "c.man: line 1, column" "$WORK/err.txt" || fail "broken manifest not reported with its line: $(cat "$WORK/err.txt")"
grep -q "/fifo: not a regular file or directory" "$WORK/err.txt" || fail "FIFO argument not reported"
[ ! -e "$WORK/s2/schemas.etwpack" ] || fail "a failed import wrote a store"

# --- the reference manifests ---
tarball="$SHARED/reference/windows-provider-manifests.tar.xz"
[ -f "$tarball" ] || skip "reference manifests absent: store import of them not tried"
mkdir "$WORK/ref" && tar xJf "$tarball" -C "$WORK/ref" || fail "cannot extract $tarball"
dirs=$(cd "$WORK/ref" && ls -d Manifests-Win10-* | sort -t- -k3 -n)
store="$WORK/store"
(cd "$WORK/ref" && "$ETWIRE" schemas --schemas "$store" import $dirs) > "$WORK/imp.txt" 2> "$WORK/imp.err" ||
    fail "reference import failed: $(head -5 "$WORK/imp.err")"
[ ! -s "$WORK/imp.err" ] || fail "reference import reported problems: $(head -5 "$WORK/imp.err")"
grep -q ' 0 files not usable' "$WORK/imp.txt" || fail "summary: $(cat "$WORK/imp.txt")"
for f in "$WORK"/ref/Manifests-*/*; do
    tr '\n\r' '  ' < "$f" | grep -o '<provider [^>]*>' | grep -o "[^a-zA-Z]guid *= *[\"'][^\"']*[\"']" |
        grep -o '[0-9a-fA-F-]\{36\}'
done | tr 'A-F' 'a-f' | sort -u > "$WORK/want.txt"
"$ETWIRE" schemas --schemas "$store" list | grep -o '^{[^}]*}' | tr -d '{}' | sort -u > "$WORK/got.txt"
[ "$(wc -l < "$WORK/want.txt")" -gt 800 ] || fail "only $(wc -l < "$WORK/want.txt") providers in the manifests?"
missing=$(comm -23 "$WORK/want.txt" "$WORK/got.txt" | wc -l)
[ "$missing" -eq 0 ] || fail "$missing providers not listed, e.g. $(comm -23 "$WORK/want.txt" "$WORK/got.txt" | head -3)"
line=$("$ETWIRE" schemas --schemas "$store" list --provider microsoft-windows-kernel-process)
[[ "$line" == "{22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716}  Microsoft-Windows-Kernel-Process  events="* ]] ||
    fail "list --provider: '$line'"
"$ETWIRE" schemas --schemas "$store" show 22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716 > "$WORK/show.txt" || fail "show"
grep -q '^  event 1 version [0-9]*  ProcessStart/Start: ProcessID UInt32' "$WORK/show.txt" || fail "show: $(head -3 "$WORK/show.txt")"

f="$SHARED/corpus/explorer/ExplorerStartupLog-win10.etl"
if [ -f "$f" ]; then
    # The built-in pack holds the same manifests: off, so what decodes comes from the store.
    export ETWIRE_BUILTIN_SCHEMAS=0
    read -r _ d0 _ n _ < <("$ETWIRE" stats --undecoded "$f" | grep '^decoded:')
    read -r _ d1 _ n1 _ < <(ETWIRE_SCHEMAS="$store" "$ETWIRE" stats --undecoded "$f" | grep '^decoded:')
    read -r _ d2 _ < <("$ETWIRE" stats --undecoded --schemas "$store" "$f" | grep '^decoded:')
    [ $((d0 * 100)) -lt $((n * 10)) ] || fail "$f: $d0 of $n events decode without the store and the built-in pack"
    [ "$n" -eq "$n1" ] && [ $((d1 * 100)) -ge $((n * 99)) ] && [ "$d2" -eq "$d1" ] ||
        fail "$f: decoded $d0 of $n without the store, $d1 (ETWIRE_SCHEMAS) / $d2 (--schemas) with it"
    echo "store: $f decoded $d0 -> $d1 of $n events"
fi
echo "store: $(wc -l < "$WORK/got.txt") providers imported from $(cat "$WORK/imp.txt")"
