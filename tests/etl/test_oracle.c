/* etwire against Microsoft's TraceEvent (which reads through Windows' own ETW consumer): every
 * event an oracle lists appears, in the same order, with the same relative time, processor and
 * payload length, and the same process and thread ids — except for the NT kernel's classic
 * events ("Windows Kernel/..."), whose process and thread TraceEvent rewrites from fields of the
 * payload (a Process/DCStart event carries the logging thread's ids in its header; TraceEvent
 * shows the started process and -1), which is decoding, not delivery. Relative times are
 * compared to within 1 µs: TraceEvent rounds a double, etwire's FILETIME is exact to 100 ns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

static void check_oracle(const char *trace, const char *oracle)
{
    const char *dir = test_corpus_dir();
    if (!dir) {
        print_message("../shared/corpus is absent: skipped\n");
        skip();
    }
    char tpath[4096], opath[4096];
    snprintf(tpath, sizeof tpath, "%s/traceevent/%s", dir, trace);
    snprintf(opath, sizeof opath, "%s/oracles/traceevent/%s", dir, oracle);
    test_events ev = {0};
    assert_int_equal(test_collect_file(tpath, &ev, NULL), ERROR_SUCCESS);
    FILE *f = fopen(opath, "r");
    assert_non_null(f);
    char line[8192];
    size_t pos = 0, rows = 0, kernel = 0;
    int64_t t0 = ev.v[0].time;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "EVENT ", 6) != 0)
            continue;
        oracle_row r;
        assert_int_equal(parse_row(line, &r), 0);
        int is_kernel = !strncmp(r.name, "Windows Kernel/", 15);
        size_t i = pos;
        for (; i < ev.n; i++) {
            const test_event *e = &ev.v[i];
            int64_t us = (e->time - t0 + (e->time >= t0 ? 5 : -5)) / 10;
            if (llabs(us - r.micros) > 1 || e->cpu != r.cpu || e->len != r.len)
                continue;
            if (!is_kernel && ((uint32_t)r.pid != e->pid || (uint32_t)r.tid != e->tid))
                continue;
            break;
        }
        if (i == ev.n) {
            print_error("%s: not found after event %zu: %s", oracle, pos, line);
            fail();
        }
        pos = i;
        rows++;
        kernel += (size_t)is_kernel;
    }
    fclose(f);
    print_message("%s: %zu listed events found in order (%zu kernel events compared without "
                  "process/thread)\n", oracle, rows, kernel);
    assert_true(rows > 0);
    test_events_free(&ev);
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
    return cmocka_run_group_tests(tests, NULL, NULL);
}
