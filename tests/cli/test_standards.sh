#!/usr/bin/env bash
# The test suite's own standards, checked on its sources so that a new test cannot quietly
# break them: tests wait on events, never sleep (a `sleep` in a script is only a deadline's
# timer and says so with the word "deadline" on its line); a skip goes through the helpers
# that make CTest show it as skipped (TEST_SKIP in C, skip/need_* in scripts, exit 77 nowhere
# else); every cmocka main returns through test_exit; ../shared is reached only through the
# corpus helpers (support/harness.h, common.bash).
# Usage: test_standards.sh ETWIRE SHARED_DIR
set -uo pipefail
. "$(dirname "$0")/common.bash"
TESTS=$(cd "$(dirname "$0")/.." && pwd)
cd "$TESTS" || fail "cd $TESTS"
: >"$WORK/found"
report() { # report WHAT: each line on stdin breaks the rule WHAT
    local line
    while IFS= read -r line; do echo "$line: $1"; done >>"$WORK/found"
}

# C: no sleeping calls at all.
grep -rnE '\b(usleep|nanosleep|clock_nanosleep|thrd_sleep|sleep)[[:space:]]*\(' --include='*.c' --include='*.h' . |
    report "a test sleeps: wait on an event with a deadline (support/waits.h)"
# Scripts: a sleep only as a deadline's timer, marked so.
grep -rnE '(^|[^A-Za-z_#])sleep[[:space:]]' --include='*.sh' --include='*.bash' . | grep -v deadline |
    grep -vE '^[^:]*:[0-9]+:[[:space:]]*#' |
    report "a script sleeps: wait on an event (until_changed, wait_log, wait_exit, a --ready-fd)"
# Skips that CTest would report as passes.
grep -rnE '(^|[^_A-Za-z])skip\(\);' --include='*.c' . | grep -v 'support/harness.h' |
    report "bare cmocka skip(): use TEST_SKIP (counted, exits 77)"
grep -rn 'exit 77' cli | grep -v 'cli/common.bash\|cli/test_standards.sh' | grep -vE '^[^:]*:[0-9]+:[[:space:]]*#' |
    report "exit 77 by hand: use skip, need_cmd or need_corpus (common.bash)"
for f in */test_*.c; do
    grep -q 'cmocka_run_group_tests' "$f" || continue
    grep -q 'test_exit(' "$f" || echo "$f" | report "main does not return through test_exit"
done
# ../shared only through the corpus helpers.
grep -rn 'ETWIRE_SHARED_DIR' --include='*.c' --include='*.h' . | grep -v '^./support/' |
    report "../shared reached directly: use test_corpus_dir/test_corpus_file (support/harness.h)"

if [ -s "$WORK/found" ]; then
    cat "$WORK/found" >&2
    fail "$(wc -l <"$WORK/found") places break the test standards"
fi
echo "test standards: ok"
