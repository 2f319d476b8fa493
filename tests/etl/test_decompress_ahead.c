/* Compressed buffers decompressed ahead on a second thread (src/etl/decompress_ahead.c) must
 * change nothing a consumer sees: on every compressed corpus trace, with events merged, with a
 * BufferCallback too, and buffers only (flush order), the events, buffers and statistics are
 * those of the same session without the thread; a trace with damaged compressed buffers is
 * reported the same way; a consumer that stops early, or processes the trace twice, ends
 * cleanly. The thread's results are checked buffer by buffer against etw_xca_decompress in any
 * order of asking. ETWIRE_TEST_THREADS: CI runs this under TSan too. Skips without
 * ../shared/corpus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#include "base/bytes.h"
#include "collect.h"
#include "etl/decompress_ahead.h"
#include "etl/decompress_ahead_cpu.h"
#include "etl/file_source.h"
#include "format/xca.h"

enum { MERGED, WITH_BUFFERS, BUFFERS_ONLY };

static ULONG collect(const char *path, int ahead, int how, test_events *ev,
                     ETWIRE_SESSION_STATS *st, int twice)
{
    setenv("ETWIRE_DECOMPRESS_AHEAD", ahead ? "1" : "0", 1);
    ETW_OPEN_TRACE_OPTIONS o = {0};
    if (how != BUFFERS_ONLY) {
        o.EventCallback = test_on_event;
        o.EventCallbackContext = ev;
    }
    if (how != MERGED) {
        o.BufferCallback = test_on_buffer;
        o.BufferCallbackContext = ev;
    }
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    if (h == INVALID_PROCESSTRACE_HANDLE)
        return etwire_last_error();
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    if (twice) {
        test_events_free(ev);
        ev->buffer_callbacks = ev->completions = 0;
        rc = ProcessTrace(&h, 1, NULL, NULL);
    }
    etwire_session_get_stats(h, st);
    CloseTrace(h);
    unsetenv("ETWIRE_DECOMPRESS_AHEAD");
    return rc;
}

static void same_session(const char *path, int how, int twice, int stop_after)
{
    test_events plain = {0}, ahead = {0};
    plain.stop_after_buffers = ahead.stop_after_buffers = stop_after;
    ETWIRE_SESSION_STATS sp, sa;
    memset(&sp, 0, sizeof sp);
    memset(&sa, 0, sizeof sa);
    ULONG rp = collect(path, 0, how, &plain, &sp, twice);
    ULONG ra = collect(path, 1, how, &ahead, &sa, twice);
    if (rp != ra || plain.n != ahead.n)
        print_error("%s (%d): %u/%u, %zu/%zu events\n", path, how, rp, ra, plain.n, ahead.n);
    assert_int_equal(rp, ra);
    assert_int_equal(plain.n, ahead.n);
    for (size_t i = 0; i < plain.n; i++)
        assert_true(test_event_same(&plain.v[i], &ahead.v[i]));
    assert_int_equal(plain.buffer_callbacks, ahead.buffer_callbacks);
    assert_int_equal(sp.BuffersAccepted, sa.BuffersAccepted);
    assert_int_equal(sp.BuffersRejected, sa.BuffersRejected);
    assert_int_equal(sp.BuffersCompressed, sa.BuffersCompressed);
    assert_int_equal(sp.CompressedBytes, sa.CompressedBytes);
    assert_int_equal(sp.DecompressedBytes, sa.DecompressedBytes);
    assert_int_equal(sp.BadRecords, sa.BadRecords);
    if (!stop_after && how != BUFFERS_ONLY)
        assert_true(plain.n > 0);
    test_events_free(&plain);
    test_events_free(&ahead);
}

static size_t compressed_files(char ***out)
{
    char **paths;
    size_t n = test_corpus_files(&paths), k = 0;
    for (size_t i = 0; i < n; i++) {
        if (test_file_is_compressed(paths[i]))
            paths[k++] = paths[i];
        else
            free(paths[i]);
    }
    *out = paths;
    return k;
}

static void test_corpus_same_with_and_without(void **state)
{
    (void)state;
    TEST_NEED_CORPUS();
    char **paths;
    size_t n = compressed_files(&paths);
    assert_true(n >= 6); /* docs/format/compression.md */
    for (size_t i = 0; i < n; i++) {
        same_session(paths[i], MERGED, 0, 0);
        same_session(paths[i], WITH_BUFFERS, 0, 0);
        same_session(paths[i], BUFFERS_ONLY, 0, 0);
    }
    test_free_paths(paths, n);
}

static void test_early_stop_and_again(void **state)
{
    (void)state;
    const char *path = TEST_NEED_CORPUS_FILE("traceevent/net.4.5.2.x86.etl");
    for (int stop = 1; stop <= 41; stop += 20)
        same_session(path, WITH_BUFFERS, 0, stop);
    same_session(path, MERGED, 1, 0);
    same_session(path, BUFFERS_ONLY, 1, 0);
    /* Opened and closed without processing: no thread to stop. */
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = test_on_event;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    CloseTrace(h);
}

/* A copy of the trace with bits changed inside some compressed payloads: every buffer the
 * decoder refuses must be refused (and reported) the same way with the thread. */
static void test_damaged_buffers_reported_alike(void **state)
{
    (void)state;
    size_t whole = 0;
    uint8_t *d = test_read_file(TEST_NEED_CORPUS_FILE("traceevent/net.4.5.2.x86.etl"), &whole);
    assert_non_null(d);
    long len = (long)whole;
    assert_true(len > 0);
    size_t off = 0, index = 0, damaged = 0;
    while ((size_t)len - off >= 72 && etw_rd32(d + off) >= 72 &&
           etw_rd32(d + off) <= (size_t)len - off) {
        uint32_t size = etw_rd32(d + off);
        if ((etw_rd16(d + off + 0x34) & 0x40) && index % 7 == 3 && size > 200) {
            d[off + 72 + (index * 131) % (size - 72)] ^= 0x5A; /* anywhere in the stream */
            d[off + 72 + 2] ^= 0xE0; /* a token's distance near the start */
            damaged++;
        }
        off += size;
        index++;
    }
    assert_true(damaged > 10);
    char tmp[] = "/tmp/etwire_ahead_XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, d, (size_t)len), len);
    close(fd);
    free(d);
    test_events plain = {0};
    ETWIRE_SESSION_STATS st;
    collect(tmp, 0, MERGED, &plain, &st, 0);
    assert_true(st.BuffersRejected > 0); /* the damage is seen */
    test_events_free(&plain);
    same_session(tmp, MERGED, 0, 0);
    same_session(tmp, WITH_BUFFERS, 0, 0);
    unlink(tmp);
}

/* The thread's blocks, taken in an order unlike the one it guessed, skipping some, and stopped
 * with buffers still ready: each block handed over holds what etw_xca_decompress makes of the
 * buffer, and nothing leaks (LeakSanitizer). */
static void test_blocks_match_the_decoder(void **state)
{
    (void)state;
    const char *path = TEST_NEED_CORPUS_FILE("traceevent/net.4.5.2.x86.etl");
    char err[256];
    etw_file_source *f;
    if (etw_file_source_open(path, &f, err, sizeof err) != ETW_OK)
        fail_msg("%s", err);
    const size_t out_size = 65536;
    uint8_t *raw = malloc(f->block_size), *want = malloc(out_size);
    assert_non_null(raw);
    assert_non_null(want);
    for (int round = 0; round < 3; round++) {
        etw_ahead *a = etw_ahead_start(f->fd, f->entries, f->count, f->nprocs, round != 1,
                                       ETW_XCA_XPRESS, out_size);
        assert_non_null(a);
        etw_ahead_settle(a);
        size_t got = 0;
        /* round 0: flush order; 1: backwards; 2: every third entry, then stop early. */
        for (size_t k = 1; k < f->count; k++) {
            size_t i = round == 1 ? f->count - k : k;
            if (round == 2 && i % 3)
                continue;
            uint8_t *block = etw_ahead_take(a, i);
            if (!block)
                continue;
            got++;
            const etw_file_entry *e = &f->entries[i];
            assert_int_equal(pread(f->fd, raw, e->size, (off_t)e->offset), (ssize_t)e->size);
            size_t filled = etw_rd32(raw + 0x30), n = 0;
            assert_int_equal(etw_xca_decompress(ETW_XCA_XPRESS, raw + 72, e->size - 72, want + 72,
                                                filled - 72, &n),
                             ETW_XCA_OK);
            memcpy(want, raw, 72);
            assert_memory_equal(block, want, filled);
            free(block);
            if (round == 2 && got == 5)
                break;
        }
        etw_ahead_counts c = etw_ahead_counts_of(a);
        assert_int_equal(c.ready, got);
        assert_int_equal(c.failed, 0);
        if (round == 0)
            assert_true(got > 0); /* the first guesses were settled before asking */
        etw_ahead_stop(a);
    }
    free(raw);
    free(want);
    etw_file_source_close(f);
}

/* Whether a session starts the thread: ETWIRE_DECOMPRESS_AHEAD decides when set; unset, never
 * for a file with few compressed buffers (the thread would cost more than it saves), always
 * for more when the process may use two processors. */
static void test_wanted(void **state)
{
    (void)state;
    setenv("ETWIRE_DECOMPRESS_AHEAD", "1", 1);
    assert_true(etw_ahead_wanted(0));
    setenv("ETWIRE_DECOMPRESS_AHEAD", "0", 1);
    assert_false(etw_ahead_wanted(100000));
    unsetenv("ETWIRE_DECOMPRESS_AHEAD");
    assert_false(etw_ahead_wanted(0));
    assert_false(etw_ahead_wanted(31));
    /* Enough buffers: wanted whenever a second processor may be used, however busy the
     * machine (test_decompress_ahead_cpu.c checks one processor). */
    assert_int_equal(etw_ahead_wanted(32), etw_ahead_cpu_usable() > 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_same_with_and_without),
        cmocka_unit_test(test_early_stop_and_again),
        cmocka_unit_test(test_damaged_buffers_reported_alike),
        cmocka_unit_test(test_blocks_match_the_decoder),
        cmocka_unit_test(test_wanted),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
