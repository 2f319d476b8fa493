/* ETWIRE_TEST_THREADS: one test feeds a stream from a second thread.
 * ProcessTrace on a handle that was processed before (issue 9.2): a file handle reads the file
 * again from the start, with the same events, buffer callbacks, statistics and diagnostics; a
 * stream handle goes on with the buffers added since (docs/api/lifetime.md). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#include "gen_trace.h"

static void assert_same_sequence(const test_events *a, const test_events *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        assert_true(test_event_same(&a->v[i], &b->v[i]));
}

static size_t diagnostics;
static void count_diag(const ETWIRE_DIAGNOSTIC *d, void *ctx)
{
    (void)d;
    (void)ctx;
    diagnostics++;
}

/* Twice on one handle: the same events, buffer callbacks and statistics. */
static void file_handle_processed_twice(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(310, 5000);
    c.buffer_size = 4096;
    gen_trace t;
    assert_int_equal(gen_trace_make(&c, &t), 0);
    assert_int_equal(gen_trace_write_file(&t), 0);
    test_events first = {0}, second = {0};
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.ProcessTraceModes = ETW_PROCESS_TRACE_MODE_RAW_TIMESTAMP;
    o.EventCallback = test_on_event;
    o.EventCallbackContext = &first;
    o.BufferCallback = test_on_buffer;
    o.BufferCallbackContext = &first;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(t.path, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    ETWIRE_SESSION_STATS s1, s2;
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    assert_int_equal(etwire_session_get_stats(h, &s1), ERROR_SUCCESS);
    gen_trace_check(&t, &first, 1);
    /* The callbacks write where the handle was opened to send them: move that aside. */
    second = first;
    first = (test_events){0};
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    assert_int_equal(etwire_session_get_stats(h, &s2), ERROR_SUCCESS);
    assert_same_sequence(&second, &first);
    assert_int_equal(first.buffer_callbacks, second.buffer_callbacks);
    assert_int_equal(first.buffer_callbacks, t.summary.buffers);
    assert_int_equal(s1.EventsDelivered, s2.EventsDelivered);
    assert_int_equal(s1.BuffersAccepted, s2.BuffersAccepted);
    assert_int_equal(s1.BuffersCompleted, s2.BuffersCompleted);
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
    test_events_free(&first);
    test_events_free(&second);
    gen_trace_free(&t);
}

/* A first call stopped by its BufferCallback; the second reads the whole file. */
static void file_handle_after_early_stop(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(311, 4000);
    c.buffer_size = 2048;
    gen_trace t;
    assert_int_equal(gen_trace_make(&c, &t), 0);
    assert_int_equal(gen_trace_write_file(&t), 0);
    test_events ev = {0};
    ev.stop_after_buffers = 3;
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.ProcessTraceModes = ETW_PROCESS_TRACE_MODE_RAW_TIMESTAMP;
    o.EventCallback = test_on_event;
    o.EventCallbackContext = &ev;
    o.BufferCallback = test_on_buffer;
    o.BufferCallbackContext = &ev;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(t.path, &o, NULL);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_CANCELLED);
    assert_true(ev.n < t.expected.n);
    free(ev.v);
    ev = (test_events){0};
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    gen_trace_check(&t, &ev, 1);
    assert_int_equal(ev.buffer_callbacks, t.summary.buffers);
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
    test_events_free(&ev);
    gen_trace_free(&t);
}

/* A damaged file: both calls report the same problems and end with ERROR_FILE_CORRUPT. */
static void damaged_file_reported_each_time(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(312, 3000);
    c.buffer_size = 4096;
    gen_trace t;
    assert_int_equal(gen_trace_make(&c, &t), 0);
    assert_int_equal(gen_trace_write_file(&t), 0);
    /* Cut the last buffer in half. */
    assert_int_equal(truncate(t.path, (off_t)(t.summary.buffers * c.buffer_size - 2048)), 0);
    test_events ev = {0};
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = test_on_event;
    o.EventCallbackContext = &ev;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(t.path, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(etwire_session_set_diagnostic_callback(h, count_diag, NULL), ERROR_SUCCESS);
    diagnostics = 0;
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_FILE_CORRUPT);
    size_t first_diag = diagnostics, first_n = ev.n;
    assert_true(first_diag > 0);
    diagnostics = 0;
    ev.n = 0;
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_FILE_CORRUPT);
    assert_int_equal(diagnostics, first_diag);
    assert_int_equal(ev.n, first_n);
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
    test_events_free(&ev);
    gen_trace_free(&t);
}

/* The classic OpenTraceW: BuffersRead starts from 0 again. */
static size_t classic_events;
static ULONG last_buffers_read;
static VOID WINAPI count_classic(PEVENT_TRACE et)
{
    (void)et;
    classic_events++;
}
static ULONG WINAPI on_classic_buffer(PEVENT_TRACE_LOGFILEW lf)
{
    last_buffers_read = lf->BuffersRead;
    return TRUE;
}

static void classic_handle_processed_twice(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(313, 2000);
    gen_trace t;
    assert_int_equal(gen_trace_make(&c, &t), 0);
    assert_int_equal(gen_trace_write_file(&t), 0);
    WCHAR wpath[64];
    size_t i = 0;
    for (; t.path[i]; i++)
        wpath[i] = (WCHAR)t.path[i];
    wpath[i] = 0;
    EVENT_TRACE_LOGFILEW lf;
    memset(&lf, 0, sizeof lf);
    lf.LogFileName = wpath;
    lf.EventCallback = count_classic;
    lf.BufferCallback = on_classic_buffer;
    PROCESSTRACE_HANDLE h = OpenTraceW(&lf);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    for (int run = 0; run < 2; run++) {
        classic_events = 0;
        assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
        assert_int_equal(classic_events, t.expected.n);
        assert_int_equal(last_buffers_read, t.summary.buffers);
    }
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
    gen_trace_free(&t);
}

/* A stream is not read again: a call after the end delivers nothing; a call after an early
 * stop goes on with the buffers added since (the earlier ones were completed and given back). */
static uint64_t completions;
static void WINAPI count_completion(const ETW_BUFFER_HEADER *b, void *ctx)
{
    (void)b;
    (void)ctx;
    completions++;
}

typedef struct feeder {
    const test_buffers *in;
    size_t from, to;
    PROCESSTRACE_HANDLE h;
    int end;
} feeder;

static void *feed(void *arg)
{
    feeder *f = arg;
    for (size_t i = f->from; i < f->to; i++)
        assert_int_equal(ProcessTraceAddBufferToBufferStream(
                             f->h, (const ETW_BUFFER_HEADER *)(const void *)f->in->data[i],
                             f->in->size[i]),
                         ERROR_SUCCESS);
    if (f->end)
        etwire_stream_end(f->h);
    return NULL;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void stream_handle_goes_on(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(314, 4000);
    c.buffer_size = 2048;
    gen_trace t;
    assert_int_equal(gen_trace_make(&c, &t), 0);
    test_events ev = {0};
    ev.stop_after_buffers = 2;
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.ProcessTraceModes = ETW_PROCESS_TRACE_MODE_RAW_TIMESTAMP;
    o.EventCallback = test_on_event;
    o.EventCallbackContext = &ev;
    o.BufferCallback = test_on_buffer;
    o.BufferCallbackContext = &ev;
    completions = 0;
    PROCESSTRACE_HANDLE h = OpenTraceFromBufferStream(&o, count_completion, NULL);
    assert_int_equal(etwire_stream_set_reorder_window(h, ETWIRE_REORDER_UNBOUNDED), ERROR_SUCCESS);
    size_t half = t.buffers.n / 2;
    /* The first half, queued before processing starts, then stopped after two buffers. */
    feeder f = {&t.buffers, 0, half, h, 0};
    feed(&f);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_CANCELLED);
    assert_int_equal(completions, half);
    /* The rest, from another thread, then the end. */
    test_events_free(&ev);
    ev = (test_events){0};
    f = (feeder){&t.buffers, half, t.buffers.n, h, 1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, feed, &f), 0);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    pthread_join(th, NULL);
    assert_int_equal(completions, t.buffers.n);
    assert_int_equal(ev.buffer_callbacks, t.buffers.n - half);
    /* Exactly the events of the buffers added since, in time order. */
    size_t want = 0;
    for (size_t i = 0; i < t.expected.n; i++)
        for (size_t b = half; b < t.buffers.n; b++)
            if (t.expected.v[i].kind != ETW_GEN_KIND_HEADER &&
                rd64(t.buffers.data[b] + 0x18) == t.expected.v[i].buffer_sequence) {
                want++;
                break;
            }
    assert_int_equal(ev.n, want);
    for (size_t i = 1; i < ev.n; i++)
        assert_true(ev.v[i].time >= ev.v[i - 1].time);
    /* Ended: a further call delivers nothing and succeeds. */
    size_t n = ev.n;
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    assert_int_equal(ev.n, n);
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
    test_events_free(&ev);
    gen_trace_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(file_handle_processed_twice),
        cmocka_unit_test(file_handle_after_early_stop),
        cmocka_unit_test(damaged_file_reported_each_time),
        cmocka_unit_test(classic_handle_processed_twice),
        cmocka_unit_test(stream_handle_goes_on),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
