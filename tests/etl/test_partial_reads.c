/* A consumer without a BufferCallback gets each file buffer read only up to its filled offset,
 * each processor's next buffer read when the merge waits for it rather than in flush order,
 * and buffers freed as soon as their events are out (src/etl/file_session.c): the events must
 * be exactly those a consumer with a BufferCallback (whole buffers in flush order) gets - on generated traces with mostly empty 1 MiB buffers and on every
 * corpus trace (skipped when ../shared/corpus is absent). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gen_trace.h"

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

static void corpus(void **state)
{
    (void)state;
    char **paths;
    size_t n = test_corpus_files(&paths);
    if (!n) {
        print_message("../shared/corpus is absent: skipped\n");
        skip();
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
