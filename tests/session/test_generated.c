/* ETWIRE_TEST_THREADS: streams are fed from a second thread.
 * The pipeline against the seeded generator, where the right answer is known exactly: every
 * header kind, both pointer sizes, every clock, the per-processor merge with lag and idle
 * processors, old-writer quirks, lost-event flags, time windows, early stops, several handles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "gen_trace.h"

static ULONG collect_path(const char *path, int raw, test_events *out, ETWIRE_SESSION_STATS *st)
{
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.ProcessTraceModes = raw ? ETW_PROCESS_TRACE_MODE_RAW_TIMESTAMP : ETW_PROCESS_TRACE_MODE_NONE;
    o.EventCallback = test_on_event;
    o.EventCallbackContext = out;
    o.BufferCallback = test_on_buffer;
    o.BufferCallbackContext = out;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    if (st)
        etwire_session_get_stats(h, st);
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
    return rc;
}

/* File and unbounded stream both deliver exactly the generated events in time order. */
static void check_config(const etw_gen_config *c)
{
    gen_trace t;
    assert_int_equal(gen_trace_make(c, &t), 0);
    assert_int_equal(gen_trace_write_file(&t), 0);
    test_events file = {0}, stream = {0};
    ETWIRE_SESSION_STATS st;
    assert_int_equal(collect_path(t.path, 1, &file, &st), ERROR_SUCCESS);
    gen_trace_check(&t, &file, 1);
    assert_int_equal(st.EventsLate, 0);
    assert_int_equal(st.BuffersAccepted, t.summary.buffers);
    assert_int_equal(st.BuffersLostFlagged, t.summary.lost_buffers);
    assert_int_equal(file.buffer_callbacks, t.summary.buffers);
    assert_int_equal(test_collect_stream(&t.buffers, ETWIRE_REORDER_UNBOUNDED, &stream, &st),
                     ERROR_SUCCESS);
    assert_int_equal(stream.completions, t.summary.buffers);
    assert_int_equal(stream.n, file.n);
    for (size_t i = 0; i < file.n; i++)
        assert_true(stream.v[i].len == file.v[i].len && stream.v[i].cpu == file.v[i].cpu &&
                    stream.v[i].payload_hash == file.v[i].payload_hash);
    test_events_free(&file);
    test_events_free(&stream);
    gen_trace_free(&t);
}

static void every_kind_pointer_size_and_clock(void **state)
{
    (void)state;
    static const unsigned clocks[] = {ETW_GEN_CLOCK_QPC, ETW_GEN_CLOCK_SYSTEM, ETW_GEN_CLOCK_CYCLES};
    for (unsigned ps = 4; ps <= 8; ps += 4)
        for (size_t k = 0; k < 3; k++) {
            etw_gen_config c = gen_config(1000 + ps * 10 + k, 0);
            c.pointer_size = ps;
            c.clock_type = clocks[k];
            c.processors = 4;
            c.events = 5000;
            c.buffer_size = 4096;
            c.kinds = 0;
            c.max_lag = etw_gen_ticks_per_second(&c) / 4;
            c.header_extension_records = 1;
            check_config(&c);
        }
}

static void all_kinds_in_one_trace_with_idle_processors(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(7, 0);
    c.processors = 16;
    c.idle_processors = 5;
    c.events = 20000;
    c.kinds = ETW_GEN_KINDS_ALL;
    c.buffer_size = 8192;
    c.lost_every = 7;
    gen_trace t;
    assert_int_equal(gen_trace_make(&c, &t), 0);
    assert_true(t.summary.lagging_buffers > 0); /* the merge really has to reorder */
    assert_true(t.summary.lost_buffers > 0);
    /* Equal timestamps on different processors occur, so the tie-break (lower processor
     * first) is checked by the exact comparison in check_config. */
    size_t ties = 0;
    for (size_t i = t.expected.header_records + 1; i < t.expected.n; i++)
        ties += t.expected.v[i].timestamp == t.expected.v[i - 1].timestamp &&
                t.expected.v[i].processor != t.expected.v[i - 1].processor;
    assert_true(ties > 0);
    gen_trace_free(&t);
    check_config(&c);
}

static void old_writer_quirks(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(11, 0);
    c.legacy_context = 1;
    c.saved_offset_zero_in_header = 1;
    c.buffers_written_override = 1;
    c.events = 3000;
    check_config(&c);
}

static void smallest_and_largest_buffers(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(12, 0);
    c.buffer_size = 512;
    c.events = 2000;
    check_config(&c);
    c.buffer_size = 16u << 20;
    c.events = 50000;
    c.processors = 2;
    check_config(&c);
}

/* FILETIME = StartTime + (ts - ts0) * 10^7 / frequency, for each clock. */
static void timestamps_convert_to_filetime(void **state)
{
    (void)state;
    static const unsigned clocks[] = {ETW_GEN_CLOCK_QPC, ETW_GEN_CLOCK_SYSTEM, ETW_GEN_CLOCK_CYCLES};
    for (size_t k = 0; k < 3; k++) {
        etw_gen_config c = gen_config(20 + k, 0);
        c.clock_type = clocks[k];
        c.perf_freq = 3579545;
        c.events = 500;
        gen_trace t;
        assert_int_equal(gen_trace_make(&c, &t), 0);
        assert_int_equal(gen_trace_write_file(&t), 0);
        test_events ev = {0};
        assert_int_equal(collect_path(t.path, 0, &ev, NULL), ERROR_SUCCESS);
        uint64_t freq = etw_gen_ticks_per_second(&c), ts0 = t.summary.first_ts;
        for (size_t i = 0; i < ev.n; i++) {
            uint64_t d = t.expected.v[i].timestamp - ts0;
            /* exact in 64 bits: d % freq * 10^7 fits for any freq below 1.8 THz */
            uint64_t ticks = d / freq * 10000000u + d % freq * 10000000u / freq;
            assert_int_equal(ev.v[i].time, (int64_t)t.summary.start_time + (int64_t)ticks);
        }
        test_events_free(&ev);
        gen_trace_free(&t);
    }
}

static void start_and_end_time_filter(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(30, 4000);
    gen_trace t;
    assert_int_equal(gen_trace_make(&c, &t), 0);
    assert_int_equal(gen_trace_write_file(&t), 0);
    test_events all = {0}, some = {0};
    assert_int_equal(collect_path(t.path, 0, &all, NULL), ERROR_SUCCESS);
    int64_t lo = all.v[all.n / 4].time, hi = all.v[all.n / 2].time;
    size_t want = t.expected.header_records;
    for (size_t i = t.expected.header_records; i < all.n; i++)
        want += all.v[i].time >= lo && all.v[i].time <= hi;
    FILETIME s = {(DWORD)lo, (DWORD)((uint64_t)lo >> 32)}, e = {(DWORD)hi, (DWORD)((uint64_t)hi >> 32)};
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = test_on_event;
    o.EventCallbackContext = &some;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(t.path, &o, NULL);
    assert_int_equal(ProcessTrace(&h, 1, &e, &s), ERROR_INVALID_TIME);
    assert_int_equal(ProcessTrace(&h, 1, &s, &e), ERROR_SUCCESS);
    ETWIRE_SESSION_STATS st;
    etwire_session_get_stats(h, &st);
    CloseTrace(h);
    assert_int_equal(some.n, want);
    assert_int_equal(st.EventsFiltered, all.n - want);
    test_events_free(&all);
    test_events_free(&some);
    gen_trace_free(&t);
}

/* FALSE from the BufferCallback stops with ERROR_CANCELLED; every accepted stream buffer still
 * gets its completion callback, exactly once. */
static void buffer_callback_false_stops(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(40, 6000);
    c.buffer_size = 2048;
    gen_trace t;
    assert_int_equal(gen_trace_make(&c, &t), 0);
    test_events ev = {0};
    ev.stop_after_buffers = 3;
    assert_int_equal(test_collect_stream(&t.buffers, ETWIRE_REORDER_UNBOUNDED, &ev, NULL),
                     ERROR_CANCELLED);
    assert_int_equal(ev.buffer_callbacks, 3);
    assert_int_equal(ev.completions, t.buffers.n);
    assert_true(ev.n < t.expected.n);
    test_events_free(&ev);
    assert_int_equal(gen_trace_write_file(&t), 0);
    ev = (test_events){0};
    ev.stop_after_buffers = 5;
    assert_int_equal(collect_path(t.path, 0, &ev, NULL), ERROR_CANCELLED);
    assert_int_equal(ev.buffer_callbacks, 5);
    test_events_free(&ev);
    gen_trace_free(&t);
}

/* Two traces in one ProcessTrace: one time-ordered sequence, each event to its own callback. */
static void several_handles_merge(void **state)
{
    (void)state;
    gen_trace a, b;
    etw_gen_config c = gen_config(50, 3000);
    assert_int_equal(gen_trace_make(&c, &a), 0);
    c.seed = 51;
    c.processors = 3;
    assert_int_equal(gen_trace_make(&c, &b), 0);
    assert_int_equal(gen_trace_write_file(&a), 0);
    assert_int_equal(gen_trace_write_file(&b), 0);
    test_events ea = {0}, eb = {0}, all = {0};
    ETW_OPEN_TRACE_OPTIONS oa = {0}, ob = {0};
    oa.EventCallback = ob.EventCallback = test_on_event;
    oa.EventCallbackContext = &ea;
    ob.EventCallbackContext = &eb;
    PROCESSTRACE_HANDLE h[2] = {etwire_trace_open_file(a.path, &oa, NULL),
                                etwire_trace_open_file(b.path, &ob, NULL)};
    assert_int_equal(ProcessTrace(h, 2, NULL, NULL), ERROR_SUCCESS);
    CloseTrace(h[0]);
    CloseTrace(h[1]);
    assert_int_equal(ea.n, a.expected.n);
    assert_int_equal(eb.n, b.expected.n);
    /* The same two traces into one collector: a single time-ordered sequence after the two
     * header buffers. */
    oa.EventCallbackContext = ob.EventCallbackContext = &all;
    h[0] = etwire_trace_open_file(a.path, &oa, NULL);
    h[1] = etwire_trace_open_file(b.path, &ob, NULL);
    assert_int_equal(ProcessTrace(h, 2, NULL, NULL), ERROR_SUCCESS);
    CloseTrace(h[0]);
    CloseTrace(h[1]);
    assert_int_equal(all.n, ea.n + eb.n);
    size_t headers = a.expected.header_records + b.expected.header_records;
    for (size_t i = headers + 1; i < all.n; i++)
        assert_true(all.v[i].time >= all.v[i - 1].time);
    test_events_free(&all);
    test_events_free(&ea);
    test_events_free(&eb);
    gen_trace_free(&a);
    gen_trace_free(&b);
}

static size_t classic_events, classic_buffers;
static EVENT_TRACE first_classic;
static int64_t classic_last_time;
static int classic_ordered = 1;

static VOID WINAPI on_classic(PEVENT_TRACE et)
{
    if (classic_events++ == 0)
        first_classic = *et;
    else if (classic_events > 4 && et->Header.TimeStamp.QuadPart < classic_last_time)
        classic_ordered = 0;
    classic_last_time = et->Header.TimeStamp.QuadPart;
}

static ULONG WINAPI on_classic_buffer(PEVENT_TRACE_LOGFILEW lf)
{
    classic_buffers = lf->BuffersRead;
    assert_true(lf->Filled >= 72 && lf->Filled <= lf->BufferSize);
    return TRUE;
}

/* The classic API: OpenTraceW with an EVENT_TRACE EventCallback and the logfile BufferCallback. */
static void classic_open_trace_w(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(60, 5000);
    gen_trace t;
    assert_int_equal(gen_trace_make(&c, &t), 0);
    assert_int_equal(gen_trace_write_file(&t), 0);
    WCHAR path[64];
    for (size_t i = 0; i < sizeof path / sizeof path[0]; i++)
        if (!(path[i] = (WCHAR)(unsigned char)t.path[i]))
            break;
    EVENT_TRACE_LOGFILEW lf;
    memset(&lf, 0, sizeof lf);
    lf.LogFileName = path;
    lf.EventCallback = on_classic;
    lf.BufferCallback = on_classic_buffer;
    PROCESSTRACE_HANDLE h = OpenTraceW(&lf);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(lf.LogfileHeader.NumberOfProcessors, c.processors);
    assert_int_equal(lf.LogfileHeader.PointerSize, c.pointer_size);
    assert_int_equal(lf.LogfileHeader.StartTime.QuadPart, (LONGLONG)t.summary.start_time);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
    assert_int_equal(classic_events, t.expected.n);
    assert_int_equal(classic_buffers, t.summary.buffers);
    assert_true(classic_ordered);
    /* The header event: EventTraceGuid, type 0, the TRACE_LOGFILE_HEADER as MOF data. */
    assert_true(!memcmp(&first_classic.Header.Guid, &EventTraceGuid, sizeof(GUID)));
    assert_int_equal(first_classic.Header.Class.Type, 0);
    assert_int_equal(first_classic.MofLength, t.expected.v[0].payload_length);
    gen_trace_free(&t);
}

static PROCESSTRACE_HANDLE close_me;
static size_t close_after, seen_before_close;
static ULONG close_rc;

static VOID WINAPI close_from_callback(PEVENT_RECORD er)
{
    (void)er;
    if (++seen_before_close == close_after)
        close_rc = CloseTrace(close_me);
}

/* CloseTrace from inside the EventCallback of a file session: ERROR_CTX_CLOSE_PENDING, the file
 * is read no further, ProcessTrace returns, and the handle is gone. */
static void close_file_from_callback(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(70, 20000);
    c.buffer_size = 4096;
    gen_trace t;
    assert_int_equal(gen_trace_make(&c, &t), 0);
    assert_int_equal(gen_trace_write_file(&t), 0);
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = close_from_callback;
    close_me = etwire_trace_open_file(t.path, &o, NULL);
    close_after = 100;
    seen_before_close = 0;
    assert_int_equal(ProcessTrace(&close_me, 1, NULL, NULL), ERROR_SUCCESS);
    assert_int_equal(close_rc, ERROR_CTX_CLOSE_PENDING);
    print_message("closed after %zu, saw %zu of %zu\n", close_after, seen_before_close, t.expected.n);
    assert_true(seen_before_close < t.expected.n / 2);
    assert_int_equal(CloseTrace(close_me), ERROR_INVALID_HANDLE);
    gen_trace_free(&t);
}

/* A file and a buffer stream in one ProcessTrace: every event of both, in one time order. */
static void file_and_stream_together(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(80, 4000);
    gen_trace a, b;
    assert_int_equal(gen_trace_make(&c, &a), 0);
    c.seed = 81;
    assert_int_equal(gen_trace_make(&c, &b), 0);
    assert_int_equal(gen_trace_write_file(&a), 0);
    test_events all = {0};
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = test_on_event;
    o.EventCallbackContext = &all;
    PROCESSTRACE_HANDLE h[2];
    h[0] = etwire_trace_open_file(a.path, &o, NULL);
    h[1] = OpenTraceFromBufferStream(&o, NULL, NULL);
    etwire_stream_set_reorder_window(h[1], ETWIRE_REORDER_UNBOUNDED);
    for (size_t i = 0; i < b.buffers.n; i++)
        assert_int_equal(ProcessTraceAddBufferToBufferStream(
                             h[1], (const ETW_BUFFER_HEADER *)(const void *)b.buffers.data[i],
                             b.buffers.size[i]),
                         ERROR_SUCCESS);
    etwire_stream_end(h[1]);
    assert_int_equal(ProcessTrace(h, 2, NULL, NULL), ERROR_SUCCESS);
    CloseTrace(h[0]);
    CloseTrace(h[1]);
    assert_int_equal(all.n, a.expected.n + b.expected.n);
    size_t headers = a.expected.header_records + b.expected.header_records;
    for (size_t i = headers + 1; i < all.n; i++)
        assert_true(all.v[i].time >= all.v[i - 1].time);
    test_events_free(&all);
    gen_trace_free(&a);
    gen_trace_free(&b);
}

/* The memory bound releases events early: with everything queued and a bound far below it,
 * every event is still delivered, some late (the trace has cross-processor lag), and the late
 * count says how many. With no bound the same buffers give none late. */
static void memory_bound_forces_release(void **state)
{
    (void)state;
    etw_gen_config c = gen_config(90, 20000);
    c.processors = 8;
    c.buffer_size = 4096;
    c.max_lag = etw_gen_ticks_per_second(&c) / 20;
    gen_trace t;
    assert_int_equal(gen_trace_make(&c, &t), 0);
    for (int bounded = 0; bounded <= 1; bounded++) {
        test_events ev = {0};
        ETW_OPEN_TRACE_OPTIONS o = {0};
        o.EventCallback = test_on_event;
        o.EventCallbackContext = &ev;
        PROCESSTRACE_HANDLE h = OpenTraceFromBufferStream(&o, NULL, NULL);
        etwire_stream_set_reorder_window(h, ETWIRE_REORDER_UNBOUNDED);
        if (bounded)
            etwire_stream_set_memory_limit(h, 16 * 4096);
        for (size_t i = 0; i < t.buffers.n; i++)
            assert_int_equal(ProcessTraceAddBufferToBufferStream(
                                 h, (const ETW_BUFFER_HEADER *)(const void *)t.buffers.data[i],
                                 t.buffers.size[i]),
                             ERROR_SUCCESS);
        etwire_stream_end(h);
        assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
        ETWIRE_SESSION_STATS st;
        etwire_session_get_stats(h, &st);
        CloseTrace(h);
        assert_int_equal(ev.n, t.expected.n);
        if (bounded)
            assert_true(st.EventsLate > 0);
        else
            assert_int_equal(st.EventsLate, 0);
        test_events_free(&ev);
    }
    gen_trace_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_kind_pointer_size_and_clock),
        cmocka_unit_test(all_kinds_in_one_trace_with_idle_processors),
        cmocka_unit_test(old_writer_quirks),
        cmocka_unit_test(smallest_and_largest_buffers),
        cmocka_unit_test(timestamps_convert_to_filetime),
        cmocka_unit_test(start_and_end_time_filter),
        cmocka_unit_test(buffer_callback_false_stops),
        cmocka_unit_test(several_handles_merge),
        cmocka_unit_test(classic_open_trace_w),
        cmocka_unit_test(close_file_from_callback),
        cmocka_unit_test(file_and_stream_together),
        cmocka_unit_test(memory_bound_forces_release),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
