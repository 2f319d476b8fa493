/* Offsets learned once per event layout (context/fixed_field.c) against TdhGetProperty: on
 * every kernel Image event of real traces, ProcessId and FileName read at the learned offsets
 * give the bytes TDH gives, and the fast path is taken on the common layouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include <etwire/etwire.h>
#include <etwire/tdh.h>

#include "base/text.h"
#include "collect.h"
#include "context/fixed_field.h"

static const GUID image_class = {0x2cb15d1d, 0x5fc1, 0x11d2, {0xab, 0xe1, 0x00, 0xa0, 0xc9, 0x11, 0xf5, 0x18}};

typedef struct run {
    etw_fixed_field_memo pid, file;
    unsigned long long images, fast_pid, fast_file;
} run;

static ULONG tdh_property(PEVENT_RECORD er, const uint16_t *name, uint8_t *buf, ULONG cap)
{
    PROPERTY_DATA_DESCRIPTOR d;
    memset(&d, 0, sizeof d);
    d.PropertyName = (ULONGLONG)(uintptr_t)name;
    d.ArrayIndex = 0xFFFFFFFFu;
    ULONG size = 0;
    if (TdhGetPropertySize(er, 0, NULL, 1, &d, &size) != ERROR_SUCCESS || size > cap)
        return 0;
    assert_int_equal(TdhGetProperty(er, 0, NULL, 1, &d, cap, buf), ERROR_SUCCESS);
    return size;
}

static void WINAPI on_event(PEVENT_RECORD er)
{
    run *r = er->UserContext;
    if (memcmp(&er->EventHeader.ProviderId, &image_class, sizeof(GUID)))
        return;
    r->images++;
    uint8_t want[4096];
    const uint8_t *data = er->UserData;
    int32_t at = etw_fixed_field_offset(&r->pid, er, u"ProcessId", ETW_FIELD_U32);
    if (at >= 0 && (uint32_t)at + 4 <= er->UserDataLength) {
        r->fast_pid++;
        assert_int_equal(tdh_property(er, u"ProcessId", want, sizeof want), 4);
        assert_memory_equal(data + at, want, 4);
    }
    at = etw_fixed_field_offset(&r->file, er, u"FileName", ETW_FIELD_WSTR);
    if (at >= 0 && (uint32_t)at <= er->UserDataLength) {
        r->fast_file++;
        size_t rest = er->UserDataLength - (uint32_t)at;
        int term = 0;
        size_t n = rest ? etw_utf16_span(data + at, rest, &term) : 0;
        n = term ? n + 2 : rest;
        ULONG got = tdh_property(er, u"FileName", want, sizeof want);
        assert_int_equal(got, n);
        assert_memory_equal(data + at, want, n);
    }
}

static void image_events_of(const char *rel)
{
    const char *dir = test_corpus_dir();
    if (!dir)
        TEST_SKIP("../shared/corpus is absent");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    run r;
    memset(&r, 0, sizeof r);
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = on_event;
    o.EventCallbackContext = &r;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    CloseTrace(h);
    /* Image rundowns and loads (v2/v3 layouts) have fixed-size fields before both; measured:
     * all but two Image events (other opcodes) per trace. */
    assert_true(r.images > 1000);
    assert_true(r.fast_pid * 100 >= r.images * 99);
    assert_true(r.fast_file * 100 >= r.images * 99);
}

static void kernel_trace(void **state)
{
    (void)state;
    image_events_of("traceevent/diaghub/diaghub.kernel.1.etl");
}

static void shutdown_trace(void **state)
{
    (void)state;
    image_events_of("airbus-etl-parser/ShutdownPerfDiagLogger.etl");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kernel_trace),
        cmocka_unit_test(shutdown_trace),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
