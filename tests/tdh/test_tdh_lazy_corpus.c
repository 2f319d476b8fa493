/* Lazy schema learning on real traces (src/tdh/sources/embedded_pending.h): every
 * TdhGetEventInformation answer of a lazy run - TDH asked for some events only, so the records
 * of other providers stay kept - equals that of a run that compiles each record at delivery (a
 * bound of one byte), on merged traces with EventSource manifests and MetaData records; and a
 * session closed before any TDH call frees what it kept. */
#include "tdh_test_util.h"

#include <etwire/etwire.h>

#include "tdh/sources/embedded_pending.h"

typedef struct answers {
    uint64_t hash;
    unsigned seen, asked, found;
    size_t kept_after;
} answers;

static answers a;

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static void WINAPI ask(PEVENT_RECORD rec)
{
    /* Events of EventSource and MetaData-described providers, and every 37th other one. */
    int keyed = !(rec->EventHeader.Flags & EVENT_HEADER_FLAG_CLASSIC_HEADER);
    if (!keyed && a.seen++ % 37)
        return;
    a.asked++;
    ULONG size = 0;
    ULONG r = TdhGetEventInformation(rec, 0, NULL, NULL, &size);
    a.hash = mix(a.hash, &r, sizeof r);
    if (r != ERROR_INSUFFICIENT_BUFFER)
        return;
    TRACE_EVENT_INFO *t = malloc(size);
    assert_non_null(t);
    assert_int_equal(TdhGetEventInformation(rec, 0, NULL, t, &size), ERROR_SUCCESS);
    a.hash = mix(a.hash, t, size);
    a.found++;
    free(t);
}

static void WINAPI ignore(PEVENT_RECORD rec)
{
    (void)rec;
}

static answers run(const char *file, PEVENT_RECORD_CALLBACK cb, size_t bound)
{
    etwire_tdh_reset();
    etw_embedded_set_max_bytes(bound);
    memset(&a, 0, sizeof a);
    ETW_OPEN_TRACE_OPTIONS opts = {0};
    opts.EventCallback = cb;
    TRACE_LOGFILE_HEADER hdr;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(file, &opts, &hdr);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    ULONG r = ProcessTrace(&h, 1, NULL, NULL);
    assert_true(r == ERROR_SUCCESS || r == ERROR_FILE_CORRUPT);
    a.kept_after = etw_embedded_pending_bytes();
    CloseTrace(h);
    assert_int_equal(etw_embedded_held_bytes(), 0); /* the session took them along */
    etw_embedded_set_max_bytes(0);
    return a;
}

static void lazy_answers_equal_eager_ones(void **state)
{
    (void)state;
    static const char *const files[] = {"traceevent/net.4.5.2.x86.etl",
                                        "perfview-merged/msbuild-PerfViewData-ptr32-compressed.etl",
                                        "pktmon/demikernel-PktMon-compressed.etl"};
    int ran = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        const char *file = test_corpus_file(files[i]);
        if (!file)
            continue;
        ran++;
        answers eager = run(file, ask, 1);
        answers lazy = run(file, ask, 0);
        assert_true(eager.found > 0);
        assert_int_equal(lazy.asked, eager.asked);
        assert_int_equal(lazy.found, eager.found);
        assert_true(lazy.hash == eager.hash);
        assert_int_equal(eager.kept_after, 0);
        /* A consumer that never asks: the records stay raw until CloseTrace frees them. */
        answers none = run(file, ignore, 0);
        assert_true(none.kept_after > 0);
    }
    if (!ran)
        TEST_SKIP("the corpus traces are absent");
}

static int teardown(void **state)
{
    etw_embedded_set_max_bytes(0);
    return tdh_reset_teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(lazy_answers_equal_eager_ones, teardown),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
