/* ETWIRE_TEST_THREADS: buffer streams are fed from a second thread.
 * Every real trace in ../shared/corpus, through every way in: etwire_trace_open_file,
 * OpenTraceFromFile (UTF-16 path), OpenTraceA, and a buffer stream fed from another thread
 * with the buffers a relaying BufferCallback produces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#include "base/text.h"
#include "collect.h"

static char **files;
static size_t nfiles;

static int setup(void **state)
{
    (void)state;
    nfiles = test_corpus_files(&files);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_free_paths(files, nfiles);
    return 0;
}

#define NEED_CORPUS()                                                                              \
    do {                                                                                           \
        if (!nfiles)                                                                               \
            TEST_SKIP("../shared/corpus is absent");                                               \
    } while (0)

/* Every record is an event, nothing is lost, and delivery is in time order. */
static void every_file_delivers_every_record(void **state)
{
    (void)state;
    NEED_CORPUS();
    for (size_t i = 0; i < nfiles; i++) {
        test_events ev = {0};
        ETWIRE_SESSION_STATS st;
        ULONG rc = test_collect_file(files[i], &ev, &st);
        uint64_t records = test_count_records(files[i]);
        if (rc != ERROR_SUCCESS || ev.n != records)
            print_error("%s: rc %u, %zu events, %llu records\n", files[i], rc, ev.n,
                        (unsigned long long)records);
        assert_int_equal(rc, ERROR_SUCCESS);
        assert_int_equal(ev.n, records);
        assert_int_equal(st.EventsDelivered, records);
        assert_int_equal(st.BadRecords, 0);
        assert_int_equal(st.EventsLate, 0);
        assert_int_equal(ev.buffer_callbacks, st.BuffersAccepted);
        for (size_t k = 1; k < ev.n; k++)
            if (ev.v[k].time < ev.v[k - 1].time) {
                print_error("%s: event %zu earlier than event %zu\n", files[i], k, k - 1);
                fail();
            }
        /* The log-file header event comes first, from EventTraceGuid with opcode 0. */
        assert_true(etw_guid_equal(&ev.v[0].provider, &EventTraceGuid));
        assert_int_equal(ev.v[0].desc.Opcode, 0);
        test_events_free(&ev);
    }
}

static void assert_same_sequence(const char *path, const test_events *a, const test_events *b)
{
    if (a->n != b->n)
        print_error("%s: %zu vs %zu events\n", path, a->n, b->n);
    assert_int_equal(a->n, b->n);
    for (size_t k = 0; k < a->n; k++)
        if (!test_event_same(&a->v[k], &b->v[k])) {
            print_error("%s: event %zu differs\n", path, k);
            fail();
        }
}

static ULONG collect_open_trace_a(const char *path, test_events *out)
{
    EVENT_TRACE_LOGFILEA lf;
    memset(&lf, 0, sizeof lf);
    lf.LogFileName = (char *)path;
    lf.ProcessTraceMode = PROCESS_TRACE_MODE_EVENT_RECORD;
    lf.EventRecordCallback = test_on_event;
    lf.Context = out;
    PROCESSTRACE_HANDLE h = OpenTraceA(&lf);
    if (h == INVALID_PROCESSTRACE_HANDLE)
        return GetLastError();
    assert_true(lf.LogfileHeader.BufferSize > 0);
    assert_true(lf.LogfileHeader.PointerSize == 4 || lf.LogfileHeader.PointerSize == 8);
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    assert_int_equal(CloseTrace(h), ERROR_SUCCESS);
    return rc;
}

static ULONG collect_wide(const char *path, test_events *out)
{
    WCHAR wpath[4096];
    assert_true(etw_utf8_to_utf16(path, wpath, 4096) != (size_t)-1);
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = test_on_event;
    o.EventCallbackContext = out;
    TRACE_LOGFILE_HEADER hdr;
    PROCESSTRACE_HANDLE h = OpenTraceFromFile(wpath, &o, &hdr);
    if (h == INVALID_PROCESSTRACE_HANDLE)
        return GetLastError();
    assert_true(hdr.NumberOfProcessors > 0);
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    CloseTrace(h);
    return rc;
}

static void open_trace_paths_agree(void **state)
{
    (void)state;
    NEED_CORPUS();
    for (size_t i = 0; i < nfiles; i++) {
        test_events a = {0}, b = {0}, c = {0};
        assert_int_equal(test_collect_file(files[i], &a, NULL), ERROR_SUCCESS);
        assert_int_equal(collect_open_trace_a(files[i], &b), ERROR_SUCCESS);
        assert_int_equal(collect_wide(files[i], &c), ERROR_SUCCESS);
        assert_same_sequence(files[i], &a, &b);
        assert_same_sequence(files[i], &a, &c);
        test_events_free(&a);
        test_events_free(&b);
        test_events_free(&c);
    }
}

/* Reads a file, then relays its buffers (as its BufferCallback hands them out) into a buffer
 * stream with the given reorder window, fed from a second thread. */
typedef struct file_vs_stream {
    test_events file, stream;
    test_buffers bufs;
    ETWIRE_SESSION_STATS st;
} file_vs_stream;

static void run_file_and_stream(const char *path, uint64_t window, file_vs_stream *r)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(test_collect_file(path, &r->file, NULL), ERROR_SUCCESS);
    assert_int_equal(test_capture_buffers(path, &r->bufs), ERROR_SUCCESS);
    assert_int_equal(test_collect_stream(&r->bufs, window, &r->stream, &r->st), ERROR_SUCCESS);
    assert_int_equal(r->stream.n, r->file.n);
    assert_int_equal(r->stream.completions, r->bufs.n);
    assert_int_equal(r->st.BytesHeld, 0);
}

static void free_file_and_stream(file_vs_stream *r)
{
    test_buffers_free(&r->bufs);
    test_events_free(&r->file);
    test_events_free(&r->stream);
}

/* With an unbounded window a stream replay is the file, event for event. */
static void stream_unbounded_equals_file(void **state)
{
    (void)state;
    NEED_CORPUS();
    for (size_t i = 0; i < nfiles; i++) {
        file_vs_stream r;
        run_file_and_stream(files[i], ETWIRE_REORDER_UNBOUNDED, &r);
        assert_same_sequence(files[i], &r.file, &r.stream);
        assert_int_equal(r.stream.buffer_callbacks, r.bufs.n);
        assert_int_equal(r.st.EventsLate, 0);
        free_file_and_stream(&r);
    }
}

/* With the default (live) window the stream may deliver some events late; taking those out,
 * what remains is in the file's order, and nothing is missing. */
static void stream_default_window_is_file_order_but_late(void **state)
{
    (void)state;
    NEED_CORPUS();
    for (size_t i = 0; i < nfiles; i++) {
        file_vs_stream r;
        run_file_and_stream(files[i], ETWIRE_REORDER_DEFAULT, &r);
        const test_events file = r.file, stream = r.stream;
        /* The header buffer's records lead both sequences. */
        size_t header_records = 1;
        while (header_records < file.n &&
               etw_guid_equal(&file.v[header_records].provider, &EventTraceGuid) &&
               file.v[header_records].time == file.v[0].time)
            header_records++;
        int64_t newest = INT64_MIN;
        uint32_t newest_cpu = 0;
        uint64_t late = 0;
        size_t j = 0;
        for (size_t k = 0; k < stream.n; k++) {
            const test_event *e = &stream.v[k];
            /* Merge order is time, then processor: anything sorting before the newest event
             * delivered so far was let out late. */
            if (k >= header_records &&
                (e->time < newest || (e->time == newest && e->cpu < newest_cpu))) {
                late++;
                continue;
            }
            if (k >= header_records) {
                newest = e->time;
                newest_cpu = e->cpu;
            }
            while (j < file.n && !test_event_same(&file.v[j], &stream.v[k]))
                j++;
            if (j == file.n) {
                print_error("%s: stream event %zu out of the file's order\n", files[i], k);
                fail();
            }
            j++;
        }
        assert_int_equal(late, r.st.EventsLate);
        free_file_and_stream(&r);
    }
}

static ETWIRE_DIAGNOSTIC last_diag;
static char last_msg[512];

static void keep_diag(const ETWIRE_DIAGNOSTIC *d, void *ctx)
{
    (void)ctx;
    last_diag = *d;
    snprintf(last_msg, sizeof last_msg, "%s", d->Message);
}

static void damaged_file_fails_naming_buffer_and_offset(void **state)
{
    (void)state;
    NEED_CORPUS();
    char path[4096];
    snprintf(path, sizeof path, "%s/invalid/ExplorerStartupLog-win10-nul-to-space.etl",
             test_corpus_dir());
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = test_on_event;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    assert_true(h == INVALID_PROCESSTRACE_HANDLE);
    assert_int_not_equal(etwire_last_error(), ERROR_SUCCESS);
    assert_non_null(strstr(etwire_last_error_message(), "buffer 0 at offset 0"));
    (void)keep_diag;
}

/* A file cut in the middle of a buffer: the cut buffer is reported by number and offset, the
 * buffers before it are all delivered. */
static void truncated_file_reports_the_cut_buffer(void **state)
{
    (void)state;
    NEED_CORPUS();
    char src[4096], dst[] = "/tmp/etwire-test-truncated-XXXXXX";
    snprintf(src, sizeof src, "%s/tx/Process.etl", test_corpus_dir());
    FILE *in = fopen(src, "rb");
    assert_non_null(in);
    int fd = mkstemp(dst);
    assert_true(fd >= 0);
    FILE *out = fdopen(fd, "wb");
    char buf[8192];
    size_t cut = 8192 * 20 + 1000, done = 0, got;
    while (done < cut && (got = fread(buf, 1, sizeof buf < cut - done ? sizeof buf : cut - done, in)) > 0) {
        fwrite(buf, 1, got, out);
        done += got;
    }
    fclose(in);
    fclose(out);
    test_events ev = {0};
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = test_on_event;
    o.EventCallbackContext = &ev;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(dst, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    etwire_session_set_diagnostic_callback(h, keep_diag, NULL);
    last_msg[0] = 0;
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_FILE_CORRUPT);
    assert_int_equal(last_diag.BufferIndex, 20);
    assert_int_equal(last_diag.Offset, 8192 * 20);
    assert_non_null(strstr(last_msg, "buffer 20 at offset 163840"));
    ETWIRE_SESSION_STATS st;
    etwire_session_get_stats(h, &st);
    assert_int_equal(st.BuffersAccepted, 20);
    assert_true(ev.n > 20);
    CloseTrace(h);
    unlink(dst);
    test_events_free(&ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_file_delivers_every_record),
        cmocka_unit_test(open_trace_paths_agree),
        cmocka_unit_test(stream_unbounded_equals_file),
        cmocka_unit_test(stream_default_window_is_file_order_but_late),
        cmocka_unit_test(damaged_file_fails_naming_buffer_and_offset),
        cmocka_unit_test(truncated_file_reports_the_cut_buffer),
    };
    return test_exit(cmocka_run_group_tests(tests, setup, teardown));
}
