/* etwire against Microsoft's TraceEvent (which reads through Windows' own ETW consumer): every
 * event an oracle lists is matched to exactly one event of etwire's, in the same order (a row
 * never reuses the event of the row before), with the same relative time, processor and
 * payload length, and the same process and thread ids — except for the NT kernel's classic
 * events ("Windows Kernel/..."), whose process and thread TraceEvent rewrites from fields of the
 * payload (a Process/DCStart event carries the logging thread's ids in its header; TraceEvent
 * shows the started process and -1), which is decoding, not delivery. Relative times are
 * compared to within 1 µs: TraceEvent rounds a double, etwire's FILETIME is exact to 100 ns.
 * The oracle lists the first events of each name in time order, so etwire must not deliver more:
 * an unlisted event of a listed kind (provider, id, task, opcode) before a listed one of that
 * kind is an extra event, and a listed event delivered twice is a doubled one - both fail.
 * (TraceEvent leaves out the profile samples of idle processors, which the trace holds: those
 * are not counted as extra, by the rule test_tdh_oracle.c documents.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "collect.h"

typedef struct oracle_row {
    int64_t micros; /* relative time in µs */
    char name[128];
    int64_t pid, tid;
    unsigned cpu, len;
} oracle_row;

static int parse_row(const char *line, oracle_row *r)
{
    char num[32];
    size_t k = 0;
    const char *p = line + 6;
    while (*p && *p != ':' && k + 1 < sizeof num) {
        if (*p != ',')
            num[k++] = *p;
        p++;
    }
    num[k] = 0;
    r->micros = (int64_t)(atof(num) * 1000.0 + (num[0] == '-' ? -0.5 : 0.5));
    if (*p++ != ':' || *p++ != ' ')
        return -1;
    const char *pid = strstr(p, " PID=");
    if (!pid || (size_t)(pid - p) >= sizeof r->name)
        return -1;
    memcpy(r->name, p, (size_t)(pid - p));
    r->name[pid - p] = 0;
    const char *tid = strstr(pid, "TID="), *cpu = strstr(pid, "ProceNum="), *len = strstr(pid, "DataLen=");
    if (!tid || !cpu || !len)
        return -1;
    r->pid = atoll(pid + 5);
    r->tid = atoll(tid + 4);
    r->cpu = (unsigned)atoi(cpu + 9);
    r->len = (unsigned)atoi(len + 8);
    return 0;
}

/* The kind an oracle name stands for: TraceEvent names an event Provider/Task/Opcode from
 * these fields. */
static int same_kind(const test_event *a, const test_event *b)
{
    return !memcmp(&a->provider, &b->provider, sizeof a->provider) && a->desc.Id == b->desc.Id &&
           a->desc.Task == b->desc.Task && a->desc.Opcode == b->desc.Opcode;
}

/* The kernel's PerfInfo/Sample of an idle processor (ThreadId 0 in the payload, neither DPC nor
 * ISR): TraceEvent drops these. */
static const GUID perfinfo_guid = {0xce1dbfb4, 0x137e, 0x4da6, {0x87, 0xb0, 0x3f, 0x59, 0xaa, 0x10, 0x2c, 0xbc}};

typedef struct oracle_session {
    test_events ev;
    unsigned char *idle; /* per event: an idle-processor sample */
    size_t idle_cap;
} oracle_session;

static oracle_session *current;

static void WINAPI on_event(PEVENT_RECORD er)
{
    oracle_session *o = current;
    size_t i = o->ev.n;
    test_events_add(&o->ev, er);
    if (i >= o->idle_cap) {
        o->idle_cap = o->idle_cap ? o->idle_cap * 2 : 4096;
        o->idle = realloc(o->idle, o->idle_cap);
        assert_non_null(o->idle);
    }
    int idle = 0;
    if (!memcmp(&er->EventHeader.ProviderId, &perfinfo_guid, sizeof(GUID)) &&
        er->EventHeader.EventDescriptor.Opcode == 46) {
        unsigned p = (er->EventHeader.Flags & EVENT_HEADER_FLAG_32_BIT_HEADER) ? 4 : 8;
        const unsigned char *d = er->UserData;
        if (er->UserDataLength >= p + 8)
            idle = (d[p] | d[p + 1] | d[p + 2] | d[p + 3]) == 0 && (d[p + 6] & 3) == 0;
    }
    o->idle[i] = (unsigned char)idle;
}

static void check_oracle(const char *trace, const char *oracle)
{
    const char *dir = test_corpus_dir();
    if (!dir) {
        TEST_SKIP("../shared/corpus is absent");
    }
    char tpath[4096], opath[4096];
    snprintf(tpath, sizeof tpath, "%s/traceevent/%s", dir, trace);
    snprintf(opath, sizeof opath, "%s/oracles/traceevent/%s", dir, oracle);
    oracle_session o;
    memset(&o, 0, sizeof o);
    current = &o;
    ETW_OPEN_TRACE_OPTIONS opts;
    memset(&opts, 0, sizeof opts);
    opts.EventCallback = on_event;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(tpath, &opts, NULL);
    assert_true(h != INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(ProcessTrace(&h, 1, NULL, NULL), ERROR_SUCCESS);
    CloseTrace(h);
    const test_events *ev = &o.ev;
    assert_true(ev->n > 0);
    unsigned char *matched = calloc(ev->n, 1);
    assert_non_null(matched);
    FILE *f = fopen(opath, "r");
    assert_non_null(f);
    char line[8192];
    size_t pos = 0, rows = 0, kernel = 0;
    int64_t t0 = ev->v[0].time;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "EVENT ", 6) != 0)
            continue;
        oracle_row r;
        assert_int_equal(parse_row(line, &r), 0);
        int is_kernel = !strncmp(r.name, "Windows Kernel/", 15);
        size_t i = pos;
        for (; i < ev->n; i++) {
            const test_event *e = &ev->v[i];
            int64_t us = (e->time - t0 + (e->time >= t0 ? 5 : -5)) / 10;
            if (llabs(us - r.micros) > 1 || e->cpu != r.cpu || e->len != r.len)
                continue;
            if (!is_kernel && ((uint32_t)r.pid != e->pid || (uint32_t)r.tid != e->tid))
                continue;
            break;
        }
        if (i == ev->n) {
            print_error("%s: not found after event %zu: %s", oracle, pos, line);
            fail();
        }
        matched[i] = 1;
        pos = i + 1; /* the next row must match a later event: one event per row */
        rows++;
        kernel += (size_t)is_kernel;
    }
    fclose(f);
    /* Extra or doubled events: an unlisted event of a listed kind before a listed one. */
    size_t extra = 0;
    for (size_t i = 0; i < ev->n; i++) {
        if (!matched[i])
            continue;
        for (size_t j = 0; j < i; j++) {
            if (matched[j] || o.idle[j] || !same_kind(&ev->v[j], &ev->v[i]))
                continue;
            if (extra++ < 8)
                print_error("%s: event %zu (%s) is not listed, but a later event of its kind "
                            "(event %zu) is\n", oracle, j,
                            test_event_same(&ev->v[j], &ev->v[i]) ? "a copy of it" : "extra", i);
        }
        /* A copy right after the last listed event of its kind. */
        if (i + 1 < ev->n && !matched[i + 1] && test_event_same(&ev->v[i + 1], &ev->v[i]) &&
            extra++ < 8)
            print_error("%s: event %zu delivered twice\n", oracle, i);
    }
    print_message("%s: %zu listed events matched one-to-one in order (%zu kernel events compared "
                  "without process/thread); %zu extra or doubled\n", oracle, rows, kernel, extra);
    assert_true(rows > 0);
    assert_int_equal(extra, 0);
    free(matched);
    free(o.idle);
    test_events_free(&o.ev);
}

static void primitive_types(void **s) { (void)s; check_oracle("primitive-types.etl", "primitive-types.baseline.txt"); }
static void gcevents(void **s) { (void)s; check_oracle("gcevents.etl", "gcevents.baseline.txt"); }
static void net452_compressed(void **s) { (void)s; check_oracle("net.4.5.2.x86.etl", "net.4.5.2.x86.baseline.txt"); }
static void net45_perfview(void **s) { (void)s; check_oracle("net.4.5.x86-PerfViewData.etl", "net.4.5.x86-PerfViewData.baseline.txt"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(primitive_types),
        cmocka_unit_test(gcevents),
        cmocka_unit_test(net452_compressed),
        cmocka_unit_test(net45_perfview),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
