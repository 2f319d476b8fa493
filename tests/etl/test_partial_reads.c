/* File sessions read the processor the merge waits for, not every buffer flushed before it
 * (src/etl/file_session.c); without a BufferCallback each buffer is also read only up to its
 * filled offset and freed as soon as its events are out. The events must be exactly those of
 * a consumer with a BufferCallback (whole buffers, completed in flush order), which must see
 * every buffer once, whole, in flush order - on generated traces with mostly empty 1 MiB
 * buffers, appended sessions overlapping in time, and every corpus trace (skipped when
 * ../shared/corpus is absent). The corpus and generated tests elsewhere compare files with
 * buffer streams, which are read in arrival order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include <unistd.h>

#include "base/crc32.h"
#include "gen_trace.h"
#include "session/session.h"

static ULONG collect(const char *path, int whole, test_events *ev, ETWIRE_SESSION_STATS *st)
{
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = test_on_event;
    o.EventCallbackContext = ev;
    if (whole) {
        o.BufferCallback = test_on_buffer;
        o.BufferCallbackContext = ev;
    }
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    if (h == INVALID_PROCESSTRACE_HANDLE)
        return etwire_last_error();
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    etwire_session_get_stats(h, st);
    CloseTrace(h);
    return rc;
}

static void same_events(const char *path)
{
    test_events whole = {0}, partial = {0};
    ETWIRE_SESSION_STATS sw, sp;
    ULONG rw = collect(path, 1, &whole, &sw), rp = collect(path, 0, &partial, &sp);
    if (rw != rp || whole.n != partial.n)
        print_error("%s: %u/%u, %zu/%zu events\n", path, rw, rp, whole.n, partial.n);
    assert_int_equal(rw, rp);
    assert_int_equal(whole.n, partial.n);
    for (size_t i = 0; i < whole.n; i++)
        assert_true(test_event_same(&whole.v[i], &partial.v[i]));
    assert_int_equal(sw.BuffersAccepted, sp.BuffersAccepted);
    assert_int_equal(sw.BadRecords, sp.BadRecords);
    test_events_free(&whole);
    test_events_free(&partial);
}

/* A session's BufferCallback, kept. */
static BOOL WINAPI keep_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                               const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    test_buffers *t = ctx;
    (void)info;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->data = realloc(t->data, t->cap * sizeof *t->data);
        t->size = realloc(t->size, t->cap * sizeof *t->size);
    }
    t->data[t->n] = malloc(size);
    memcpy(t->data[t->n], b, size);
    t->size[t->n++] = size;
    return TRUE;
}

/* With events and a buffer callback, buffers are read per processor but the callback still
 * sees them whole, each exactly once, in flush order (here the file's order). */
static void callbacks_in_flush_order(const gen_trace *t)
{
    test_events ev = {0};
    test_buffers seen = {0};
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = test_on_event;
    o.EventCallbackContext = &ev;
    o.BufferCallback = keep_buffer;
    o.BufferCallbackContext = &seen;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(t->path, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    CloseTrace(h);
    assert_int_equal(seen.n, t->buffers.n);
    for (size_t i = 0; i < seen.n; i++) {
        assert_int_equal(seen.size[i], t->buffers.size[i]);
        assert_memory_equal(seen.data[i], t->buffers.data[i], seen.size[i]);
    }
    assert_int_equal(ev.n, t->expected.n);
    test_buffers_free(&seen);
    test_events_free(&ev);
}

static void generated_big_buffers(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(520, 30000);
    c.processors = 8;
    c.buffer_size = 1u << 20;
    c.max_lag = etw_gen_ticks_per_second(&c) / 50; /* flushed long before they fill */
    gen_trace t;
    assert_int_equal(gen_trace_make(&c, &t), 0);
    assert_int_equal(gen_trace_write_file(&t), 0);
    test_events ev = {0};
    ETWIRE_SESSION_STATS st;
    assert_int_equal(collect(t.path, 0, &ev, &st), ERROR_SUCCESS);
    gen_trace_check(&t, &ev, 0);
    /* Read per processor when needed, freed when done: at most about one buffer per
     * processor in flight (and only its filled part), never the file. */
    assert_true(st.BytesHeldPeak <= (uint64_t)(c.processors + 2) * c.buffer_size);
    assert_true(st.BytesHeldPeak < t.summary.bytes / 4);
    test_events_free(&ev);
    same_events(t.path);
    callbacks_in_flush_order(&t);
    gen_trace_free(&t);
}

/* Appended sessions whose clock went back into the previous session: a processor's buffers
 * overlap in time, so some events are late; both read orders still give one sequence. */
static void appended_overlapping_sessions(void **state)
{
    (void)state;
    for (unsigned procs = 1; procs <= 4; procs += 3) {
        etw_gen_config c = gen_config(530 + procs, 6000);
        c.processors = procs;
        c.buffer_size = 4096;
        c.append_sessions = 3;
        c.clock_step_back = etw_gen_ticks_per_second(&c) / 200;
        gen_trace t;
        assert_int_equal(gen_trace_make(&c, &t), 0);
        assert_int_equal(gen_trace_write_file(&t), 0);
        same_events(t.path);
        gen_trace_free(&t);
    }
}

/* Each buffer a relay (BufferCallback only: read and completed in flush order, nothing waits)
 * sees, as size and CRC-32: what a session with events must hand its BufferCallback too. */
typedef struct buffer_sums {
    uint32_t *size, *crc;
    size_t n, cap, at;
    int mismatch;
} buffer_sums;

static BOOL WINAPI sum_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                              const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    buffer_sums *t = ctx;
    (void)info;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->size = realloc(t->size, t->cap * sizeof *t->size);
        t->crc = realloc(t->crc, t->cap * sizeof *t->crc);
    }
    t->size[t->n] = size;
    t->crc[t->n++] = etw_crc32(0, b, size);
    return TRUE;
}

static BOOL WINAPI check_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                                const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    buffer_sums *t = ctx;
    (void)info;
    if (t->at >= t->n || t->size[t->at] != size || t->crc[t->at] != etw_crc32(0, b, size))
        t->mismatch++;
    t->at++;
    return TRUE;
}

static VOID WINAPI count_event(PEVENT_RECORD er)
{
    (*(uint64_t *)er->UserContext)++;
}

/* A session with events and a BufferCallback hands over the relay's buffers, byte for byte and
 * in the same order, and delivers the events of a session without one; returns its stats. */
static ETWIRE_SESSION_STATS buffers_as_relay(const char *path)
{
    buffer_sums sums = {0};
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.BufferCallback = sum_buffer;
    o.BufferCallbackContext = &sums;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    ULONG relay_rc = ProcessTrace(&h, 1, NULL, NULL);
    CloseTrace(h);

    uint64_t events = 0;
    o.BufferCallback = check_buffer;
    o.EventCallback = count_event;
    o.EventCallbackContext = &events;
    h = etwire_trace_open_file(path, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    ETWIRE_SESSION_STATS st;
    etwire_session_get_stats(h, &st);
    CloseTrace(h);
    if (rc != relay_rc || sums.mismatch || sums.at != sums.n)
        print_error("%s: rc %u/%u, %zu of %zu buffers, %d differ\n", path, rc, relay_rc, sums.at,
                    sums.n, sums.mismatch);
    assert_int_equal(rc, relay_rc);
    assert_int_equal(sums.at, sums.n);
    assert_int_equal(sums.mismatch, 0);
    assert_int_equal(events, st.EventsDelivered);

    test_events ev = {0};
    ETWIRE_SESSION_STATS alone;
    test_collect_file(path, &ev, &alone);
    assert_int_equal(events, ev.n);
    test_events_free(&ev);
    free(sums.size);
    free(sums.crc);
    return st;
}

/* 32 processors with 16 KiB buffers and a short flush lag: slow processors flush mostly empty
 * buffers late, so many buffers wait for earlier-flushed ones. */
static etw_gen_config waiting_buffers_config(void)
{
    etw_gen_config c = gen_config(540, 20000);
    c.processors = 32;
    c.buffer_size = 16u << 10;
    c.max_lag = etw_gen_ticks_per_second(&c) / 20;
    return c;
}

/* Many processors, a flush timer: slow processors flush mostly empty buffers late, so buffers whose events are out wait for earlier-flushed ones before their callback.
 * Those are read again when due instead of kept (src/session/complete.c): the session holds
 * about one buffer per processor, not a second of trace. The trace is streamed to the file,
 * never held here. */
static void many_processors_bounded(void **state)
{
    (void)state;
    /* The lag is small enough that kept buffers would exceed the bound below (688 KiB were
     * held before such buffers were read again; the bound is 608 KiB). */
    etw_gen_config c = waiting_buffers_config();
    char path[64];
    etw_gen_summary sum;
    gen_trace_stream_file(&c, path, &sum);
    ETWIRE_SESSION_STATS st = buffers_as_relay(path);
    unlink(path);
    assert_int_equal(st.BuffersAccepted, sum.buffers);
    assert_int_equal(st.EventsDelivered, sum.events);
    print_message("%llu buffers, %llu bytes; held at most %llu\n",
                  (unsigned long long)sum.buffers, (unsigned long long)sum.bytes,
                  (unsigned long long)st.BytesHeldPeak);
    /* Each processor's buffer in flight, the few kept waiting, the one being read again, the
     * header buffer. */
    assert_true(st.BytesHeldPeak <=
                (uint64_t)(c.processors + ETW_WAITING_KEPT + 2) * c.buffer_size);
}

/* The file is cut while buffers wait, out of memory, for their callbacks: those that cannot be
 * read again are reported (with their number and offset) and skipped, every other buffer is
 * still handed over, and ProcessTrace ends with ERROR_FILE_CORRUPT. */
typedef struct cut_state {
    const char *path;
    off_t keep;           /* bytes left after the cut: the header buffer */
    uint64_t events, cut_at;
    unsigned reread_failures, other_reports;
    uint64_t buffers;
} cut_state;

static VOID WINAPI cut_on_event(PEVENT_RECORD er)
{
    cut_state *c = er->UserContext;
    if (++c->events == c->cut_at)
        assert_int_equal(truncate(c->path, c->keep), 0);
}

static BOOL WINAPI cut_on_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                                 const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    (void)b, (void)size, (void)info;
    ((cut_state *)ctx)->buffers++;
    return TRUE;
}

static void cut_on_diag(const ETWIRE_DIAGNOSTIC *d, void *ctx)
{
    cut_state *c = ctx;
    if (strstr(d->Message, "read again")) {
        assert_int_equal(d->Code, ERROR_READ_FAULT);
        c->reread_failures++;
    }
    else
        c->other_reports++;
}

static void cut_while_buffers_wait(void **state)
{
    (void)state;
    etw_gen_config g = waiting_buffers_config();
    char path[64];
    etw_gen_summary sum;
    gen_trace_stream_file(&g, path, &sum);
    cut_state c = {path, (off_t)g.buffer_size, 0, sum.events / 2, 0, 0, 0};
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = cut_on_event;
    o.EventCallbackContext = &c;
    o.BufferCallback = cut_on_buffer;
    o.BufferCallbackContext = &c;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(etwire_session_set_diagnostic_callback(h, cut_on_diag, &c), ERROR_SUCCESS);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_FILE_CORRUPT);
    ETWIRE_SESSION_STATS st;
    assert_int_equal(etwire_session_get_stats(h, &st), ERROR_SUCCESS);
    CloseTrace(h);
    unlink(path);
    assert_true(c.reread_failures > 0); /* the cut found buffers waiting out of memory */
    assert_true(c.other_reports > 0);   /* and buffers not read yet */
    assert_int_equal(st.BuffersCompleted, st.BuffersAccepted);
    assert_int_equal(c.buffers + c.reread_failures, st.BuffersAccepted);
    assert_int_equal(st.BuffersAccepted + st.BuffersRejected, sum.buffers);
}

static void corpus_buffers_as_relay(void **state)
{
    (void)state;
    char **paths;
    size_t n = test_corpus_files(&paths);
    if (!n) {
        TEST_SKIP("../shared/corpus is absent");
    }
    for (size_t i = 0; i < n; i++)
        (void)buffers_as_relay(paths[i]);
    test_free_paths(paths, n);
}

static void corpus(void **state)
{
    (void)state;
    char **paths;
    size_t n = test_corpus_files(&paths);
    if (!n) {
        TEST_SKIP("../shared/corpus is absent");
    }
    for (size_t i = 0; i < n; i++)
        same_events(paths[i]);
    test_free_paths(paths, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generated_big_buffers),
        cmocka_unit_test(appended_overlapping_sessions),
        cmocka_unit_test(corpus),
        cmocka_unit_test(many_processors_bounded),
        cmocka_unit_test(cut_while_buffers_wait),
        cmocka_unit_test(corpus_buffers_as_relay),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
