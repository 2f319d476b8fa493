/* Embedded schemas are learned by the session, not by the caller (issue 10 item 1): a consumer
 * that ignores every event but the packet events of pktmon/demikernel-PktMon-compressed.etl —
 * never passing the trace's KernelTraceControl EventInfo/EventMapInfo records to TDH — still
 * decodes every packet event with TdhGetEventInformation / TdhGetPropertySize / TdhGetProperty,
 * as on Windows. The built-in schemas are turned off so that only the trace's own schemas can
 * answer. Also: a time filter that skips the schema records does not hide them. */
#include "tdh_test_util.h"

#include <stdio.h>
#include <sys/stat.h>

#include <etwire/etwire.h>

#include "collect.h"

static const GUID pktmon = {0x4d4f80d9, 0xc8bd, 0x4d73, {0xbb, 0x5b, 0x19, 0xc9, 0x04, 0x02, 0xc5, 0xac}};

typedef struct tally {
    unsigned packets, described, properties_read, failures;
    uint8_t payload_first[8];
    int have_payload;
    LONGLONG first_packet;
} tally;

static tally t;

/* Reads every top-level property of a packet event through the Windows-named API. */
static void WINAPI on_event(PEVENT_RECORD rec)
{
    if (memcmp(&rec->EventHeader.ProviderId, &pktmon, sizeof pktmon) != 0 || rec->EventHeader.EventDescriptor.Id != 160)
        return; /* everything else, the schema records included, is ignored */
    if (!t.packets++)
        t.first_packet = rec->EventHeader.TimeStamp.QuadPart;
    ULONG size = 0;
    if (TdhGetEventInformation(rec, 0, NULL, NULL, &size) != ERROR_INSUFFICIENT_BUFFER) {
        t.failures++;
        return;
    }
    TRACE_EVENT_INFO *tei = malloc(size);
    if (!tei || TdhGetEventInformation(rec, 0, NULL, tei, &size) != ERROR_SUCCESS) {
        free(tei);
        t.failures++;
        return;
    }
    t.described++;
    for (ULONG i = 0; i < tei->TopLevelPropertyCount; i++) {
        PROPERTY_DATA_DESCRIPTOR d = {0};
        d.PropertyName = (ULONGLONG)(uintptr_t)((uint8_t *)tei + props_of(tei)[i].NameOffset);
        d.ArrayIndex = 0xFFFFFFFFu; /* the whole property */
        ULONG psize = 0;
        uint8_t buf[4096];
        if (TdhGetPropertySize(rec, 0, NULL, 1, &d, &psize) != ERROR_SUCCESS || psize > sizeof buf ||
            TdhGetProperty(rec, 0, NULL, 1, &d, psize, buf) != ERROR_SUCCESS) {
            t.failures++;
            continue;
        }
        t.properties_read++;
        /* The captured frame: "Payload", the last property, its bytes the payload's tail. */
        if (i + 1 == tei->TopLevelPropertyCount && psize >= 8 && !t.have_payload) {
            memcpy(t.payload_first, buf, 8);
            t.have_payload = 1;
            const uint8_t *user = rec->UserData;
            assert_memory_equal(buf, user + rec->UserDataLength - psize, psize);
        }
    }
    free(tei);
}

static char trace[1024];

static int have_trace(void)
{
    const char *dir = test_corpus_dir();
    struct stat st;
    if (!dir)
        return 0;
    snprintf(trace, sizeof trace, "%s/pktmon/demikernel-PktMon-compressed.etl", dir);
    return stat(trace, &st) == 0;
}

static void run(const ETW_OPEN_TRACE_OPTIONS *opts, LONGLONG start)
{
    memset(&t, 0, sizeof t);
    TRACE_LOGFILE_HEADER hdr;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(trace, opts, &hdr);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    FILETIME from = {(DWORD)start, (DWORD)((ULONGLONG)start >> 32)};
    assert_int_equal(ProcessTrace(&h, 1, start ? &from : NULL, NULL), ERROR_SUCCESS);
    CloseTrace(h);
}

static void packets_decode_without_seeing_schemas(void **state)
{
    (void)state;
    if (!have_trace())
        TEST_SKIP("the corpus trace is absent");
    etwire_tdh_reset();
    etwire_tdh_use_builtin_schemas(0);
    ETW_OPEN_TRACE_OPTIONS opts = {0};
    opts.EventCallback = on_event;
    run(&opts, 0);
    assert_int_equal(t.packets, 114);
    assert_int_equal(t.described, 114);
    assert_int_equal(t.failures, 0);
    assert_true(t.properties_read >= 114 * 10);
    assert_true(t.have_payload);
    /* From just after the first packet: the schema records (logged at its time) are not
     * delivered, and still the later packets decode. */
    run(&opts, t.first_packet + 1);
    etwire_tdh_use_builtin_schemas(1);
    assert_true(t.packets > 0 && t.packets < 114);
    assert_int_equal(t.described, t.packets);
    assert_int_equal(t.failures, 0);
    /* What the trace taught went with its session. */
    EVENT_RECORD r = {0};
    r.EventHeader.ProviderId = pktmon;
    r.EventHeader.EventDescriptor.Id = 160;
    r.EventHeader.Flags = EVENT_HEADER_FLAG_64_BIT_HEADER;
    ULONG size = 0;
    etwire_tdh_use_builtin_schemas(0);
    assert_int_equal(TdhGetEventInformation(&r, 0, NULL, NULL, &size), ERROR_NOT_FOUND);
    etwire_tdh_use_builtin_schemas(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(packets_decode_without_seeing_schemas, tdh_reset_teardown),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
