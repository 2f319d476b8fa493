/* etwire_stream_add_buffers, the collector's hand-off to its buffer-stream sessions: batches
 * fed from another thread (ETWIRE_TEST_THREADS) deliver exactly the events one buffer at a
 * time does, in the same order; a refused buffer stops its batch there (the ones before it
 * taken and completed, it and the rest not); bad arguments and handles are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>

#include "collect.h"
#include "harness.h"

static char dir[64], path[128];
static test_buffers bufs;

static int setup(void **state)
{
    test_mkdtemp(dir, "batch");
    snprintf(path, sizeof path, "%s/t.etl", dir);
    if (test_run(TEST_ETWIRE " generate --seed 7 --events 4000 --buffer-size 4K -o '%s' >/dev/null 2>&1", path) != 0 ||
        test_capture_buffers(path, &bufs) != ERROR_SUCCESS || bufs.n < 20)
        return -1; /* the project's own generator: no reason to skip */
    return 0;
}

static int teardown(void **state)
{
    test_rmdir(dir);
    test_buffers_free(&bufs);
    return 0;
}

typedef struct feeder {
    PROCESSTRACE_HANDLE h;
    const test_buffers *in;
    size_t junk_at; /* SIZE_MAX: none; else a refused buffer goes in that batch's middle */
    ULONG rc;       /* the first failure */
    ULONG taken;    /* buffers taken in all */
    ULONG junk_batch, junk_taken; /* the refused batch's size and what it took */
} feeder;

static void *feed(void *arg)
{
    feeder *f = arg;
    uint8_t junk[4096];
    size_t i = 0;
    for (unsigned batch = 1; i < f->in->n; batch = batch % 7 + 1) { /* batches of 1 to 7 */
        const ETW_BUFFER_HEADER *b[8];
        ULONG sz[8], n = 0;
        for (; n < batch && i < f->in->n; n++, i++) {
            b[n] = (const ETW_BUFFER_HEADER *)(const void *)f->in->data[i];
            sz[n] = f->in->size[i];
        }
        if (f->junk_at != SIZE_MAX && i > f->junk_at && n >= 2 && f->rc == ERROR_SUCCESS) {
            memcpy(junk, f->in->data[i - 1], sizeof junk);
            memset(junk + 72, 0xEE, sizeof junk - 72); /* records that do not parse */
            b[n - 2] = (const ETW_BUFFER_HEADER *)(const void *)junk;
            sz[n - 2] = sizeof junk;
            ULONG taken = 99;
            f->rc = etwire_stream_add_buffers(f->h, b, sz, n, &taken);
            f->junk_batch = n;
            f->junk_taken = taken;
            f->taken += taken;
            break; /* asserted on the test's thread */
        }
        ULONG taken = 0;
        ULONG rc = etwire_stream_add_buffers(f->h, b, sz, n, &taken);
        if (rc != ERROR_SUCCESS && f->rc == ERROR_SUCCESS)
            f->rc = rc;
        f->taken += taken;
    }
    etwire_stream_end(f->h);
    return NULL;
}

static void WINAPI on_complete(const ETW_BUFFER_HEADER *b, void *ctx)
{
    ((test_events *)ctx)->completions++;
}

static ULONG run(size_t junk_at, test_events *out, feeder *f)
{
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = test_on_event;
    o.EventCallbackContext = out;
    PROCESSTRACE_HANDLE h = OpenTraceFromBufferStream(&o, on_complete, out);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    etwire_stream_set_reorder_window(h, ETWIRE_REORDER_UNBOUNDED);
    *f = (feeder){.h = h, .in = &bufs, .junk_at = junk_at};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, feed, f), 0);
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    pthread_join(t, NULL);
    CloseTrace(h);
    return rc;
}

static void test_batches_deliver_what_single_adds_do(void **state)
{
    test_events one = {0}, batched = {0};
    assert_int_equal(test_collect_stream(&bufs, ETWIRE_REORDER_UNBOUNDED, &one, NULL), ERROR_SUCCESS);
    feeder f;
    assert_int_equal(run(SIZE_MAX, &batched, &f), ERROR_SUCCESS);
    assert_int_equal(f.rc, ERROR_SUCCESS);
    assert_int_equal(f.taken, bufs.n);
    assert_int_equal(batched.completions, bufs.n);
    assert_true(one.n > 3000);
    assert_int_equal(batched.n, one.n);
    for (size_t i = 0; i < one.n; i++)
        assert_true(test_event_same(&one.v[i], &batched.v[i]));
    test_events_free(&one);
    test_events_free(&batched);
}

static void test_refused_buffer_stops_its_batch(void **state)
{
    test_events out = {0};
    feeder f;
    run(bufs.n / 2, &out, &f);
    assert_int_equal(f.rc, ERROR_INVALID_DATA);
    assert_int_equal(f.junk_taken, f.junk_batch - 2); /* the ones before the refused one */
    assert_true(f.taken > 0 && f.taken < bufs.n);
    assert_int_equal(out.completions, f.taken); /* the taken ones complete, no other */
    test_events_free(&out);
}

static void test_bad_arguments(void **state)
{
    ULONG taken = 5;
    const ETW_BUFFER_HEADER *b[1] = {NULL};
    ULONG sz[1] = {4096};
    assert_int_equal(etwire_stream_add_buffers(INVALID_PROCESSTRACE_HANDLE, b, sz, 0, &taken),
                     ERROR_INVALID_HANDLE);
    assert_int_equal(taken, 0);
    ETW_OPEN_TRACE_OPTIONS o = {0};
    PROCESSTRACE_HANDLE h = OpenTraceFromBufferStream(&o, NULL, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(etwire_stream_add_buffers(h, NULL, sz, 1, &taken), ERROR_INVALID_PARAMETER);
    assert_int_equal(etwire_stream_add_buffers(h, b, sz, 1, NULL), ERROR_INVALID_PARAMETER);
    assert_int_equal(etwire_stream_add_buffers(h, b, sz, 1, &taken), ERROR_INVALID_PARAMETER);
    assert_int_equal(taken, 0);
    etwire_stream_end(h);
    b[0] = (const ETW_BUFFER_HEADER *)(const void *)bufs.data[0]; /* ended: nothing is taken */
    sz[0] = bufs.size[0];
    assert_int_equal(etwire_stream_add_buffers(h, b, sz, 1, &taken), ERROR_INVALID_HANDLE);
    assert_int_equal(taken, 0);
    CloseTrace(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_deliver_what_single_adds_do),
        cmocka_unit_test(test_refused_buffer_stops_its_batch),
        cmocka_unit_test(test_bad_arguments),
    };
    return test_exit(cmocka_run_group_tests(tests, setup, teardown));
}
