/* The collector's JSON files are written on a thread of their own (programs/etwire/
 * async_writer.c): whatever the sizes of the pieces appended (many small lines, pieces that
 * straddle blocks, pieces larger than a block), the file holds exactly them in order; a file
 * that cannot be written fails put or close instead of hanging.
 * ETWIRE_TEST_THREADS: the formatter and the writer thread share the blocks (TSan runs it). */
#include <setjmp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#include "async_writer.h"

/* Writes 12 MB in pieces of 1 byte .. 600 KB (more than a block) to a new file; 0 when it then
 * holds exactly them (no cmocka asserts here: threads call it). Seed picks the pattern. */
static int write_and_check(uint32_t seed)
{
    char path[] = "/tmp/etwire-async-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    char err[256];
    async_writer *w = async_writer_open(path, err, sizeof err);
    size_t total = 0, cap = 12u << 20;
    uint8_t *want = malloc(cap + (1u << 20)), *got = malloc(cap + (1u << 20));
    int rc = w && want && got ? 0 : -1;
    uint32_t x = seed;
    while (rc == 0 && total < cap) {
        x = x * 1103515245u + 12345u;
        size_t n = (x >> 8) % 7 == 0 ? 600000 + (x & 4095) : 1 + ((x >> 4) % 700);
        for (size_t i = 0; i < n; i++)
            want[total + i] = (uint8_t)(total + i * 7 + (x >> 16));
        rc = async_writer_put(w, want + total, n);
        total += n;
    }
    if (async_writer_close(w) != 0)
        rc = -1;
    FILE *f = rc == 0 ? fopen(path, "rb") : NULL;
    if (!f || fread(got, 1, total + 1, f) != total || memcmp(got, want, total) != 0)
        rc = -1;
    if (f)
        fclose(f);
    free(got);
    free(want);
    unlink(path);
    return rc;
}

static void test_pieces_in_order(void **state)
{
    (void)state;
    assert_int_equal(write_and_check(12345), 0);
}

static void *writer_thread(void *arg)
{
    return write_and_check((uint32_t)(uintptr_t)arg) == 0 ? arg : NULL;
}

/* Files of several sessions at once, from their own threads, through the shared pool. */
static void test_files_in_parallel(void **state)
{
    (void)state;
    pthread_t t[5];
    for (uintptr_t i = 0; i < 5; i++)
        assert_int_equal(pthread_create(&t[i], NULL, writer_thread, (void *)(i * 7919 + 1)), 0);
    for (int i = 0; i < 5; i++) {
        void *ok = NULL;
        pthread_join(t[i], &ok);
        assert_non_null(ok);
    }
}

static void test_failures_are_reported(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(async_writer_open("/nonexistent-dir/x.jsonl", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir/x.jsonl"));
    if (access("/dev/full", W_OK) != 0)
        TEST_SKIP("no writable /dev/full");
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
        cmocka_unit_test(test_files_in_parallel),
        cmocka_unit_test(test_failures_are_reported),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
