/* The EVENT_RECORD a callback receives is the merge's own, filled when the record was parsed
 * (src/session/deliver.h), not a copy. A consumer may write into it (some do: UserContext,
 * flags, their own bookkeeping); nothing it writes may change what later events look like or
 * the order they come in. Compared here against the generator's expectations (every record
 * kind, extended items, several processors sharing the merge, both callback forms) and, on
 * the corpus, against a run whose callback only reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gen_trace.h"
#include "harness.h"

/* Records the event, then overwrites every byte of the record and of its extended items. */
static void WINAPI scribble(PEVENT_RECORD er)
{
    test_events_add(er->UserContext, er);
    for (USHORT i = 0; i < er->ExtendedDataCount; i++)
        memset(&er->ExtendedData[i], 0xA5, sizeof er->ExtendedData[i]);
    memset(er, 0xA5, sizeof *er);
}

static ULONG collect(const char *path, PEVENT_RECORD_CALLBACK cb, int raw, test_events *out)
{
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.ProcessTraceModes = raw ? ETW_PROCESS_TRACE_MODE_RAW_TIMESTAMP : ETW_PROCESS_TRACE_MODE_NONE;
    o.EventCallback = cb;
    o.EventCallbackContext = out;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
    return rc;
}

static void generated_events_survive_a_scribbling_callback(void **state)
{
    (void)state;
    for (unsigned ps = 4; ps <= 8; ps += 4) {
        etw_gen_config c = gen_config(4242 + ps, 20000);
        c.pointer_size = ps;
        c.processors = 6;
        c.buffer_size = 8192;
        c.kinds = 0; /* every kind of the pointer size: extended items, WPP, instance GUIDs */
        c.max_lag = etw_gen_ticks_per_second(&c) / 8;
        gen_trace t;
        assert_int_equal(gen_trace_make(&c, &t), 0);
        assert_int_equal(gen_trace_write_file(&t), 0);
        test_events got = {0};
        assert_int_equal(collect(t.path, scribble, 1, &got), ERROR_SUCCESS);
        gen_trace_check(&t, &got, 1);
        test_events_free(&got);
        gen_trace_free(&t);
    }
}

static void corpus_events_survive_a_scribbling_callback(void **state)
{
    (void)state;
    TEST_NEED_CORPUS();
    char **files;
    size_t n = test_corpus_files(&files);
    if (!n)
        TEST_SKIP("no traces in ../shared/corpus");
    size_t compared = 0;
    for (size_t i = 0; i < n; i++) {
        test_events plain = {0}, scribbled = {0};
        ULONG a = collect(files[i], test_on_event, 0, &plain);
        ULONG b = collect(files[i], scribble, 0, &scribbled);
        assert_int_equal(a, b);
        assert_int_equal(plain.n, scribbled.n);
        for (size_t e = 0; e < plain.n; e++)
            if (!test_event_same(&plain.v[e], &scribbled.v[e]))
                fail_msg("%s: event %zu differs after a callback wrote into an earlier record",
                         files[i], e);
        compared += plain.n;
        test_events_free(&plain);
        test_events_free(&scribbled);
    }
    assert_true(compared > 0);
    test_free_paths(files, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generated_events_survive_a_scribbling_callback),
        cmocka_unit_test(corpus_events_survive_a_scribbling_callback),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
