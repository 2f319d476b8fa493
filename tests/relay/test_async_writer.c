/* The collector's JSON files are written on a thread of their own (programs/etwire/
 * async_writer.c): whatever the sizes of the pieces appended (many small lines, pieces that
 * straddle blocks, pieces larger than a block), the file holds exactly them in order; a file
 * that cannot be written fails put or close instead of hanging.
 * ETWIRE_TEST_THREADS: the formatter and the writer thread share the blocks (TSan runs it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "async_writer.h"

static void test_pieces_in_order(void **state)
{
    (void)state;
    char path[] = "/tmp/etwire-async-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256];
    async_writer *w = async_writer_open(path, err, sizeof err);
    assert_non_null(w);
    /* 12 MB in pieces of 1 byte .. 600 KB (more than a block), a pseudo-random pattern. */
    size_t total = 0, cap = 12u << 20;
    uint8_t *want = malloc(cap + (1u << 20));
    assert_non_null(want);
    uint32_t x = 12345;
    while (total < cap) {
        x = x * 1103515245u + 12345u;
        size_t n = (x >> 8) % 7 == 0 ? 600000 + (x & 4095) : 1 + ((x >> 4) % 700);
        for (size_t i = 0; i < n; i++)
            want[total + i] = (uint8_t)(total + i * 7 + (x >> 16));
        assert_int_equal(async_writer_put(w, want + total, n), 0);
        total += n;
    }
    assert_int_equal(async_writer_close(w), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *got = malloc(total + 1);
    assert_non_null(got);
    assert_int_equal(fread(got, 1, total + 1, f), total);
    fclose(f);
    assert_memory_equal(got, want, total);
    free(got);
    free(want);
    unlink(path);
}

static void test_failures_are_reported(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(async_writer_open("/nonexistent-dir/x.jsonl", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir/x.jsonl"));
    if (access("/dev/full", W_OK) != 0)
        skip();
    async_writer *w = async_writer_open("/dev/full", err, sizeof err);
    assert_non_null(w);
    static uint8_t line[1000];
    memset(line, 'x', sizeof line);
    int failed = 0;
    for (int i = 0; i < 2000 && !failed; i++) /* 2 MB: several blocks reach the writer */
        failed = async_writer_put(w, line, sizeof line) != 0;
    assert_int_equal(async_writer_close(w), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces_in_order),
        cmocka_unit_test(test_failures_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
