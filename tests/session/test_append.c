/* ETWIRE_TEST_THREADS: streams are fed from a second thread.
 * Appended sessions whose clock went back (issue 9.5): a file written in
 * EVENT_TRACE_FILE_MODE_APPEND after a clock change holds buffers whose flush times go
 * backwards once per appended session. File, classic and stream modes must all deliver every
 * event; a stream must accept every buffer, in whatever order a BufferCallback produced it, and
 * a stream fed from another session's BufferCallback must give what that session gave. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "gen_trace.h"

/* A session's BufferCallback, kept: the buffers in the order it handed them on. */
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

static ULONG run_file(const char *path, test_events *ev, test_buffers *relayed,
                      ETWIRE_SESSION_STATS *st)
{
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.ProcessTraceModes = ETW_PROCESS_TRACE_MODE_RAW_TIMESTAMP;
    o.EventCallback = test_on_event;
    o.EventCallbackContext = ev;
    o.BufferCallback = keep_buffer;
    o.BufferCallbackContext = relayed;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    assert_int_equal(etwire_session_get_stats(h, st), ERROR_SUCCESS);
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
    return rc;
}

typedef struct feeder {
    const test_buffers *in;
    PROCESSTRACE_HANDLE h;
    size_t refused;
} feeder;

static void *feed(void *arg)
{
    feeder *f = arg;
    for (size_t i = 0; i < f->in->n; i++)
        if (ProcessTraceAddBufferToBufferStream(
                f->h, (const ETW_BUFFER_HEADER *)(const void *)f->in->data[i], f->in->size[i]) !=
            ERROR_SUCCESS)
            f->refused++;
    etwire_stream_end(f->h);
    return NULL;
}

/* Feeds `in` to a stream from a second thread; relayed (optional) keeps its BufferCallback. */
static ULONG run_stream(const test_buffers *in, uint64_t window, test_events *ev,
                        test_buffers *relayed, ETWIRE_SESSION_STATS *st)
{
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.ProcessTraceModes = ETW_PROCESS_TRACE_MODE_RAW_TIMESTAMP;
    o.EventCallback = test_on_event;
    o.EventCallbackContext = ev;
    if (relayed) {
        o.BufferCallback = keep_buffer;
        o.BufferCallbackContext = relayed;
    }
    PROCESSTRACE_HANDLE h = OpenTraceFromBufferStream(&o, NULL, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(etwire_stream_set_reorder_window(h, window), ERROR_SUCCESS);
    feeder f = {in, h, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, feed, &f), 0);
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    pthread_join(t, NULL);
    assert_int_equal(f.refused, 0);
    assert_int_equal(etwire_session_get_stats(h, st), ERROR_SUCCESS);
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
    return rc;
}

/* The classic OpenTraceW + EVENT_TRACE callback, turned into test_events for comparison. */
static test_events *classic_out;

static VOID WINAPI on_classic(PEVENT_TRACE et)
{
    EVENT_RECORD er;
    memset(&er, 0, sizeof er);
    er.EventHeader.TimeStamp = et->Header.TimeStamp;
    er.EventHeader.ProcessId = et->Header.ProcessId;
    er.EventHeader.ThreadId = et->Header.ThreadId;
    er.EventHeader.ProviderId = et->Header.Guid;
    er.BufferContext = et->BufferContext;
    er.UserData = et->MofData;
    er.UserDataLength = (USHORT)et->MofLength;
    test_events_add(classic_out, &er);
}

static ULONG run_classic(const char *path, test_events *ev)
{
    WCHAR wpath[64];
    size_t i = 0;
    for (; path[i] && i + 1 < sizeof wpath / sizeof wpath[0]; i++)
        wpath[i] = (WCHAR)path[i];
    wpath[i] = 0;
    EVENT_TRACE_LOGFILEW lf;
    memset(&lf, 0, sizeof lf);
    lf.LogFileName = wpath;
    lf.ProcessTraceMode = PROCESS_TRACE_MODE_RAW_TIMESTAMP;
    lf.EventCallback = on_classic;
    classic_out = ev;
    PROCESSTRACE_HANDLE h = OpenTraceW(&lf);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
    return rc;
}

static void assert_same_sequence(const test_events *a, const test_events *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        assert_true(test_event_same(&a->v[i], &b->v[i]));
}

/* What the classic callback can see: time, ids, processor, payload. */
static void assert_same_classic(const test_events *full, const test_events *classic)
{
    assert_int_equal(full->n, classic->n);
    for (size_t i = 0; i < full->n; i++) {
        const test_event *x = &full->v[i], *y = &classic->v[i];
        assert_true(x->time == y->time && x->pid == y->pid && x->tid == y->tid &&
                    x->len == y->len && x->payload_hash == y->payload_hash &&
                    !memcmp(&x->provider, &y->provider, sizeof x->provider));
    }
}

static int by_content(const void *pa, const void *pb)
{
    const test_event *a = pa, *b = pb;
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    if (a->cpu != b->cpu)
        return a->cpu < b->cpu ? -1 : 1;
    if (a->payload_hash != b->payload_hash)
        return a->payload_hash < b->payload_hash ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

/* The same events, whatever their order. */
static void assert_same_events(const test_events *a, const test_events *b)
{
    assert_int_equal(a->n, b->n);
    test_event *x = malloc(a->n * sizeof *x), *y = malloc(b->n * sizeof *y);
    memcpy(x, a->v, a->n * sizeof *x);
    memcpy(y, b->v, b->n * sizeof *y);
    qsort(x, a->n, sizeof *x, by_content);
    qsort(y, b->n, sizeof *y, by_content);
    for (size_t i = 0; i < a->n; i++)
        assert_true(test_event_same(&x[i], &y[i]));
    free(x);
    free(y);
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Whether the file's own buffer order has flush times going backwards (it must, or the
 * configuration tests nothing). */
static int flush_goes_back(const test_buffers *b)
{
    for (size_t i = 2; i < b->n; i++)
        if (rd64(b->data[i] + 0x10) < rd64(b->data[i - 1] + 0x10))
            return 1;
    return 0;
}

static void check_appended(unsigned processors, unsigned sessions, int step_before_all)
{
    etw_gen_config c = gen_config(900 + processors * 10 + sessions, 6000);
    c.processors = processors;
    c.buffer_size = 4096;
    c.append_sessions = sessions;
    uint64_t tps = etw_gen_ticks_per_second(&c);
    /* Either hours back (before everything logged so far, as a clock change on a machine
     * does), or back by a fraction of a session, so the sessions' times overlap. */
    c.clock_step_back = step_before_all ? 3 * 3600 * tps : tps / 200;
    gen_trace t;
    assert_int_equal(gen_trace_make(&c, &t), 0);
    assert_int_equal(gen_trace_write_file(&t), 0);
    assert_true(flush_goes_back(&t.buffers));

    test_events file = {0}, classic = {0}, relay = {0}, in_file_order = {0}, relayed_again = {0};
    test_buffers file_cb = {0}, stream_cb = {0};
    ETWIRE_SESSION_STATS fst, st;

    /* File: every buffer read, every event delivered; the file's buffers are read in flush
     * order, so when the step went back past everything, the result is exact time order. */
    assert_int_equal(run_file(t.path, &file, &file_cb, &fst), ERROR_SUCCESS);
    assert_int_equal(fst.BuffersRejected, 0);
    assert_int_equal(fst.BuffersAccepted, t.summary.buffers);
    assert_int_equal(file.n, t.expected.n);
    assert_int_equal(file_cb.n, t.summary.buffers);
    if (step_before_all) {
        gen_trace_check(&t, &file, 1);
        assert_int_equal(fst.EventsLate, 0);
    }

    /* Classic OpenTraceW: the same sequence. */
    assert_int_equal(run_classic(t.path, &classic), ERROR_SUCCESS);
    assert_same_classic(&file, &classic);

    /* A stream fed from the file session's BufferCallback gives what that session gave. */
    assert_int_equal(run_stream(&file_cb, ETWIRE_REORDER_UNBOUNDED, &relay, NULL, &st),
                     ERROR_SUCCESS);
    assert_int_equal(st.BuffersRejected, 0);
    assert_same_sequence(&file, &relay);

    /* Fed in the file's own order (the order Windows' BufferCallback gives), with the default
     * reorder window: nothing refused, every event delivered, the earlier-timed session's
     * events counted late where they come after newer ones. */
    assert_int_equal(run_stream(&t.buffers, ETWIRE_REORDER_DEFAULT, &in_file_order, &stream_cb, &st),
                     ERROR_SUCCESS);
    assert_int_equal(st.BuffersRejected, 0);
    assert_int_equal(st.BuffersAccepted, t.summary.buffers);
    assert_int_equal(st.EventsDelivered, t.expected.n);
    assert_same_events(&file, &in_file_order);
    if (step_before_all)
        assert_true(st.EventsLate > 0);
    /* That stream's BufferCallback handed the buffers on in arrival order; a stream fed from
     * it gives exactly what it gave. */
    assert_int_equal(stream_cb.n, t.buffers.n);
    for (size_t i = 0; i < stream_cb.n; i++)
        assert_memory_equal(stream_cb.data[i], t.buffers.data[i], t.buffers.size[i]);
    assert_int_equal(run_stream(&stream_cb, ETWIRE_REORDER_DEFAULT, &relayed_again, NULL, &st),
                     ERROR_SUCCESS);
    assert_same_sequence(&in_file_order, &relayed_again);

    test_events_free(&file);
    test_events_free(&classic);
    test_events_free(&relay);
    test_events_free(&in_file_order);
    test_events_free(&relayed_again);
    test_buffers_free(&file_cb);
    test_buffers_free(&stream_cb);
    gen_trace_free(&t);
}

static void one_processor_clock_back_past_everything(void **state)
{
    (void)state;
    check_appended(1, 2, 1);
}

static void several_processors_clock_back_past_everything(void **state)
{
    (void)state;
    check_appended(4, 2, 1);
    check_appended(8, 3, 1);
}

static void sessions_overlapping_in_time(void **state)
{
    (void)state;
    check_appended(1, 3, 0);
    check_appended(4, 2, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_processor_clock_back_past_everything),
        cmocka_unit_test(several_processors_clock_back_past_everything),
        cmocka_unit_test(sessions_overlapping_in_time),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
