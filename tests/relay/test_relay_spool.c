/* The sender's spool (src/relay/spool.h): buffers appended, read back in order, trimmed by
 * whole segments once acknowledged, reloaded by a later run (with END or cut short), locked
 * against a second live sender, and deleted at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include <sys/stat.h>
#include <unistd.h>

#include "relay/spool.h"

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/etwire-spool.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Buffer n: 64 KiB whose bytes say n (BufferSize first, as ETW buffers start). */
static void fill(uint8_t *b, uint32_t size, uint64_t n)
{
    memset(b, (int)(n & 0xFF), size);
    memcpy(b, &size, 4);
}

static void test_append_read_trim_reload(void **state)
{
    char err[640];
    enum { SIZE = 65536, N = 150 }; /* ~9.4 MB: three segments of 4 MiB */
    uint8_t *b = malloc(SIZE);
    relay_spool *sp = relay_spool_create(dir, "src", "ses", 0xabc, err, sizeof err);
    assert_non_null(sp);
    for (uint64_t i = 0; i < N; i++) {
        fill(b, SIZE, i);
        assert_int_equal(relay_spool_append(sp, i, b, SIZE, err, sizeof err), 0);
    }
    assert_int_not_equal(relay_spool_append(sp, N + 5, b, SIZE, err, sizeof err), 0); /* a gap */
    for (uint64_t i = 0; i < N; i += 37) {
        uint8_t *block;
        uint32_t size;
        assert_int_equal(relay_spool_read(sp, i, 24, &block, &size, err, sizeof err), 0);
        assert_int_equal(size, SIZE);
        assert_int_equal(block[24 + 100], (uint8_t)i);
        free(block);
    }
    uint64_t before = relay_spool_bytes(sp);
    relay_spool_trim(sp, 100); /* the segments wholly below 100 go */
    assert_true(relay_spool_bytes(sp) < before);
    assert_true(relay_spool_bytes(sp) >= (uint64_t)(N - 100) * SIZE);
    relay_spool_close(sp);

    /* A later run finds the session, cut short (no END), from the oldest kept buffer on. */
    char *paths[4];
    int n = 0;
    assert_int_equal(relay_spool_list(dir, paths, 4, &n), 0);
    assert_int_equal(n, 1);
    relay_spool_info info;
    int st;
    sp = relay_spool_open(paths[0], &info, &st, err, sizeof err);
    assert_non_null(sp);
    assert_int_equal(st, RELAY_SPOOL_OPENED);
    assert_string_equal(info.source, "src");
    assert_int_equal(info.instance, 0xabc);
    assert_int_equal(info.next_seq, N);
    assert_true(info.first_seq <= 100 && info.first_seq > 0);
    assert_false(info.ended);
    /* A second live sender may not take it meanwhile. */
    relay_spool_info info2;
    int st2;
    assert_null(relay_spool_open(paths[0], &info2, &st2, err, sizeof err));
    assert_int_equal(st2, RELAY_SPOOL_BUSY);
    assert_int_equal(relay_spool_append_end(sp, N, err, sizeof err), 0);
    relay_spool_close(sp);
    sp = relay_spool_open(paths[0], &info, &st, err, sizeof err);
    assert_non_null(sp);
    assert_true(info.ended);
    relay_spool_remove(sp);
    struct stat sb;
    assert_int_not_equal(stat(paths[0], &sb), 0);
    free(paths[0]);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_read_trim_reload, setup, teardown),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
