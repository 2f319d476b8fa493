/* ETWIRE_TEST_THREADS: CloseTrace and AddBuffer race ProcessTrace from other threads.
 * The Windows-named API's contracts: argument checks and their Win32 codes, handles that are
 * closed or forged, buffers that are refused (and then never completed), completion exactly
 * once for every accepted buffer on every path, CloseTrace while ProcessTrace runs. */
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
#include "waits.h"

static gen_trace trace;

static int setup(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(99, 3000);
    c.buffer_size = 2048;
    c.processors = 4;
    return gen_trace_make(&c, &trace);
}

static int teardown(void **state)
{
    (void)state;
    gen_trace_free(&trace);
    return 0;
}

static uint64_t completions;
static void WINAPI count_completion(const ETW_BUFFER_HEADER *b, void *ctx)
{
    (void)b;
    (void)ctx;
    __atomic_add_fetch(&completions, 1, __ATOMIC_RELAXED);
}

static PROCESSTRACE_HANDLE open_stream(test_events *ev)
{
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = test_on_event;
    o.EventCallbackContext = ev;
    completions = 0;
    PROCESSTRACE_HANDLE h = OpenTraceFromBufferStream(&o, count_completion, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE && h != 0);
    return h;
}

static ULONG add(PROCESSTRACE_HANDLE h, size_t i)
{
    return ProcessTraceAddBufferToBufferStream(
        h, (const ETW_BUFFER_HEADER *)(const void *)trace.buffers.data[i], trace.buffers.size[i]);
}

static void bad_handles(void **state)
{
    (void)state;
    assert_int_equal(CloseTrace(0), ERROR_INVALID_HANDLE);
    assert_int_equal(CloseTrace(INVALID_PROCESSTRACE_HANDLE), ERROR_INVALID_HANDLE);
    assert_int_equal(CloseTrace(0x1234567800000001ull), ERROR_INVALID_HANDLE);
    test_events ev = {0};
    PROCESSTRACE_HANDLE h = open_stream(&ev);
    /* Same slot, another generation: forged. */
    assert_int_equal(add(h ^ (1ull << 40), 0), ERROR_INVALID_HANDLE);
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
    assert_int_equal(CloseTrace(h), ERROR_INVALID_HANDLE);
    assert_int_equal(add(h, 0), ERROR_INVALID_HANDLE);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_INVALID_HANDLE);
    assert_int_equal(completions, 0);
    ETWIRE_SESSION_STATS st;
    assert_int_equal(etwire_session_get_stats(h, &st), ERROR_INVALID_HANDLE);
}

static void process_trace_arguments(void **state)
{
    (void)state;
    test_events ev = {0};
    PROCESSTRACE_HANDLE h = open_stream(&ev);
    PROCESSTRACE_HANDLE many[65];
    for (int i = 0; i < 65; i++)
        many[i] = h;
    assert_int_equal(ProcessTrace(NULL, 1, NULL, NULL), ERROR_INVALID_PARAMETER);
    assert_int_equal(ProcessTrace(&h, 0, NULL, NULL), ERROR_BAD_LENGTH);
    assert_int_equal(ProcessTrace(many, 65, NULL, NULL), ERROR_BAD_LENGTH);
    assert_int_equal(ProcessTrace(many, 2, NULL, NULL), ERROR_INVALID_PARAMETER);
    FILETIME a = {100, 0}, b = {50, 0};
    assert_int_equal(ProcessTrace(&h, 1, &a, &b), ERROR_INVALID_TIME);
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
}

static void open_trace_arguments(void **state)
{
    (void)state;
    assert_true(OpenTraceA(NULL) == INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    EVENT_TRACE_LOGFILEA lf;
    memset(&lf, 0, sizeof lf);
    assert_true(OpenTraceA(&lf) == INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(GetLastError(), ERROR_BAD_PATHNAME);
    lf.LoggerName = "NT Kernel Logger";
    assert_true(OpenTraceA(&lf) == INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(GetLastError(), ERROR_NOT_SUPPORTED);
    lf.LoggerName = NULL;
    lf.LogFileName = "/nonexistent/etwire/trace.etl";
    assert_true(OpenTraceA(&lf) == INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(GetLastError(), ERROR_FILE_NOT_FOUND);
    assert_non_null(strstr(etwire_last_error_message(), "/nonexistent/etwire/trace.etl"));
    ETW_OPEN_TRACE_OPTIONS o = {0};
    assert_true(OpenTraceFromBufferStream(NULL, NULL, NULL) == INVALID_PROCESSTRACE_HANDLE);
    assert_true(OpenTraceFromRealTimeLogger(NULL, &o, NULL) == INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER); /* a live session needs a name */
}

/* Each kind of bad buffer gets its code and is not taken: no completion ever fires for it. */
static void refused_buffers(void **state)
{
    (void)state;
    test_events ev = {0};
    PROCESSTRACE_HANDLE h = open_stream(&ev);
    uint8_t copy[4096];
    const uint8_t *hdr = trace.buffers.data[0];
    uint32_t hsize = trace.buffers.size[0];
    assert_true(hsize <= sizeof copy);

    assert_int_equal(ProcessTraceAddBufferToBufferStream(h, NULL, 100), ERROR_INVALID_PARAMETER);
    assert_int_equal(ProcessTraceAddBufferToBufferStream(h, (const void *)hdr, 71), ERROR_INVALID_DATA);
    /* Before the header buffer, a data buffer is refused. */
    assert_int_equal(add(h, 1), ERROR_BAD_FORMAT);
    /* A filled offset past the given size lies about the data. */
    memcpy(copy, hdr, hsize);
    assert_int_equal(ProcessTraceAddBufferToBufferStream(h, (const void *)copy, 100), ERROR_INVALID_DATA);
    /* A record whose size runs past the filled offset. */
    memcpy(copy, hdr, hsize);
    copy[72 + 4] = 0xFF;
    copy[72 + 5] = 0x7F;
    assert_int_not_equal(ProcessTraceAddBufferToBufferStream(h, (const void *)copy, hsize), ERROR_SUCCESS);
    /* The real header, then data in flush order. */
    assert_int_equal(add(h, 0), ERROR_SUCCESS);
    size_t last = trace.buffers.n - 1;
    assert_int_equal(add(h, last), ERROR_SUCCESS);
    /* Older than the newest accepted flush time: taken all the same (a clock set back, a
     * relog; its events are delivered, late where they are). */
    assert_int_equal(add(h, 1), ERROR_SUCCESS);
    /* Compressed buffers in a session that did not announce compression. */
    memcpy(copy, trace.buffers.data[last], trace.buffers.size[last] < sizeof copy ? trace.buffers.size[last] : sizeof copy);
    copy[0x34] |= 0x40;
    assert_int_equal(ProcessTraceAddBufferToBufferStream(h, (const void *)copy, 2048), ERROR_NOT_SUPPORTED);
    ETWIRE_SESSION_STATS st;
    assert_int_equal(etwire_session_get_stats(h, &st), ERROR_SUCCESS);
    assert_int_equal(st.BuffersAccepted, 3);
    assert_int_equal(st.BuffersRejected, 5); /* the NULL one was not a buffer */
    TRACE_LOGFILE_HEADER lh;
    assert_int_equal(etwire_session_get_header(h, &lh), ERROR_SUCCESS);
    assert_int_equal(lh.NumberOfProcessors, 4);
    /* Closing without ever processing still completes the three accepted buffers. */
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
    assert_int_equal(completions, 3);
}

static void stream_end_and_file_handles(void **state)
{
    (void)state;
    test_events ev = {0};
    PROCESSTRACE_HANDLE h = open_stream(&ev);
    assert_int_equal(add(h, 0), ERROR_SUCCESS);
    assert_int_equal(etwire_stream_end(h), ERROR_SUCCESS);
    assert_int_equal(add(h, 1), ERROR_INVALID_HANDLE);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    assert_int_equal(ev.n, trace.expected.header_records);
    assert_int_equal(completions, 1);
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
    test_events_free(&ev);

    assert_int_equal(gen_trace_write_file(&trace), 0);
    ETW_OPEN_TRACE_OPTIONS o = {0};
    PROCESSTRACE_HANDLE f = etwire_trace_open_file(trace.path, &o, NULL);
    assert_true(f != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(add(f, 0), ERROR_INVALID_PARAMETER);
    assert_int_equal(etwire_stream_end(f), ERROR_INVALID_PARAMETER);
    assert_int_equal(ProcessTraceBufferIncrementReference(f, (const void *)trace.buffers.data[0]),
                     ERROR_INVALID_PARAMETER); /* only inside a BufferCallback */
    assert_int_equal(ProcessTraceBufferDecrementReference((const void *)trace.buffers.data[0]),
                     ERROR_INVALID_PARAMETER);
    assert_int_equal(CloseTrace(f), ERROR_SUCCESS);
}

typedef struct closer {
    PROCESSTRACE_HANDLE h;
    size_t feed;
    ULONG close_rc;
    int delivered; /* (mu) ProcessTrace delivered an event */
    int waited;    /* the feeder saw that before its deadline */
    test_events *ev;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} closer;

static closer *closing; /* the EventCallback's context is the test_events */

static void WINAPI note_delivery(PEVENT_RECORD er)
{
    test_on_event(er);
    pthread_mutex_lock(&closing->mu);
    closing->delivered = 1;
    pthread_cond_broadcast(&closing->cv);
    pthread_mutex_unlock(&closing->mu);
}

static int has_delivered(void *ctx)
{
    return ((const closer *)ctx)->delivered;
}

static void *feed_then_close(void *arg)
{
    closer *c = arg;
    for (size_t i = 0; i < c->feed; i++)
        add(c->h, i);
    /* Wait until ProcessTrace has taken the buffers (its first event), then close under it. */
    struct timespec deadline = test_deadline_ts(TEST_DEADLINE_MS);
    pthread_mutex_lock(&c->mu);
    c->waited = test_cond_wait(&c->cv, &c->mu, &deadline, has_delivered, c);
    pthread_mutex_unlock(&c->mu);
    c->close_rc = CloseTrace(c->h);
    return NULL;
}

/* CloseTrace from another thread while ProcessTrace waits: it says ERROR_CTX_CLOSE_PENDING,
 * ProcessTrace drains what was queued and returns, and every accepted buffer completes. */
static void close_while_processing(void **state)
{
    (void)state;
    test_events ev = {0};
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = note_delivery;
    o.EventCallbackContext = &ev;
    completions = 0;
    PROCESSTRACE_HANDLE h = OpenTraceFromBufferStream(&o, count_completion, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE && h != 0);
    closer c = {h, trace.buffers.n / 2, 0, 0, 0, &ev, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    closing = &c;
    pthread_t t;
    pthread_create(&t, NULL, feed_then_close, &c);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    pthread_join(t, NULL);
    assert_true(c.waited);
    assert_int_equal(c.close_rc, ERROR_CTX_CLOSE_PENDING);
    assert_int_equal(completions, c.feed);
    assert_int_equal(CloseTrace(h), ERROR_INVALID_HANDLE);
    assert_true(ev.n > trace.expected.header_records);
    test_events_free(&ev);
}

static PROCESSTRACE_HANDLE ref_handle;
static const ETW_BUFFER_HEADER *ref_buffer;
static uint8_t ref_copy[1u << 16];
static ULONG ref_size;
static pthread_t ref_releaser;
static pthread_mutex_t ref_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ref_cv = PTHREAD_COND_INITIALIZER;
static int ref_later_read; /* (ref_mu) a buffer after the referenced one reached its callback */
static int ref_released;   /* (ref_mu) the reference was let go */
static int ref_bytes_kept; /* its bytes were unchanged then */

static int later_read(void *ctx)
{
    (void)ctx;
    return ref_later_read;
}

/* Lets the reference go once the reader went on to a later buffer (not on a timer). */
static void *release_after_later_buffer(void *arg)
{
    (void)arg;
    struct timespec deadline = test_deadline_ts(TEST_DEADLINE_MS);
    pthread_mutex_lock(&ref_mu);
    test_cond_wait(&ref_cv, &ref_mu, &deadline, later_read, NULL);
    ref_bytes_kept = !memcmp(ref_buffer, ref_copy, ref_size);
    ref_released = 1;
    pthread_mutex_unlock(&ref_mu);
    ProcessTraceBufferDecrementReference(ref_buffer);
    return NULL;
}

static BOOL WINAPI keep_first_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                                     const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    (void)ctx;
    /* A buffer in the middle: later buffers are still to be read after it completes. */
    if (info->BuffersRead == trace.buffers.n / 2) {
        ref_buffer = b;
        ref_size = size < sizeof ref_copy ? size : sizeof ref_copy;
        memcpy(ref_copy, b, ref_size);
        assert_int_equal(ProcessTraceBufferIncrementReference(ref_handle, b), ERROR_SUCCESS);
        assert_int_equal(pthread_create(&ref_releaser, NULL, release_after_later_buffer, NULL), 0);
    } else if (info->BuffersRead > trace.buffers.n / 2) {
        pthread_mutex_lock(&ref_mu);
        ref_later_read = 1;
        pthread_cond_broadcast(&ref_cv);
        pthread_mutex_unlock(&ref_mu);
    }
    return TRUE;
}

/* A referenced buffer holds ProcessTrace until it is released, and its bytes stay as they
 * were while the reader goes on reading later buffers (it must not reuse that memory). */
static void buffer_references(void **state)
{
    (void)state;
    assert_int_equal(gen_trace_write_file(&trace), 0);
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.BufferCallback = keep_first_buffer;
    ref_handle = etwire_trace_open_file(trace.path, &o, NULL);
    assert_int_equal(ProcessTrace(&ref_handle, 1, NULL, NULL), ERROR_SUCCESS);
    /* ProcessTrace returned only after the release, which came after a later buffer was read;
     * the referenced bytes were intact then and are now. */
    pthread_mutex_lock(&ref_mu);
    int released = ref_released, later = ref_later_read;
    pthread_mutex_unlock(&ref_mu);
    pthread_join(ref_releaser, NULL);
    assert_true(released);
    assert_true(later);
    assert_true(ref_bytes_kept);
    assert_true(ref_size > 0);
    assert_memory_equal(ref_buffer, ref_copy, ref_size);
    assert_int_equal(ProcessTraceBufferDecrementReference(ref_buffer), ERROR_INVALID_PARAMETER);
    assert_int_equal(CloseTrace(ref_handle), ERROR_SUCCESS);
}

static ULONG64 io_buffer = UINT64_MAX;
static ULONG io_code;
static void on_diag(const ETWIRE_DIAGNOSTIC *d, void *ctx)
{
    (void)ctx;
    if (io_buffer == UINT64_MAX) {
        io_buffer = d->BufferIndex;
        io_code = d->Code;
    }
}

static size_t delivered;
static void WINAPI count_event(PEVENT_RECORD r)
{
    (void)r;
    delivered++;
}

/* The file shrinks between OpenTrace (which indexed it) and ProcessTrace: the buffers that can
 * no longer be read are reported by position, the ones before them are delivered. */
static void file_cut_after_open(void **state)
{
    (void)state;
    assert_int_equal(gen_trace_write_file(&trace), 0);
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = count_event;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(trace.path, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(etwire_session_set_diagnostic_callback(h, on_diag, NULL), ERROR_SUCCESS);
    size_t half = trace.buffers.size[0];
    for (size_t i = 1; i < trace.buffers.n / 2; i++)
        half += trace.buffers.size[i];
    assert_int_equal(truncate(trace.path, (off_t)half), 0);
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    assert_int_not_equal(rc, ERROR_SUCCESS);
    assert_int_equal(io_code, ERROR_READ_FAULT);
    assert_true(io_buffer > 0 && io_buffer < trace.buffers.n);
    assert_true(delivered > trace.expected.header_records);
    ETWIRE_SESSION_STATS st;
    assert_int_equal(etwire_session_get_stats(h, &st), ERROR_SUCCESS);
    assert_true(st.BuffersRejected >= trace.buffers.n - trace.buffers.n / 2);
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_handles),
        cmocka_unit_test(file_cut_after_open),
        cmocka_unit_test(process_trace_arguments),
        cmocka_unit_test(open_trace_arguments),
        cmocka_unit_test(refused_buffers),
        cmocka_unit_test(stream_end_and_file_handles),
        cmocka_unit_test(close_while_processing),
        cmocka_unit_test(buffer_references),
    };
    return test_exit(cmocka_run_group_tests(tests, setup, teardown));
}
